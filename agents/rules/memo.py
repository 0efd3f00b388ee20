"""Facts derived from an inventory, computed once per inventory object.

The inventory is immutable and rules are pure, so a derived fact (exposures, a subject's
capabilities, a rule's findings) can be kept for as long as the inventory lives. Facts are kept
for the few most recent inventories only, so a long-lived service does not grow without bound.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from workflow.inventory import Inventory

__all__ = ["per_inventory"]

_T = TypeVar("_T")
_INVENTORIES_KEPT = 4

_lock = threading.Lock()
_facts: OrderedDict[int, tuple[Inventory, dict[Hashable, Any]]] = OrderedDict()


def per_inventory(name: Hashable, inv: Inventory, compute: Callable[[Inventory], _T]) -> _T:
    """The fact ``name`` of ``inv``: ``compute(inv)`` the first time, the same value after."""
    with _lock:
        held = _facts.get(id(inv))
        if held is None or held[0] is not inv:
            held = _facts[id(inv)] = (inv, {})
            while len(_facts) > _INVENTORIES_KEPT:
                _facts.popitem(last=False)
        else:
            _facts.move_to_end(id(inv))
        facts = held[1]
    if name in facts:
        return facts[name]  # type: ignore[no-any-return]
    value = facts[name] = compute(inv)
    return value

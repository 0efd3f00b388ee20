"""Facts derived from an inventory, computed once per inventory object.

The inventory is immutable and rules are pure, so a derived fact (exposures, a subject's
capabilities, a rule's findings) can be kept for as long as the inventory lives. Facts are kept
for the few most recent inventories only, so a long-lived service does not grow without bound.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from workflow.domain.inventory import Inventory
from workflow.recent import Recent

__all__ = ["per_inventory"]

_T = TypeVar("_T")

#: id of an inventory -> (that inventory, its facts by name), for the last few inventories.
_facts: Recent[int, tuple[Inventory, dict[Hashable, Any]]] = Recent(4)


def per_inventory(name: Hashable, inv: Inventory, compute: Callable[[Inventory], _T]) -> _T:
    """The fact ``name`` of ``inv``: ``compute(inv)`` the first time, the same value after."""
    facts = _facts.get_or_put(id(inv), lambda: (inv, {}), lambda held: held[0] is inv)[1]
    if name in facts:
        return facts[name]  # type: ignore[no-any-return]
    value = facts[name] = compute(inv)
    return value

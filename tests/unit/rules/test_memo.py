"""agents.rules.memo: a fact is computed once per inventory object, for a few inventories."""

from __future__ import annotations

from agents.rules import memo
from workflow.domain.inventory import Inventory, build_inventory


def _inventory() -> Inventory:
    return build_inventory([], [])


def test_a_fact_is_computed_once_per_inventory() -> None:
    """The same inventory object gets the first value; another inventory computes its own."""
    calls: list[int] = []

    def compute(inv: Inventory) -> int:
        calls.append(id(inv))
        return len(calls)

    first, second = _inventory(), _inventory()
    assert 1 == memo.per_inventory("count", first, compute)
    assert 1 == memo.per_inventory("count", first, compute)
    assert 2 == memo.per_inventory("count", second, compute)
    assert 3 == memo.per_inventory(("other", "name"), first, compute)
    assert 3 == len(calls)


def test_only_the_latest_inventories_are_kept() -> None:
    """Facts of older inventories are dropped (and computed again when asked)."""
    kept = [_inventory() for _ in range(memo._facts.size + 2)]
    for inv in kept:
        memo.per_inventory("n", inv, lambda _inv: 0)
    assert len(memo._facts) == memo._facts.size
    assert all(held[0] is inv for held, inv in zip(memo._facts.values(),
                                                    kept[-memo._facts.size:], strict=True))

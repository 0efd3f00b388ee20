"""workflow.recent.Recent: bounded, most recently used last, safe across threads."""

from __future__ import annotations

import threading

from workflow.recent import Recent


def test_the_least_recently_used_entry_goes_first() -> None:
    """Reading an entry keeps it; the oldest untouched one is dropped past the size."""
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert 1 == recent.get("a")
    recent.put("c", 3)
    assert (None, 1, 3) == (recent.get("b"), recent.get("a"), recent.get("c"))
    recent.pop("a")
    recent.pop("missing")
    assert [3] == recent.values()


def test_get_or_put_replaces_an_invalid_entry() -> None:
    """An entry that fails ``valid`` (a recycled id, say) is made anew."""
    recent: Recent[int, list[str]] = Recent(3)
    first = recent.get_or_put(1, lambda: ["first"])
    assert first is recent.get_or_put(1, lambda: ["second"])
    assert ["second"] == recent.get_or_put(1, lambda: ["second"], lambda v: v != ["first"])


def test_concurrent_writers_keep_the_bound() -> None:
    """Many threads putting at once never raise and never leave more than ``size`` entries."""
    recent: Recent[int, int] = Recent(4)
    errors: list[BaseException] = []

    def work(base: int) -> None:
        try:
            for i in range(2_000):
                recent.put(base * 10_000 + i, i)
                recent.get_or_put(base, lambda: 0)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [] == errors
    assert 4 == len(recent)

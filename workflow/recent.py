"""A small thread-safe map of the most recently used entries (the oldest go first).

ktmb keeps a few per-run or per-inventory things in memory (loaded inputs, dumped models, derived
facts); a long-lived service must not grow without bound, and runs execute on several threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["Recent"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """At most ``size`` entries; reading or writing an entry makes it the most recent."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The entry of ``key``, or None."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> V:
        """Set the entry of ``key`` (dropping the oldest entries past ``size``); returns it."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
            return value

    def get_or_put(self, key: K, make: Callable[[], V],
                   valid: Callable[[V], bool] = lambda _value: True) -> V:
        """The entry of ``key`` when there is a ``valid`` one, else a new one from ``make``."""
        with self._lock:
            value = self._items.get(key)
            if value is None or not valid(value):
                value = self._items[key] = make()
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
            return value

    def pop(self, key: K) -> None:
        """Drop the entry of ``key``, if any."""
        with self._lock:
            self._items.pop(key, None)

    def values(self) -> list[V]:
        """The entries, oldest first."""
        with self._lock:
            return list(self._items.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

"""The db-worker's heap settled once it is open (podium/plumbing/heap.py): what it made to
start is frozen out of the collector's passes, young passes are fewer, and a cycle made
afterwards is still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from podium.plumbing import heap


@pytest.fixture
def restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_settle_freezes_the_start_and_spaces_the_young_passes(restored: None) -> None:
    started = [Node() for _ in range(10)]
    heap.settle()
    assert gc.get_freeze_count() >= len(started)
    assert gc.get_threshold()[0] == heap.YOUNG_PASS
    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle made after: garbage the collector still finds
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    assert gone() is None

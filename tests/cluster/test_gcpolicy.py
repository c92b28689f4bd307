"""The worker's garbage-collection policy (cluster/worker/gcpolicy.py): full collections only
between requests, at most MAX_DEFER_SECONDS late, and CPython's own settings back on stop."""
from __future__ import annotations

import gc

import pytest

from cluster.worker.foreground import Foreground
from cluster.worker.gcpolicy import MAX_DEFER_SECONDS, NO_AUTOMATIC_FULL_COLLECTION, GenerationFreezer


@pytest.fixture
def collections():
    """The generations CPython collects from now on, in order."""
    seen: list[int] = []

    def callback(phase, info):
        if phase == "start":
            seen.append(info["generation"])
    gc.callbacks.append(callback)
    yield seen
    gc.callbacks.remove(callback)


def test_install_turns_automatic_full_collections_off_and_uninstall_restores_them():
    before = gc.get_threshold()
    freezer = GenerationFreezer()
    freezer.install()
    try:
        assert gc.get_threshold() == (before[0], before[1], NO_AUTOMATIC_FULL_COLLECTION)
    finally:
        freezer.uninstall()
    assert gc.get_threshold() == before


def test_a_full_collection_waits_while_a_request_is_in_flight_but_not_past_the_bound(collections, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("cluster.worker.gcpolicy.time.monotonic", lambda: clock[0])
    foreground = Foreground()
    freezer = GenerationFreezer(interval=1.0, foreground=foreground)

    clock[0] += 0.5
    freezer.maybe_freeze()
    assert 2 not in collections, "not before the interval"

    foreground.enter()
    clock[0] += 0.7  # 1.2 s since the last freeze: due, but a request is being answered
    freezer.maybe_freeze()
    assert 2 not in collections, "not while a request is in flight"

    clock[0] += MAX_DEFER_SECONDS  # overdue by more than the bound: collected anyway
    freezer.maybe_freeze()
    assert collections.count(2) == 1
    assert freezer.last == clock[0]

    foreground.leave()
    clock[0] += 1.0
    freezer.maybe_freeze()
    assert collections.count(2) == 2, "due and nothing in flight: collected at once"

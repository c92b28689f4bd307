"""metav1.Time / MicroTime strings as the server reads them back (ages in tables, TTLs, the
garbage collector): any RFC 3339 form a client may write, not only the server's own "Z" ones."""
from __future__ import annotations

import pytest

from sim.api.meta import micro_timestamp, parse_timestamp, timestamp
from sim.registry.printers import since


@pytest.mark.parametrize("text, seconds", [
    ("2026-01-01T00:01:00Z", 60.0),
    ("2026-01-01T00:01:00.5Z", 60.5),
    ("2026-01-01t00:01:00z", 60.0),
    ("2026-01-01T01:01:00+01:00", 60.0),
    ("2025-12-31T23:01:00-01:00", 60.0),
    # kopf stamps the Events it posts with Python's isoformat()
    ("2026-01-01T00:01:00.679893+00:00", 60.679893),
])
def test_rfc3339_forms(text, seconds):
    assert parse_timestamp(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", [None, "", "yesterday", "2026-13-01T00:00:00Z"])
def test_unreadable_is_none(text):
    assert parse_timestamp(text) is None


def test_the_servers_own_forms_round_trip():
    assert parse_timestamp(timestamp(90.7)) == 90.0
    assert parse_timestamp(micro_timestamp(90.25)) == 90.25


def test_an_event_from_a_client_has_an_age():
    assert since("2026-01-01T00:00:00.000001+00:00", 130.0) == "2m9s"


def test_decoding_writes_times_back_as_go_marshals_them():
    """metav1.Time comes back in UTC with whole seconds, MicroTime to the microsecond, as
    kube-apiserver stores what it decoded (kopf's Events, stamped by Python's isoformat())."""
    from sim.api.gotypes import decode
    from sim.api.schema import EVENT

    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e", "namespace": "default"},
             "firstTimestamp": "2026-12-06T08:07:58.679893+00:00",
             "lastTimestamp": "2026-12-06T09:07:58+01:00",
             "eventTime": "2026-12-06T09:07:58.6+01:00",
             "series": {"count": 2, "lastObservedTime": "2026-12-06T08:07:58Z"}}
    value = decode(event, EVENT).value
    assert value["firstTimestamp"] == "2026-12-06T08:07:58Z"
    assert value["lastTimestamp"] == "2026-12-06T08:07:58Z"
    assert value["eventTime"] == "2026-12-06T08:07:58.600000Z"
    assert value["series"]["lastObservedTime"] == "2026-12-06T08:07:58.000000Z"
    assert decode(dict(event, eventTime=None), EVENT).value["eventTime"] is None

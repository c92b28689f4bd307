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

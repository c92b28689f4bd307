"""A run's export document, the PilothouseRun (docs/timeline.md): its kind and apiVersion and
the check an import makes of it.  Pure (no Django, no worker), so that the worker's timeline
(cluster/worker/timeline.py: export, import, replay) and a lesson's saved moment
(sim/lessons/format.py, `from:`) read it with the same code.
"""
from __future__ import annotations

import json
from typing import Any

EXPORT_KIND = "PilothouseRun"
EXPORT_API_VERSION = "pilothouse.dev/v1alpha1"


class TimelineError(Exception):
    """A timeline request that cannot be answered: `reason` is a command error reason."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


def check_export(doc: Any) -> tuple[dict, list[dict], dict]:
    """(config, journal, end) of an export document, or TimelineError("Invalid", why)."""
    def bad(why: str):
        return TimelineError("Invalid", f"not a Pilothouse run export: {why}")
    if not isinstance(doc, dict):
        raise bad("it must be a JSON object")
    if doc.get("kind") != EXPORT_KIND or doc.get("apiVersion") != EXPORT_API_VERSION:
        raise bad(f'kind must be "{EXPORT_KIND}" and apiVersion "{EXPORT_API_VERSION}"')
    config, journal, end = doc.get("config"), doc.get("journal"), doc.get("end")
    if not isinstance(config, dict):
        raise bad("config: Required value")
    if not isinstance(journal, list):
        raise bad("journal must be a list")
    if not isinstance(end, dict):
        raise bad("end: Required value")
    last = (0.0, 0)
    entries = []
    for i, e in enumerate(journal):
        if not isinstance(e, dict) or not isinstance(e.get("op"), str) or not isinstance(e.get("args"), dict):
            raise bad(f"journal[{i}] must have an op and args")
        at = _point(e, f"journal[{i}]", bad)
        if at < last:
            raise bad(f"journal[{i}] comes before the entry ahead of it")
        last = at
        entries.append({"t": at[0], "events": at[1], "op": e["op"],
                        "args": json.dumps(e["args"], separators=(",", ":"))})
    end_at = _point(end, "end", bad)
    if end_at < last:
        raise bad("end comes before the last journal entry")
    return config, entries, {"time": end_at[0], "events": end_at[1], "etcdDigest": end.get("etcdDigest")}


def _point(e: dict, where: str, bad) -> tuple[float, int]:
    t, events = e.get("t", e.get("time")), e.get("events")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 <= t < 1e9 \
            or isinstance(events, bool) or not isinstance(events, int) or events < 0:
        raise bad(f"{where}: t (virtual seconds) and events (a count) are required")
    return float(t), events

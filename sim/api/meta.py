"""Object metadata helpers: timestamps from virtual time, uids, generated names.

Virtual time 0 is EPOCH (a fixed instant), so timestamps are deterministic too.
"""
from __future__ import annotations

import datetime as dt
import functools
import marshal
import uuid
from typing import Any

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

# utilrand.String's alphabet (k8s.io/apimachinery/pkg/util/rand): no vowels, no confusables.
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def timestamp(now: float) -> str:
    """metav1.Time: RFC 3339, whole seconds."""
    return (EPOCH + dt.timedelta(seconds=int(now))).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_timestamp(now: float) -> str:
    """metav1.MicroTime: RFC 3339 with microseconds."""
    return (EPOCH + dt.timedelta(microseconds=round(now * 1e6))).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc3339_nano(now: float) -> str:
    """time.RFC3339Nano as the kubelet's log timestamps print it: nanoseconds, trailing zeros
    dropped ("2026-01-01T00:00:05.123456789Z", "2026-01-01T00:00:05Z")."""
    whole = int(now // 1)
    nanos = int(round((now - whole) * 1e9))
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    base = (EPOCH + dt.timedelta(seconds=whole)).strftime("%Y-%m-%dT%H:%M:%S")
    frac = f".{nanos:09d}".rstrip("0") if nanos else ""
    return f"{base}{frac}Z"


def parse_timestamp(value: str | None) -> float | None:
    """Virtual seconds of a metav1.Time or MicroTime string (None if absent or unreadable)."""
    if not value or not isinstance(value, str):
        return None
    return _parse_timestamp(value)


@functools.lru_cache(maxsize=8192)
def _parse_timestamp(value: str) -> float | None:
    # Cached: timestamps have a second's resolution and repeat across thousands of objects
    # (the apiserver's event TTL sweep reads every Event's creationTimestamp each minute).
    # Any RFC 3339 time, as metav1.Time.UnmarshalJSON takes it: clients write other offsets and
    # fractions than the server's own "Z" forms (kopf posts Events stamped "...58.679893+00:00").
    try:
        t = dt.datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] in "zZ" else value)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return (t - EPOCH).total_seconds()


def new_uid(rng) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def random_suffix(rng, n: int = 5) -> str:
    return "".join(rng.choice(NAME_ALPHABET) for _ in range(n))


def key_of(obj: dict[str, Any]) -> tuple[str, str]:
    md = obj["metadata"]
    return md.get("namespace") or "", md["name"]


def deep_copy(obj: Any) -> Any:
    """A deep copy of JSON-shaped data (dict/list/scalars): through marshal, in C, about twice as
    fast as the recursion below (this was the engine's busiest function: every write copies the
    stored object).  Version 2 of marshal's format has no shared references, so a structure that
    appears twice in `obj` becomes two independent copies, as with the recursion.  Anything
    marshal cannot carry (a dict subclass, an object) takes the recursion, which shares it."""
    if isinstance(obj, (dict, list)):
        try:
            return marshal.loads(marshal.dumps(obj, 2))
        except ValueError:
            return _deep_copy(obj)
    return obj


def _deep_copy(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _deep_copy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_deep_copy(v) for v in obj]
    return obj

"""Durations as the simulator control API accepts them: Go-style strings or plain seconds.

"400s", "5m", "1h30m", "1.5s", "250ms" (Go's time.ParseDuration units, as kubectl flags use) or a
number of seconds (400, 2.5, "400").
"""
from __future__ import annotations

import math
import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)")


def parse_duration(value: object) -> float:
    """Seconds in `value`; ValueError with a readable message when it is not a duration."""
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            seconds = float(text)
        except ValueError:
            pos, seconds = 0, 0.0
            if not text:
                raise ValueError("invalid duration ''") from None
            while pos < len(text):
                m = _PART.match(text, pos)
                if m is None:
                    raise ValueError(
                        f"invalid duration {value!r}: use a number of seconds or units "
                        "h, m, s, ms (e.g. 400s, 5m, 1h30m)"
                    ) from None
                seconds += float(m.group(1)) * _UNITS[m.group(2)]
                pos = m.end()
    else:
        raise ValueError(f"invalid duration {value!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"invalid duration {value!r}: must be a finite, non-negative time")
    return seconds

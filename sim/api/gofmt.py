"""How Go prints what upstream's messages quote, so the simulator's messages read the same:
`%q` of a string, `%#v` of a []string, and utilerrors.NewAggregate(errs).Error()."""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Iterable


def go_quote(s: str) -> str:
    """%q of a string (the characters these messages carry)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def go_strings(values: Iterable[str] | None) -> str:
    """%#v of a []string (nil for None)."""
    if values is None:
        return "[]string(nil)"
    return "[]string{" + ", ".join(go_quote(v) for v in values) + "}"


def aggregate(messages: list[str]) -> str:
    """utilerrors.NewAggregate(...).Error(): one message as it is, several deduplicated in []."""
    seen: list[str] = []
    for m in messages:
        if m not in seen:
            seen.append(m)
    return seen[0] if len(seen) == 1 else "[" + ", ".join(seen) + "]"



def go_float(f: float) -> str:
    """%v of a float64 (strconv.FormatFloat(f, 'g', -1, 64)): the shortest round-tripping
    digits, in exponent form when the exponent is below -4 or at least 6 (1e+06, 2.5e-05)."""
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    t = Decimal(repr(abs(f))).normalize().as_tuple()   # repr is Python's shortest round trip too
    ds = "".join(map(str, t.digits))
    exp10 = len(ds) + t.exponent - 1
    sign = "-" if f < 0 else ""
    if exp10 < -4 or exp10 >= 6:
        m = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        return f"{sign}{m}e{'+' if exp10 >= 0 else '-'}{abs(exp10):02d}"
    if exp10 < 0:
        return f"{sign}0.{'0' * (-exp10 - 1)}{ds}"
    if len(ds) <= exp10 + 1:
        return sign + ds + "0" * (exp10 + 1 - len(ds))
    return f"{sign}{ds[:exp10 + 1]}.{ds[exp10 + 1:]}"


def go_duration(seconds: float) -> str:
    """time.Duration.String() for whole and fractional seconds: "10s", "1m20s", "5m0s",
    "1h0m0s", "500ms"."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{go_float(round(seconds * 1000, 3))}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{go_float(round(secs, 9))}s"
    if hours:
        return f"{int(hours)}h{int(minutes)}m{text}"
    if minutes:
        return f"{int(minutes)}m{text}"
    return text


def go_bytes(data: bytes | None) -> str:
    """%#v of a []byte: []byte{0x2d, 0x2d} ([]byte(nil) for nil), as field.Invalid prints a
    []byte value it was handed (a CertificateSigningRequest's spec.request)."""
    if data is None:
        return "[]byte(nil)"
    return "[]byte{" + ", ".join(f"0x{b:x}" for b in data) + "}"

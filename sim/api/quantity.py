"""resource.Quantity as Kubernetes parses it (k8s.io/apimachinery/pkg/api/resource/quantity.go).

`<signedNumber><suffix>` where the suffix is binary (Ki Mi Gi Ti Pi Ei), decimal SI
(n u m "" k M G T P E) or a decimal exponent (e3, E-2).
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
            "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
            "P": Decimal("1e15"), "E": Decimal("1e18")}
_RE = re.compile(r"^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))((?:[KMGTPE]i)|[numkMGTPE]?|[eE][+-]?[0-9]+)$")

QUANTITY_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


class QuantityError(ValueError):
    pass


def parse_quantity(value) -> Decimal:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    if not isinstance(value, str):
        raise QuantityError(QUANTITY_ERROR)
    m = _RE.match(value.strip())
    if not m:
        raise QuantityError(QUANTITY_ERROR)
    try:
        number = Decimal(m.group(1))
    except InvalidOperation as e:  # pragma: no cover - the regex admits only numbers
        raise QuantityError(QUANTITY_ERROR) from e
    suffix = m.group(2)
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return number * (Decimal(10) ** int(suffix[1:]))


def milli_value(value) -> int:
    """MilliValue(), rounding up as Kubernetes does (0.1m -> 1m)."""
    q = parse_quantity(value) * 1000
    return int(q.to_integral_value(rounding="ROUND_CEILING"))


def value(value) -> int:
    """Value(): the integer value, rounded up."""
    return int(parse_quantity(value).to_integral_value(rounding="ROUND_CEILING"))


def format_cpu(milli: int) -> str:
    return f"{milli // 1000}" if milli % 1000 == 0 else f"{milli}m"


def format_memory(n: int) -> str:
    for suffix, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if n and n % size == 0:
            return f"{n // size}{suffix}"
    return str(n)

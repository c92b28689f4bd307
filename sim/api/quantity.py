"""resource.Quantity as Kubernetes parses it (k8s.io/apimachinery/pkg/api/resource/quantity.go,
suffix.go).

`<signedNumber><suffix>` where the suffix is binary (Ki Mi Gi Ti Pi Ei), decimal SI
(n u m "" k M G T P E) or a decimal exponent (e3, E-2).  Upstream accepts any magnitude: a
binary-SI amount is capped at 2^63-1, a decimal one is kept as an arbitrary-precision inf.Dec
(so "1e309" and "1e100" are valid quantities); Value()/MilliValue() then overflow int64 in Go.
Here they saturate at the int64 bounds instead, so the scheduler and kubelet see a request no
node can fit rather than a wrapped-around number.
"""
from __future__ import annotations

import re
from decimal import Context, Decimal, InvalidOperation

_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
SPLIT_RE = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"

QUANTITY_ERROR = f"quantities must match the regular expression '{SPLIT_RE}'"  # ErrFormatWrong
NUMERIC_ERROR = "unable to parse numeric part of quantity"                   # ErrNumeric
SUFFIX_ERROR = "unable to parse quantity's suffix"                            # ErrSuffix

INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)
_MAX_ALLOWED = Decimal(INT64_MAX)  # maxAllowed: the cap of a binary-SI amount
# An exponent is an int32 upstream: a Decimal context wide enough for any of them, so that
# "1e2000000000" is one small Decimal and never a 2-billion-digit integer.
_CONTEXT = Context(prec=80, Emax=10**10, Emin=-10**10)
_SUFFIX_CHARS = set("eEinumkKMGTP")


class QuantityError(ValueError):
    pass


def _split(text: str) -> tuple[bool, str, str, str, str]:
    """parseQuantityString: (positive, value, numerator, denominator, suffix), as upstream's
    fast scanner splits them (it is more permissive than SPLIT_RE says: "1." and ".5" parse)."""
    positive, pos, end = True, 0, len(text)
    if pos < end and text[0] in "+-":
        positive = text[0] == "+"
        pos += 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "0", "", ""
    start = pos
    while pos < end and text[pos].isdigit() and text[pos].isascii():
        pos += 1
    num = text[start:pos] or "0"
    denom = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos].isdigit() and text[pos].isascii():
            pos += 1
        denom = text[start:pos]
    value = text[:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos].isdigit() and text[pos].isascii():
        pos += 1
    if pos < end:
        raise QuantityError(QUANTITY_ERROR)
    return positive, value, num, denom, text[suffix_start:]


def _interpret(suffix: str) -> tuple[int, int]:
    """suffixHandler.interpret: (base, exponent)."""
    if suffix in _DECIMAL:
        return 10, _DECIMAL[suffix]
    if suffix in _BINARY:
        return 2, _BINARY[suffix]
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[1:]
        if not re.fullmatch(r"[+-]?[0-9]+", digits) or not INT64_MIN <= int(digits) <= INT64_MAX:
            raise QuantityError(SUFFIX_ERROR)
        exponent = int(digits) & 0xFFFFFFFF  # int32(parsed): Go truncates the int64
        return 10, exponent - (1 << 32) if exponent >= 1 << 31 else exponent
    raise QuantityError(SUFFIX_ERROR)


def parse_quantity(value) -> Decimal:
    """ParseQuantity.  A JSON number is parsed from its text, as Quantity.UnmarshalJSON does."""
    if isinstance(value, bool) or value is None:
        raise QuantityError(QUANTITY_ERROR)
    if isinstance(value, float):
        value = getattr(value, "literal", None) or repr(value)
    elif isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise QuantityError(QUANTITY_ERROR)
    if value == "0":
        return Decimal(0)
    positive, number, num, denom, suffix = _split(value)
    base, exponent = _interpret(suffix)
    digits = number.lstrip("+-")
    try:
        amount = Decimal(digits if digits.strip(".") else "0", context=_CONTEXT)
    except InvalidOperation:
        raise QuantityError(NUMERIC_ERROR) from None
    if not amount.is_finite():
        raise QuantityError(NUMERIC_ERROR)
    if base == 10:
        amount = amount.scaleb(exponent, context=_CONTEXT)
    else:
        amount = amount * (1 << exponent)
        if amount > _MAX_ALLOWED:
            amount = _MAX_ALLOWED
    if amount != 0:  # rounded up to the nano scale: 0.1n is 1n
        amount = amount.quantize(Decimal("1e-9"), rounding="ROUND_UP", context=_CONTEXT) \
            if amount.adjusted() < 40 else amount
    return amount if positive else -amount


def _saturated(d: Decimal) -> int:
    if d > INT64_MAX:
        return INT64_MAX
    if d < INT64_MIN:
        return INT64_MIN
    return int(d.to_integral_value(rounding="ROUND_CEILING"))


def milli_value(value) -> int:
    """MilliValue(), rounding up as Kubernetes does (0.1m -> 1m), saturated at int64."""
    return _saturated(parse_quantity(value).scaleb(3, context=_CONTEXT))


def value(value) -> int:
    """Value(): the integer value, rounded up, saturated at int64."""
    return _saturated(parse_quantity(value))


def format_cpu(milli: int) -> str:
    return f"{milli // 1000}" if milli % 1000 == 0 else f"{milli}m"


def format_memory(n: int) -> str:
    for suffix, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if n and n % size == 0:
            return f"{n // size}{suffix}"
    return str(n)


# -- Quantity.String(): the canonical form (quantity.go CanonicalizeBytes) ---------------------
DECIMAL_SI, BINARY_SI, DECIMAL_EXPONENT = "DecimalSI", "BinarySI", "DecimalExponent"
_DECIMAL_SUFFIX = {v: k for k, v in _DECIMAL.items()}
_BINARY_SUFFIX = {v: k for k, v in _BINARY.items()}


def quantity_format(value) -> str:
    """The Format a parsed quantity keeps: BinarySI for Ki..Ei, DecimalExponent for e/E, else
    DecimalSI."""
    if isinstance(value, str):
        suffix = _split(value)[4]
        if suffix in _BINARY:
            return BINARY_SI
        if suffix and suffix[0] in "eE" and suffix not in _DECIMAL:
            return DECIMAL_EXPONENT
    return DECIMAL_SI


def format_quantity(amount: Decimal, fmt: str = DECIMAL_SI) -> str:
    """Quantity.String() of `amount` in format `fmt`: "0", "500m", "2k", "1536Mi", "1e3"."""
    if amount == 0:
        return "0"
    if fmt == BINARY_SI:
        if -1024 < amount < 1024 or amount != amount.to_integral_value():
            fmt = DECIMAL_SI
        else:
            n, exp = int(amount), 0
            while exp < 60 and n % 1024 == 0:
                n //= 1024
                exp += 10
            return f"{n}{_BINARY_SUFFIX.get(exp, '')}"
    # AsCanonicalBytes: an integer mantissa, the exponent a multiple of 3 (as large as exact)
    sign, digits, exponent = amount.normalize(_CONTEXT).as_tuple()
    mantissa = int("".join(map(str, digits)) or "0")
    # exponent may not be a multiple of 3: lower it to the next multiple below
    shift = exponent % 3
    mantissa *= 10 ** shift
    exponent -= shift
    if exponent < -9:  # nano is the smallest scale a quantity keeps (rounded up on parse)
        factor = 10 ** (-9 - exponent)
        mantissa, exponent = -(-mantissa // factor), -9
    while exponent > 18 or (exponent > 0 and fmt == DECIMAL_SI and exponent not in _DECIMAL_SUFFIX):
        mantissa *= 1000
        exponent -= 3
    text = f"{'-' if sign else ''}{mantissa}"
    if fmt == DECIMAL_EXPONENT:
        return text if exponent == 0 else f"{text}e{exponent}"
    return text + _DECIMAL_SUFFIX[exponent]


def canonical(value) -> str:
    """Quantity.String() of a quantity as written ("1000m" -> "1", "2048Mi" -> "2Gi")."""
    return format_quantity(parse_quantity(value), quantity_format(value))

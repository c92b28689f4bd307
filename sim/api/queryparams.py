"""Query parameters read as kube-apiserver reads them: decoded into ListOptions, GetOptions,
DeleteOptions, CreateOptions ... by the parameter codec (metainternalversionscheme.ParameterCodec,
staging/src/k8s.io/apimachinery/pkg/runtime/conversion.go), whose failure is a 400 BadRequest
carrying strconv's error.  A boolean never fails there (Convert_Slice_string_To_bool: only
"false", "0" or no value are false).
"""
from __future__ import annotations

INT64_PARAMS = ("limit", "timeoutSeconds", "gracePeriodSeconds")
INT64_MAX = (1 << 63) - 1


def parse_int64(text: str) -> int:
    """strconv.ParseInt(text, 10, 64); ValueError worded as Go's *NumError."""
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        raise ValueError(f'strconv.ParseInt: parsing "{text}": invalid syntax')
    if len(body) > 19 or not -INT64_MAX - 1 <= int(text) <= INT64_MAX:
        raise ValueError(f'strconv.ParseInt: parsing "{text}": value out of range')
    return int(text)


def resource_version_error(text: str) -> str | None:
    """APIObjectVersioner.ParseResourceVersion (storage/etcd3): "" and "0" mean "any"; anything
    else must be a uint64."""
    if text in ("", "0"):
        return None
    if text.isascii() and text.isdigit() and len(text) <= 20 and int(text) < 1 << 64:
        return None
    why = "value out of range" if text.isascii() and text.isdigit() else "invalid syntax"
    return f'resourceVersion: Invalid value: "{text}": strconv.ParseUint: parsing "{text}": {why}'


def query_error(query: dict[str, str]) -> str | None:
    """The BadRequest message for the first parameter the options cannot hold, or None."""
    for name in INT64_PARAMS:
        if name in query:
            try:
                parse_int64(query[name])
            except ValueError as e:
                return str(e)
    if "resourceVersion" in query:
        return resource_version_error(query["resourceVersion"])
    return None


def is_true(value: str | None) -> bool:
    """Convert_Slice_string_To_bool, and requestinfo.go's test of ?watch: present and not
    "false"/"0" is true."""
    return value is not None and value.lower() not in ("false", "0")

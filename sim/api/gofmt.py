"""How Go prints what upstream's messages quote, so the simulator's messages read the same:
`%q` of a string, `%#v` of a []string, and utilerrors.NewAggregate(errs).Error()."""
from __future__ import annotations

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

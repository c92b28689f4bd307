"""Server-side printing: the meta.k8s.io/v1 Table that kubectl asks for with
`Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json`.

Each kind brings its printer (sim/registry/<group>/<kind>.py; columns and cells as
pkg/printers/internalversion/printers.go upstream: the server always prints the wide set and
kubectl hides columns with priority > 0 unless `-o wide`); a custom kind's columns are its
CRD's additionalPrinterColumns (sim/registry/printers.py columns_printer); any other kind gets
NAME and AGE.  Ages are measured against the cluster's VIRTUAL clock.
"""
from __future__ import annotations

from sim.registry.printers import Printer, columns_printer, name_age_printer

TABLE_API_VERSION = "meta.k8s.io/v1"


def wants_table(accept: str) -> str | None:
    """The meta.k8s.io apiVersion of the Table the client accepts ("meta.k8s.io/v1", or
    "meta.k8s.io/v1beta1" for old clients), or None when it did not ask for a Table."""
    offered = set()
    for part in accept.split(","):
        params = {p.strip() for p in part.split(";")[1:]}
        if "as=Table" in params and "g=meta.k8s.io" in params:
            offered |= {p[2:] for p in params if p.startswith("v=")}
    if "v1" in offered:
        return "meta.k8s.io/v1"
    if "v1beta1" in offered:
        return "meta.k8s.io/v1beta1"
    return None


def printer_of(res) -> Printer:
    """The kind's own printer, its CRD's columns, or NAME/AGE."""
    if res is not None and res.printer is not None:
        return res.printer
    if res is not None and res.additional_printer_columns:
        return columns_printer(res.additional_printer_columns)
    return name_age_printer()


def _row_object(obj: dict, kind: str, api_version: str, include_object: str) -> dict | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return {"kind": kind, "apiVersion": api_version, **obj}
    return {"kind": "PartialObjectMetadata", "apiVersion": TABLE_API_VERSION, "metadata": obj.get("metadata", {})}


def to_table(rr, body: dict, now: float, include_object: str = "Metadata",
             api_version: str = TABLE_API_VERSION) -> dict | None:
    """The Table for a get (one object) or list response body; None for a subresource."""
    if rr.subresource is not None:
        return None
    printer = printer_of(rr.res)
    columns, row_fn = printer.columns, printer.row
    if rr.verb == "list":
        items = body.get("items", [])
        metadata = {k: v for k, v in (body.get("metadata") or {}).items() if k in ("resourceVersion", "continue", "remainingItemCount")}
    else:
        items = [body]
        metadata = {"resourceVersion": body.get("metadata", {}).get("resourceVersion", "")}
    rows = []
    for obj in items:
        row = {"cells": row_fn(obj, now)}
        ro = _row_object(obj, rr.kind, rr.api_version, include_object)
        if ro is not None:
            row["object"] = ro
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": api_version,
        "metadata": metadata,
        "columnDefinitions": columns,
        "rows": rows,
    }

"""Server-side printing: the meta.k8s.io Table that kubectl asks for with
`Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json`.

kube-apiserver converts a get or list response to a Table itself (handlers/response.go's
transformResponseObject, through each kind's TableConvertor) before it encodes it, so the rows
cross the wire and the full objects do not.  The apiserver here does the same (a request with
"as": {"table": ...}, see KubeAPIServer.handle); the HTTP front end's watch streams use the same
conversion for `kubectl get -w`.

Each kind brings its printer (sim/registry/<group>/<kind>.py; columns and cells as
pkg/printers/internalversion/printers.go upstream: the server always prints the wide set and
kubectl hides columns with priority > 0 unless `-o wide`); a custom kind's columns are its
CRD's additionalPrinterColumns (printers.columns_printer); any other kind gets NAME and AGE.
Ages are measured against the cluster's VIRTUAL clock.
"""
from __future__ import annotations

from dataclasses import dataclass

from sim.registry.printers import Printer, columns_printer, name_age_printer

TABLE_API_VERSION = "meta.k8s.io/v1"
INCLUDE_OBJECT = ("None", "Metadata", "Object")  # metav1.IncludeObjectPolicy


@dataclass(frozen=True)
class TableRequest:
    """What the client asked for: the Table's apiVersion (meta.k8s.io/v1, or v1beta1 for old
    clients) and ?includeObject= (what each row carries of its object)."""
    api_version: str = TABLE_API_VERSION
    include_object: str = "Metadata"

    def to_json(self) -> dict:
        return {"apiVersion": self.api_version, "includeObject": self.include_object}

    @classmethod
    def from_json(cls, raw) -> "TableRequest | None":
        if not isinstance(raw, dict):
            return None
        version = raw.get("apiVersion")
        if version not in ("meta.k8s.io/v1", "meta.k8s.io/v1beta1"):
            return None
        include = raw.get("includeObject")
        return cls(version, include if include in INCLUDE_OBJECT else "Metadata")


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


def to_table(res, body: dict, *, is_list: bool, now: float, api_version: str,
             table: TableRequest = TableRequest()) -> dict:
    """The Table of a get (one object, `is_list` False) or list response body of kind `res`,
    served at `api_version` (the group/version the client asked for: rows' objects carry it)."""
    printer = printer_of(res)
    columns, row_fn = printer.columns, printer.row
    kind = res.kind if res is not None else ""
    if is_list:
        items = body.get("items", [])
        metadata = {k: v for k, v in (body.get("metadata") or {}).items() if k in ("resourceVersion", "continue", "remainingItemCount")}
    else:
        items = [body]
        metadata = {"resourceVersion": body.get("metadata", {}).get("resourceVersion", "")}
    rows = []
    version = api_version.rpartition("/")[2]
    for obj in items:
        row = {"cells": row_fn(obj, now)}
        if res is not None and table.include_object == "Object":
            obj = res.to_version(obj, version)   # the row's object as served at the version asked for
        ro = _row_object(obj, kind, api_version, table.include_object)
        if ro is not None:
            row["object"] = ro
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": table.api_version,
        "metadata": metadata,
        "columnDefinitions": columns,
        "rows": rows,
    }

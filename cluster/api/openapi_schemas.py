"""The built-in kinds' OpenAPI schemas, as kube-apiserver publishes them, for the Kubernetes
release the server reports (discovery.KUBERNETES_VERSION: one setting moves both).

Source: the `kubernetes-validate` package (PyPI, Apache-2.0, pinned in requirements.txt).  For
each release it ships `kubernetes-json-schema/v<release>.0-local/_definitions.json`: the
`definitions` of upstream's api/openapi-spec/swagger.json (kubernetes/kubernetes at that tag)
run through openapi2jsonschema, with every description, `required`, `format` and
`x-kubernetes-*` extension kept.  That conversion changed a few things, undone here so the
definitions read as upstream's swagger.json does:

- every `type` became `[T, "null"]`: back to `T`;
- `$ref`s point into `#/$defs/`: back to `#/definitions/` (OpenAPI v2);
- `apiVersion` and `kind` of each top-level kind got a one-value `enum`: dropped;
- IntOrString and Quantity became `oneOf` without their descriptions: back to swagger's
  `{type: string, format: int-or-string}` and `{type: string}` (the descriptions are lost).

What is NOT recoverable: the two descriptions above, and upstream's "Possible enum values"
(this source has none).  openapi_v3.py turns these v2 definitions into v3 schemas the way
kube-openapi does.
"""
from __future__ import annotations

import copy
import importlib.util
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from cluster.api import openapi_metrics
from cluster.api.discovery import KUBERNETES_VERSION

# "1.32": the schemas follow the version /version reports.
SCHEMA_RELEASE = f"{KUBERNETES_VERSION['major']}.{KUBERNETES_VERSION['minor'].rstrip('+')}"

DEFS = "#/definitions/"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
LIST_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
# What every group-version's operations refer to besides its kinds (kube-apiserver's
# installer: delete bodies and answers, watch events, patch bodies).
COMMON = ("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
          "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent", "io.k8s.apimachinery.pkg.apis.meta.v1.Patch")
# The kinds a subresource reads and writes when it is not the parent's kind
# (discovery._SUBRESOURCE_KIND, by group/version/kind).
SUBRESOURCE_GVK = {"binding": ("", "v1", "Binding"), "scale": ("autoscaling", "v1", "Scale"),
                   "eviction": ("policy", "v1", "Eviction")}


def _normalize(node: Any) -> Any:
    """Undo openapi2jsonschema's widening, recursively (see the module's docstring)."""
    if isinstance(node, list):
        return [_normalize(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "type" and isinstance(value, list):
            value = next((t for t in value if t != "null"), "object")
        elif key == "$ref" and isinstance(value, str):
            value = DEFS + value.rsplit("/", 1)[-1]
        elif key in ("properties", "patternProperties", "definitions") and isinstance(value, dict):
            value = {name: _normalize(schema) for name, schema in value.items()}
            out[key] = value
            continue
        out[key] = _normalize(value)
    return out


@lru_cache(maxsize=4)
def upstream_definitions(release: str = SCHEMA_RELEASE) -> dict[str, dict]:
    """{definition name: schema} as upstream's swagger.json `definitions` for `release`."""
    # Located, not imported: the package's __init__ pulls in jsonschema & co. (~150 ms), and
    # only its data is wanted.
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("kubernetes-validate is not installed (requirements.txt)")
    path = (Path(spec.submodule_search_locations[0]) / "kubernetes-json-schema"
            / f"v{release}.0-local" / "_definitions.json")
    raw = json.loads(path.read_text())["$defs"]
    defs = {name: _normalize(schema) for name, schema in raw.items()}
    for schema in defs.values():
        if schema.get("x-kubernetes-group-version-kind"):
            for field in ("apiVersion", "kind"):
                prop = schema.get("properties", {}).get(field)
                if prop is not None and len(prop.get("enum", ())) == 1:
                    del prop["enum"]
    defs[INT_OR_STRING] = {"type": "string", "format": "int-or-string"}
    defs[QUANTITY] = {"type": "string"}
    defs.update(openapi_metrics.DEFINITIONS)  # the aggregated metrics.k8s.io's, merged as upstream's aggregator does
    return defs


@lru_cache(maxsize=4)
def _by_gvk(release: str) -> dict[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, schema in upstream_definitions(release).items():
        for gvk in schema.get("x-kubernetes-group-version-kind", ()):
            # DeleteOptions, WatchEvent... carry one GVK per group: the first owner wins, and
            # a kind's own definition is the one whose GVK list is short.
            index.setdefault((gvk["group"], gvk["version"], gvk["kind"]), name)
    return index


def definition_for(group: str, version: str, kind: str, release: str = SCHEMA_RELEASE) -> str | None:
    return _by_gvk(release).get((group, version, kind))


def refs(node: Any) -> Iterable[str]:
    """The definition names a schema refers to (#/definitions/<name>)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.rsplit("/", 1)[-1]
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def closure(roots: Iterable[str], defs: dict[str, dict]) -> dict[str, dict]:
    """`roots` and every definition they refer to, transitively (sorted by name, as
    kube-openapi writes them)."""
    seen: dict[str, dict] = {}
    todo = [r for r in roots if r in defs]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen[name] = defs[name]
        todo.extend(r for r in refs(defs[name]) if r in defs and r not in seen)
    return dict(sorted(seen.items()))


# -- custom resources ---------------------------------------------------------------------------
def crd_definition_name(group: str, version: str, kind: str) -> str:
    """apiextensions-apiserver's name for a CRD's definition (controller/openapi/builder:
    the group reversed, then version and kind): stable.example.com/v1 CronTab is
    com.example.stable.v1.CronTab."""
    return ".".join([*reversed(group.split(".")), version, kind])


def crd_definitions(resource) -> dict[str, dict]:
    """A custom resource's definition and its List's (`resource.openapi_schema` is the CRD's
    openAPIV3Schema), shaped as the CRD builder publishes them: apiVersion, kind and metadata
    filled in with upstream's descriptions, the group-version-kind attached."""
    defs = upstream_definitions()
    kind_props = defs["io.k8s.api.core.v1.Pod"]["properties"]  # the same texts on every kind
    name = crd_definition_name(resource.group, resource.version, resource.kind)
    schema = copy.deepcopy(resource.openapi_schema or {})
    schema.setdefault("type", "object")
    props = schema.setdefault("properties", {})
    props["apiVersion"] = copy.deepcopy(kind_props["apiVersion"])
    props["kind"] = copy.deepcopy(kind_props["kind"])
    props["metadata"] = copy.deepcopy(kind_props["metadata"])
    schema["x-kubernetes-group-version-kind"] = [
        {"group": resource.group, "kind": resource.kind, "version": resource.version}]
    list_props = defs["io.k8s.api.core.v1.PodList"]["properties"]
    list_schema = {
        "description": f"{resource.kind}List is a list of {resource.kind}",
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": copy.deepcopy(list_props["apiVersion"]),
            "items": {"description": f"List of {resource.name}. More info: "
                                     "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md",
                      "type": "array", "items": {"$ref": DEFS + name}},
            "kind": copy.deepcopy(list_props["kind"]),
            "metadata": copy.deepcopy(list_props["metadata"]),
        },
        "x-kubernetes-group-version-kind": [
            {"group": resource.group, "kind": f"{resource.kind}List", "version": resource.version}],
    }
    return {name: schema, f"{name}List": list_schema}


# -- what a set of served resources needs -----------------------------------------------------
def kind_definition(resource) -> str | None:
    if getattr(resource, "openapi_schema", None) is not None:
        return crd_definition_name(resource.group, resource.version, resource.kind)
    return definition_for(resource.group, resource.version, resource.kind)


def list_definition(resource) -> str | None:
    if getattr(resource, "openapi_schema", None) is not None:
        return crd_definition_name(resource.group, resource.version, resource.kind) + "List"
    return definition_for(resource.group, resource.version, f"{resource.kind}List")


def subresource_definition(resource, sub: str) -> str | None:
    if sub in SUBRESOURCE_GVK:
        return definition_for(*SUBRESOURCE_GVK[sub])
    return kind_definition(resource)


def definitions_for(resources: Iterable) -> dict[str, dict]:
    """Every definition the given resources' documents need: their kinds, lists and
    subresource kinds (upstream's for built-ins, the CRD's own for custom resources), the
    common meta kinds, and all they refer to."""
    defs = dict(upstream_definitions())
    roots = list(COMMON)
    for r in resources:
        if getattr(r, "openapi_schema", None) is not None:
            defs.update(crd_definitions(r))
        roots += [kind_definition(r), list_definition(r)]
        roots += [subresource_definition(r, sub) for sub in r.subresources]
    return closure([name for name in roots if name], defs)

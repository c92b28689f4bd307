"""Form fields -> Kubernetes objects.

Validation is the API server's job: a bad name, a negative CPU request or a duplicate name is
passed through as typed so the user sees the API's own error (its Status message).  Only what
cannot even be expressed as an object is refused here (replicas that are not a whole number, a
nodeSelector that is not key=value, a label selector that does not parse).

The pod form's scheduling fields come in rows (a field name repeated, one value per row, as a
QueryDict's getlist gives them; plain dicts in tests may hold a list or a single value):

    tolerations         tol_key, tol_operator (Equal|Exists), tol_value, tol_effect, tol_seconds
    node affinity       na_mode (required|preferred), na_weight, na_key, na_operator, na_values
                        (required rows are ANDed in one nodeSelectorTerm; each preferred row is
                        one weighted term)
    pod (anti-)affinity pa_type (podAffinity|podAntiAffinity), pa_mode, pa_weight,
                        pa_topology_key, pa_selector (a label selector string, "app=web")
    topology spread     tsc_max_skew, tsc_topology_key, tsc_when (DoNotSchedule|ScheduleAnyway),
                        tsc_selector
    priority_class      spec.priorityClassName

A row whose key (topology key, type) is empty is ignored.  An empty selector means "pods like
this one": the pod's own labels (a ReplicaSet's template labels).
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from sim.api.selectors import SelectorError, parse_label_selector


class FormError(ValueError):
    """Input that cannot be turned into an object at all."""


DEFAULT_IMAGE = "nginx:1.27"


def _field(data: Mapping[str, Any], name: str, default: str = "") -> str:
    value = data.get(name, default)
    return str(value if value is not None else default).strip()


def container_name(image: str) -> str:
    """A DNS-1123 container name from an image reference: "docker.io/library/nginx:1.27" -> "nginx"."""
    base = image.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0].lower()
    base = re.sub(r"[^a-z0-9-]+", "-", base).strip("-")[:63].strip("-")
    return base or "app"


def requests_of(data: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for key in ("cpu", "memory"):
        value = _field(data, key)
        if value:
            out[key] = value
    return out


def key_values(text: str, what: str = "nodeSelector") -> dict[str, str]:
    """"disktype=ssd" or "a=b, c=d" (commas or new lines) -> {"disktype": "ssd"}; empty -> {}."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in re.split(r"[,\n]", text))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise FormError(f'{what}: "{part}" is not key=value')
        out[key.strip()] = value.strip()
    return out


def node_selector(text: str) -> dict[str, str]:
    return key_values(text, "nodeSelector")


def _rows(data: Mapping[str, Any], *names: str) -> list[dict[str, str]]:
    """The rows of a repeated group of fields: [{name: value, ...}, ...], aligned by index."""
    columns = {}
    for name in names:
        if hasattr(data, "getlist"):
            values = data.getlist(name)
        else:
            value = data.get(name, [])
            values = value if isinstance(value, (list, tuple)) else [value]
        columns[name] = [str(v if v is not None else "").strip() for v in values]
    n = max((len(v) for v in columns.values()), default=0)
    return [{name: (col[i] if i < len(col) else "") for name, col in columns.items()} for i in range(n)]


def _int(value: str, what: str, default: int | None = None) -> int | None:
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise FormError(f'{what}: "{value}" is not a whole number') from None


def label_selector(text: str, what: str = "labelSelector") -> dict[str, Any]:
    """A selector string -> a metav1.LabelSelector, as metav1.ParseToLabelSelector does:
    `a=b` / `a==b` go to matchLabels, `a!=b` becomes NotIn, `in`/`notin`/`a`/`!a` become
    In/NotIn/Exists/DoesNotExist expressions."""
    try:
        reqs = parse_label_selector(text)
    except SelectorError as e:
        raise FormError(f"{what}: {e}") from None
    match_labels: dict[str, str] = {}
    exprs: list[dict[str, Any]] = []
    for key, op, values in reqs:
        if op == "=":
            match_labels[key] = values[0]
        elif op == "!=":
            exprs.append({"key": key, "operator": "NotIn", "values": list(values)})
        elif op in ("in", "notin"):
            exprs.append({"key": key, "operator": "In" if op == "in" else "NotIn", "values": list(values)})
        else:
            exprs.append({"key": key, "operator": "Exists" if op == "exists" else "DoesNotExist"})
    out: dict[str, Any] = {}
    if match_labels:
        out["matchLabels"] = match_labels
    if exprs:
        out["matchExpressions"] = exprs
    return out


def _selector_or_own(text: str, own_labels: dict[str, str], what: str) -> dict[str, Any]:
    if text:
        return label_selector(text, what)
    if not own_labels:
        raise FormError(f"{what}: give the labels of the pods it is about (e.g. app=web), "
                        f"or labels for this pod")
    return {"matchLabels": dict(own_labels)}


def tolerations(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for i, r in enumerate(_rows(data, "tol_key", "tol_operator", "tol_value", "tol_effect", "tol_seconds")):
        op = r["tol_operator"] or "Equal"
        if not r["tol_key"] and op != "Exists":
            continue
        t: dict[str, Any] = {}
        if r["tol_key"]:
            t["key"] = r["tol_key"]
        t["operator"] = op
        if r["tol_value"]:
            t["value"] = r["tol_value"]
        if r["tol_effect"]:
            t["effect"] = r["tol_effect"]
        seconds = _int(r["tol_seconds"], f"tolerations[{i}].tolerationSeconds")
        if seconds is not None:
            t["tolerationSeconds"] = seconds
        out.append(t)
    return out


def _requirement(key: str, operator: str, values: str) -> dict[str, Any]:
    expr: dict[str, Any] = {"key": key, "operator": operator or "In"}
    vals = [v.strip() for v in values.split(",") if v.strip()]
    if vals or expr["operator"] not in ("Exists", "DoesNotExist"):
        expr["values"] = vals
    return expr


def node_affinity(data: Mapping[str, Any]) -> dict[str, Any]:
    required: list[dict[str, Any]] = []
    preferred: list[dict[str, Any]] = []
    for i, r in enumerate(_rows(data, "na_mode", "na_weight", "na_key", "na_operator", "na_values")):
        if not r["na_key"]:
            continue
        expr = _requirement(r["na_key"], r["na_operator"], r["na_values"])
        if r["na_mode"] == "preferred":
            weight = _int(r["na_weight"], f"nodeAffinity preferred[{len(preferred)}].weight", 1)
            preferred.append({"weight": weight, "preference": {"matchExpressions": [expr]}})
        else:
            required.append(expr)
    out: dict[str, Any] = {}
    if required:
        out["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [{"matchExpressions": required}]}
    if preferred:
        out["preferredDuringSchedulingIgnoredDuringExecution"] = preferred
    return out


POD_AFFINITY_TYPES = ("podAffinity", "podAntiAffinity")


def pod_affinities(data: Mapping[str, Any], own_labels: dict[str, str]) -> dict[str, Any]:
    """{"podAffinity": {...}, "podAntiAffinity": {...}} from the pa_* rows."""
    out: dict[str, Any] = {}
    for i, r in enumerate(_rows(data, "pa_type", "pa_mode", "pa_weight", "pa_topology_key", "pa_selector")):
        kind = r["pa_type"]
        if not kind:
            continue
        if kind not in POD_AFFINITY_TYPES:
            raise FormError(f'pod affinity: "{kind}" is not podAffinity or podAntiAffinity')
        term = {"labelSelector": _selector_or_own(r["pa_selector"], own_labels, f"{kind}.labelSelector"),
                "topologyKey": r["pa_topology_key"]}
        section = out.setdefault(kind, {})
        if r["pa_mode"] == "preferred":
            weight = _int(r["pa_weight"], f"{kind} preferred weight", 1)
            section.setdefault("preferredDuringSchedulingIgnoredDuringExecution", []).append(
                {"weight": weight, "podAffinityTerm": term})
        else:
            section.setdefault("requiredDuringSchedulingIgnoredDuringExecution", []).append(term)
    return out


def topology_spread_constraints(data: Mapping[str, Any], own_labels: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for r in _rows(data, "tsc_max_skew", "tsc_topology_key", "tsc_when", "tsc_selector"):
        if not r["tsc_topology_key"]:
            continue
        i = len(out)
        out.append({
            "maxSkew": _int(r["tsc_max_skew"], f"topologySpreadConstraints[{i}].maxSkew", 1),
            "topologyKey": r["tsc_topology_key"],
            "whenUnsatisfiable": r["tsc_when"] or "DoNotSchedule",
            "labelSelector": _selector_or_own(r["tsc_selector"], own_labels,
                                              f"topologySpreadConstraints[{i}].labelSelector"),
        })
    return out


def pod_spec(data: Mapping[str, Any], own_labels: dict[str, str] | None = None) -> dict[str, Any]:
    """The pod spec of the pod form (and of the ReplicaSet form's template); `own_labels` are
    the labels of the pod it describes, the default selector of its affinity and spread."""
    own_labels = own_labels or {}
    image = _field(data, "image") or DEFAULT_IMAGE
    container: dict[str, Any] = {"name": container_name(image), "image": image}
    reqs = requests_of(data)
    if reqs:
        container["resources"] = {"requests": reqs}
    spec: dict[str, Any] = {"containers": [container]}
    selector = node_selector(_field(data, "node_selector"))
    if selector:
        spec["nodeSelector"] = selector
    affinity: dict[str, Any] = {}
    na = node_affinity(data)
    if na:
        affinity["nodeAffinity"] = na
    affinity.update(pod_affinities(data, own_labels))
    if affinity:
        spec["affinity"] = affinity
    tols = tolerations(data)
    if tols:
        spec["tolerations"] = tols
    spread = topology_spread_constraints(data, own_labels)
    if spread:
        spec["topologySpreadConstraints"] = spread
    priority_class = _field(data, "priority_class")
    if priority_class:
        spec["priorityClassName"] = priority_class
    return spec


def namespace_of(data: Mapping[str, Any]) -> str:
    return _field(data, "namespace") or "default"


def pod_from(data: Mapping[str, Any]) -> dict[str, Any]:
    name = _field(data, "name")
    labels = key_values(_field(data, "labels"), "labels")
    metadata: dict[str, Any] = {"name": name, "namespace": namespace_of(data)}
    if labels:
        metadata["labels"] = labels
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": pod_spec(data, labels),
    }


def replicaset_from(data: Mapping[str, Any]) -> dict[str, Any]:
    name = _field(data, "name")
    raw = _field(data, "replicas", "1") or "1"
    try:
        replicas = int(raw)
    except ValueError:
        raise FormError(f'replicas: "{raw}" is not a whole number') from None
    labels = {"app": name} if name else {}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": namespace_of(data), "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec(data, labels)},
        },
    }


TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def taints(text: str) -> list[dict[str, str]]:
    """kubectl taint's syntax, one taint a line (or comma-separated): "key=value:Effect" or
    "key:Effect" -> [{"key", "value"?, "effect"}].  The effect's spelling is the API's to judge."""
    out = []
    for part in filter(None, (p.strip() for p in re.split(r"[,\n]", text))):
        spec, sep, effect = part.rpartition(":")
        if not sep or not spec.strip():
            raise FormError(f'taints: "{part}" is not key=value:Effect (Effect: {", ".join(TAINT_EFFECTS)})')
        key, _, value = spec.partition("=")
        taint = {"key": key.strip()}
        if value.strip():
            taint["value"] = value.strip()
        taint["effect"] = effect.strip()
        out.append(taint)
    return out


def format_taint(t: Mapping[str, Any]) -> str:
    """The inverse of taints() for one taint, as `kubectl describe node` prints it."""
    value = t.get("value")
    return f"{t.get('key', '')}{'=' + value if value else ''}:{t.get('effect', '')}"


def api_request(verb: str, resource: str, namespace: str | None, *, name: str | None = None,
                body: dict | None = None, group: str = "", version: str = "v1") -> dict[str, Any]:
    """An ApiRequest dict (see sim/cluster.py)."""
    return {"verb": verb, "group": group, "version": version, "resource": resource,
            "namespace": namespace, "name": name, "subresource": None, "body": body,
            "patch_type": None, "query": {}}

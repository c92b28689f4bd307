"""The Objects view's reads: the objects of one served kind, listed through the cluster's own
Kubernetes API (a LIST, as `kubectl get <kind> -A` makes), with kubectl's NAMESPACE, NAME and
AGE columns.  Viewing and editing one object as YAML are cluster/workloads.py's get_yaml and
put_yaml (kubectl edit's GET and PUT)."""
from __future__ import annotations

from cluster import services
from cluster.workloads import Outcome, _label, _refusals, _resolve_or_fail, request
from sim.api.meta import parse_timestamp
from sim.registry.printers import human_duration

# A kind with thousands of objects: the view lists the first ones (by namespace and name, the
# order the API server lists in) and says how many more there are, as `kubectl get --chunk-size`
# would page through them.
LIST_LIMIT = 500


@_refusals
async def list_objects(cluster: str, kind: str, limit: int = LIST_LIMIT, credentials: dict | None = None) -> Outcome:
    """LIST every object of `kind` (kind, resource, short name or "<resource>.<group>") in all
    namespaces; `data` is {"kind", "resource", "group", "namespaced", "total", "items":
    [{"namespace", "name", "age"}]}, AGE counted on the cluster's own clock.  Read as the visitor
    (`credentials`: cluster/access.py page_credentials), so RBAC decides what they see."""
    res = await _resolve_or_fail(cluster, kind)
    resp = await services.cluster_api(cluster, request("list", res, None, credentials=credentials))
    if resp.get("code") != 200:
        return Outcome.failed(resp)
    now = resp.get("now")
    items = (resp.get("body") or {}).get("items") or []
    rows = []
    for obj in items[:limit]:
        md = obj.get("metadata") or {}
        created = parse_timestamp(md.get("creationTimestamp"))
        age = human_duration(now - created) if created is not None and now is not None else "<unknown>"
        rows.append({"namespace": md.get("namespace") or "", "name": md.get("name", ""), "age": age})
    label = f'{res["name"]}.{res["group"]}' if res.get("group") else res["name"]
    return Outcome(True, f"{len(items)} {label}", data={
        "kind": res.get("kind"), "resource": res["name"], "group": res.get("group", ""),
        "namespaced": bool(res.get("namespaced")), "total": len(items), "items": rows})


@_refusals
async def read_object(cluster: str, kind: str, namespace: str, name: str, api_version: str | None = None,
                      credentials: dict | None = None) -> Outcome:
    """What the object drawer shows of one object, read as `kubectl describe` reads it: a GET of
    the object and a LIST of its Events by field selector (involvedObject's name, kind and, for a
    namespaced object, namespace; a cluster-scoped object's Events are looked for in every
    namespace).  `data` is {"kind", "resource" ("deployments.apps"), "namespaced", "verbs",
    "path" (its URL under /clusters/<c>/), "age", "object", "events"}; AGE on the cluster's clock.
    Read as the visitor (`credentials`), as list_objects."""
    if not name:
        return Outcome.bad("name: Required value")
    res = await _resolve_or_fail(cluster, kind, api_version or None)
    ns = (namespace or "default") if res.get("namespaced") else None
    resp = await services.cluster_api(cluster, request("get", res, ns, name, credentials=credentials))
    if resp.get("code") != 200:
        return Outcome.failed(resp)
    obj = resp.get("body") or {}
    events_res = await _resolve_or_fail(cluster, "Event", "v1")
    selector = f"involvedObject.name={name},involvedObject.kind={res.get('kind')}" + (
        f",involvedObject.namespace={ns}" if ns else "")
    ev = await services.cluster_api(cluster, request("list", events_res, ns, query={"fieldSelector": selector},
                                                     credentials=credentials))
    events = (ev.get("body") or {}).get("items") or [] if ev.get("code") == 200 else []
    now = resp.get("now")
    created = parse_timestamp((obj.get("metadata") or {}).get("creationTimestamp"))
    group, version = res.get("group", ""), res.get("version", "v1")
    base = f"apis/{group}/{version}" if group else f"api/{version}"
    path = f"{base}{f'/namespaces/{ns}' if ns else ''}/{res['name']}/{name}"
    return Outcome(True, f"{_label(res, name)}", data={
        "kind": res.get("kind"), "resource": f"{res['name']}.{group}" if group else res["name"],
        "namespaced": bool(res.get("namespaced")), "verbs": list(res.get("verbs") or ()), "path": path,
        "age": human_duration(now - created) if created is not None and now is not None else "",
        "object": obj, "events": events})

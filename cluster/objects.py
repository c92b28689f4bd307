"""The Objects view's reads: the objects of one served kind, listed through the cluster's own
Kubernetes API (a LIST, as `kubectl get <kind> -A` makes), with kubectl's NAMESPACE, NAME and
AGE columns.  Viewing and editing one object as YAML are cluster/workloads.py's get_yaml and
put_yaml (kubectl edit's GET and PUT)."""
from __future__ import annotations

from cluster import services
from cluster.workloads import Outcome, _refusals, _resolve_or_fail, request
from sim.api.meta import parse_timestamp
from sim.registry.printers import human_duration

# A kind with thousands of objects: the view lists the first ones (by namespace and name, the
# order the API server lists in) and says how many more there are, as `kubectl get --chunk-size`
# would page through them.
LIST_LIMIT = 500


@_refusals
async def list_objects(cluster: str, kind: str, limit: int = LIST_LIMIT) -> Outcome:
    """LIST every object of `kind` (kind, resource, short name or "<resource>.<group>") in all
    namespaces; `data` is {"kind", "resource", "group", "namespaced", "total", "items":
    [{"namespace", "name", "age"}]}, AGE counted on the cluster's own clock."""
    res = await _resolve_or_fail(cluster, kind)
    resp = await services.cluster_api(cluster, request("list", res, None))
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

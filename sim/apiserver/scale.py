"""The /scale subresource of any kind that declares one (autoscaling/v1 Scale): ScaleREST of
pkg/registry/apps/replicaset and the custom resource's scale subresource
(apiextensions-apiserver pkg/registry/customresource: specReplicasPath, statusReplicasPath,
labelSelectorPath), over the kind's `ScaleSubresource` paths."""
from __future__ import annotations

from typing import Any

from sim.api import status as st
from sim.api.nested import get_path, set_path
from sim.api.meta import deep_copy
from sim.api.patch import PatchError, json_patch, merge_patch
from sim.api.schema import SCALE
from sim.api.validation import invalid as validation_invalid


def to_scale(res, obj: dict) -> dict:
    """The Scale view of an object."""
    md = obj["metadata"]
    spec = get_path(obj, res.scale.spec_replicas_path)
    status = get_path(obj, res.scale.status_replicas_path)
    out = {"kind": "Scale", "apiVersion": "autoscaling/v1",
           "metadata": {k: md[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                        if k in md},
           "spec": {"replicas": spec if isinstance(spec, int) else 0},
           "status": {"replicas": status if isinstance(status, int) else 0}}
    selector = res.scale.selector(obj)
    if selector:
        out["status"]["selector"] = selector
    return out


def serve(server, res, req: dict, reply) -> None:
    """get, update or patch of <object>/scale: a write changes only the replicas at the
    spec path, through the kind's own update (PrepareForUpdate, validation, generation)."""
    from sim.apiserver.server import _dry_run, _err, _invalid, _ok, _precondition_rv, body_decode_error
    name, ns, verb = req.get("name", ""), req.get("namespace"), req.get("verb")
    cur = server._get_cached(res, ns, name)
    if cur is None:
        return reply(_err(st.not_found(res.name, name, res.group)))
    if verb == "get":
        return reply(_ok(200, to_scale(res, cur)))
    if verb not in ("update", "patch"):
        return reply(_err(st.method_not_allowed()))
    body = req.get("body")
    pre = None
    if verb == "update":
        if not isinstance(body, dict):
            return reply(_err(st.bad_request("the body of the request must be a JSON object")))
        error = body_decode_error("Scale", "autoscaling/v1", body, SCALE)
        if error:
            return reply(_err(error))
        pre = _precondition_rv(body)

    def mutate(cur: dict) -> tuple[str, dict]:
        scale = to_scale(res, cur)
        try:
            if verb == "update":
                new_scale = body
            elif req.get("patch_type") == "application/json-patch+json":
                new_scale = json_patch(scale, body)
            else:
                new_scale = merge_patch(scale, body if isinstance(body, dict) else {})
        except PatchError as e:
            return "error", st.bad_request(str(e))
        error = body_decode_error("Scale", "autoscaling/v1", new_scale, SCALE)
        if error:
            return "error", error
        replicas = (new_scale.get("spec") or {}).get("replicas", 0)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            return "error", _invalid("Scale", name, [validation_invalid("spec.replicas", replicas,
                                                                         "must be greater than or equal to 0")],
                                       "autoscaling")
        new = deep_copy(cur)
        set_path(new, res.scale.spec_replicas_path, replicas)
        return server._prepare_update(res, cur, new, None, req)

    def done(resp: dict) -> None:
        if resp["code"] >= 400:
            return reply(resp)
        reply(_ok(200, to_scale(res, resp["body"])))

    server.guaranteed_update(res, ns, name, mutate, done, pre, dry_run=_dry_run(req))

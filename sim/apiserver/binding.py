"""pods/binding (pkg/registry/core/pod/storage BindingREST): the scheduler's write that assigns
a pod to a node - once, and never to a pod being deleted."""
from __future__ import annotations

from sim.api import status as st
from sim.api.meta import deep_copy
from sim.api.schema import BINDING
from sim.api.validation import required


def bind(server, res, req: dict, reply) -> None:
    from sim.apiserver.server import _dry_run, _err, _invalid, _ok, body_decode_error
    body = req.get("body") or {}
    error = body_decode_error("Binding", "v1", body, BINDING)
    if error:
        return reply(_err(error))
    target = (body.get("target") or {}).get("name")
    name = req.get("name") or (body.get("metadata") or {}).get("name", "")
    if not target:
        return reply(_err(_invalid("Binding", name, [required("target.name")])))

    def mutate(cur: dict) -> tuple[str, dict]:
        if cur["metadata"].get("deletionTimestamp"):
            return "error", st.conflict("pods", name, "", f"pod {name} is being deleted, cannot be assigned to a host")
        if (cur.get("spec") or {}).get("nodeName"):
            return "error", st.conflict("pods", name, "", f'pod {name} is already assigned to node "{cur["spec"]["nodeName"]}"')
        new = deep_copy(cur)
        new["spec"]["nodeName"] = target
        conds = [c for c in new["status"].get("conditions", []) if c.get("type") != "PodScheduled"]
        conds.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                      "lastTransitionTime": server.timestamp()})
        new["status"]["conditions"] = conds
        return "update", new

    def done(resp: dict) -> None:
        if resp["code"] >= 400:
            return reply(resp)
        reply(_ok(201, st.success()))

    server.guaranteed_update(res, req.get("namespace"), name, mutate, done, dry_run=_dry_run(req))

"""The pods `eviction` subresource (policy/v1 Eviction): POST .../pods/<name>/eviction.

Mirrors upstream's EvictionREST.Create (pkg/registry/core/pod/storage/eviction.go): the Eviction's
name must be the URL's; its DeleteOptions (dryRun merged with the request's, as propagateDryRun
does) govern the deletion; a pod that may be disrupted is given the `DisruptionTarget` condition
(reason EvictionByEvictionAPI, through the status strategy) and then deleted gracefully, exactly
as a DELETE with those options would; the answer is a 201 with a Status of success (createHandler
fills in the code of a Status that has none).

PodDisruptionBudgets do not exist yet, so every eviction is allowed.  The one place a budget check
belongs is `budget_refusal` below (eviction.go: getPodDisruptionBudgets, checkAndDecrement, the
429 "Cannot evict pod as it would violate the pod's disruption budget.").
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from sim.api import status as st
from sim.api.gofmt import go_strings
from sim.api.gotypes import decode as go_decode, struct
from sim.api.meta import deep_copy
from sim.registry.resource import Resource
from sim.api.schema import DELETE_OPTIONS, OBJECT_META, TYPE_META, decode_error_message

if TYPE_CHECKING:
    from sim.apiserver.server import KubeAPIServer

EVICTION = struct("v1.Eviction", **TYPE_META, metadata=OBJECT_META, deleteOptions=DELETE_OPTIONS)
EVICTION_VERSIONS = ("policy/v1", "policy/v1beta1")

Reply = Callable[[dict], None]


def _ok(code: int, body: dict) -> dict:
    return {"code": code, "body": body}


def _err(body: dict) -> dict:
    return {"code": body["code"], "body": body}


def can_ignore_pdb(pod: dict) -> bool:
    """canIgnorePDB: a terminal or pending pod, or one already being deleted, is evicted with
    no budget consulted."""
    phase = (pod.get("status") or {}).get("phase")
    return phase in ("Succeeded", "Failed", "Pending") or bool(pod["metadata"].get("deletionTimestamp"))


def budget_refusal(server: "KubeAPIServer", pod: dict) -> dict | None:
    """The Status refusing this eviction for a PodDisruptionBudget, or None to allow it.

    Upstream (eviction.go, after canIgnorePDB): list the budgets whose selector matches the pod;
    more than one is a 500 ("This pod has more than one PodDisruptionBudget, which the eviction
    subresource does not support."); none allows the eviction; one must have
    status.disruptionsAllowed > 0 and is decremented (its DisruptedPods map records the pod),
    else a 429 TooManyRequests with a DisruptionBudget cause.  No cluster has budgets yet."""
    return None


def _dry_run_options(body: dict, query: dict) -> tuple[dict, dict | None]:
    """propagateDryRun: the DeleteOptions the deletion runs with, or the error."""
    options = dict(body.get("deleteOptions") or {})
    request_dry_run = [query["dryRun"]] if query.get("dryRun") else []
    content = options.get("dryRun") or []
    if not content:
        if request_dry_run:
            options["dryRun"] = request_dry_run
    elif request_dry_run and request_dry_run != content:
        # Upstream returns this error undressed (a 500); it is the client's fault: a 400.
        return options, st.bad_request(f"Non-matching dry-run options in request and content: "
                                       f"{go_strings(request_dry_run)} and {go_strings(content)}")
    for value in options.get("dryRun") or []:
        if value != "All":
            # ValidateDeleteOptions, when the store deletes.
            return options, st.status(422, "Invalid", f'DeleteOptions.meta.k8s.io "" is invalid: dryRun: '
                                                      f'Unsupported value: {go_strings(options["dryRun"])}: '
                                                      f'supported values: "All"')
    return options, None


def evict(server: "KubeAPIServer", res: Resource, req: dict, reply: Reply) -> None:
    body = req.get("body")
    if not isinstance(body, dict):
        return reply(_err(st.bad_request("the body of the request must be a JSON object")))
    version, kind = body.get("apiVersion"), body.get("kind")
    if version not in (None, "") and version not in EVICTION_VERSIONS:
        return reply(_err(st.bad_request(f"the API version in the data ({version}) does not match the expected "
                                         f"API version (policy/v1)")))
    if kind not in (None, "", "Eviction"):
        return reply(_err(st.bad_request("the object provided is unrecognized (must be of type Eviction)")))
    decoded = go_decode(body, EVICTION)
    if decoded.error:
        return reply(_err(st.bad_request(decode_error_message("Eviction", "v1", decoded.error))))
    body = decoded.value
    name, ns = req.get("name", ""), req.get("namespace")
    md = body.get("metadata") or {}
    if md.get("namespace") not in (None, "", ns):
        # rest.EnsureObjectNamespaceMatchesRequestNamespace
        return reply(_err(st.bad_request("the namespace of the provided object does not match the namespace "
                                         "sent on the request")))
    if md.get("name", "") != name:
        return reply(_err(st.bad_request("name in URL does not match name in Eviction object")))
    options, error = _dry_run_options(body, req.get("query") or {})
    if error:
        return reply(_err(error))

    pod = server._get_cached(res, ns, name)
    if pod is None:
        return reply(_err(st.not_found("pods", name)))
    if not can_ignore_pdb(pod):
        refusal = budget_refusal(server, pod)
        if refusal is not None:
            return reply(_err(refusal))
    server.action(f"kube-apiserver evicts pod {ns}/{name}")
    _add_condition_and_delete(server, res, ns, name, options, reply)


def _add_condition_and_delete(server: "KubeAPIServer", res: Resource, ns: str | None, name: str, options: dict,
                              reply: Reply) -> None:
    """addConditionAndDeletePod: the DisruptionTarget condition (not on a dry run), then the
    deletion with the Eviction's DeleteOptions."""
    dry_run = bool(options.get("dryRun"))
    preconditions = options.get("preconditions") or {}

    def delete(opts: dict) -> None:
        query = {"dryRun": "All"} if dry_run else {}

        def done(resp: dict) -> None:
            if resp["code"] >= 400:
                return reply(resp)
            reply(_ok(201, {**st.success(), "code": 201}))

        server.do_delete(res, {"verb": "delete", "group": res.group, "resource": res.name, "namespace": ns,
                               "name": name, "body": opts, "query": query}, done)

    if dry_run:
        return delete(options)

    def mutate(cur: dict) -> tuple[str, dict]:
        # getLatestPod's precondition checks (their conflict names the resource "Pod")
        uid, rv = preconditions.get("uid"), preconditions.get("resourceVersion")
        md = cur["metadata"]
        if uid and uid != md.get("uid"):
            return "error", st.conflict("Pod", name, "", f"the UID in the precondition ({uid}) does not match the "
                                                         f"UID in record ({md.get('uid')}). The object might have "
                                                         f"been deleted and then recreated")
        if rv and rv != md.get("resourceVersion"):
            return "error", st.conflict("Pod", name, "", f"the ResourceVersion in the precondition ({rv}) does not "
                                                         f"match the ResourceVersion in record "
                                                         f"({md.get('resourceVersion')}). The object might have "
                                                         f"been modified")
        new = deep_copy(cur)
        status = new.setdefault("status", {})
        conditions = status.setdefault("conditions", [])
        condition = {"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                     "lastTransitionTime": server.timestamp(), "reason": "EvictionByEvictionAPI",
                     "message": "Eviction API: evicting"}
        for i, c in enumerate(conditions):
            if c.get("type") == "DisruptionTarget":
                # podutil.UpdatePodCondition: the transition time moves only with the status.
                if c.get("status") == "True":
                    condition["lastTransitionTime"] = c.get("lastTransitionTime")
                if c == condition:
                    return "noop", cur
                conditions[i] = condition
                break
        else:
            conditions.append(condition)
        return "update", new

    def updated(resp: dict) -> None:
        if resp["code"] >= 400:
            return reply(resp)
        opts = deep_copy(options)
        if preconditions.get("resourceVersion"):
            # We wrote the pod ourselves: the deletion's precondition is the version we wrote.
            opts["preconditions"]["resourceVersion"] = resp["body"]["metadata"]["resourceVersion"]
        delete(opts)

    server.guaranteed_update(res, ns, name, mutate, updated)

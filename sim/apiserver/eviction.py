"""The pods `eviction` subresource (policy/v1 Eviction): POST .../pods/<name>/eviction.

Mirrors upstream's EvictionREST.Create (pkg/registry/core/pod/storage/eviction.go): the Eviction's
name must be the URL's; its DeleteOptions (dryRun merged with the request's, as propagateDryRun
does) govern the deletion; a pod that may be disrupted is given the `DisruptionTarget` condition
(reason EvictionByEvictionAPI, through the status strategy) and then deleted gracefully, exactly
as a DELETE with those options would; the answer is a 201 with a Status of success (createHandler
fills in the code of a Status that has none).

A pod that may not ignore its budget (canIgnorePDB) is checked against the PodDisruptionBudget
that selects it (`guard_with_budget`, eviction.go's getPodDisruptionBudgets and checkAndDecrement):
none lets it go; more than one is a 500; a budget the controller has not caught up with, or with
no disruption left, is a 429 TooManyRequests "Cannot evict pod as it would violate the pod's
disruption budget." with a DisruptionBudget cause; otherwise the budget's disruptionsAllowed goes
down by one and its status.disruptedPods records the pod (one status write, retried on conflict),
then the pod is deleted.  An unready pod is deleted without touching the budget when the budget's
unhealthyPodEvictionPolicy is AlwaysAllow, or (IfHealthyBudget, the default) when the application
is healthy enough (currentHealthy >= desiredHealthy > 0); its deletion is then conditioned on the
pod's resourceVersion (setPreconditionsResourceVersion), so a pod that became ready meanwhile is not
deleted.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from sim.api import status as st
from sim.api.gofmt import go_strings
from sim.api.gotypes import decode as go_decode, struct
from sim.api.meta import deep_copy
from sim.api.podutil import is_pod_ready
from sim.api.selectors import SelectorError, label_selector_as_selector, selector_matches
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


PDB_GROUP, PDB_RESOURCE = "policy", "poddisruptionbudgets"
MAX_DISRUPTED_POD_SIZE = 2000  # eviction.go MaxDisruptedPodSize
DISRUPTION_BUDGET_CAUSE = "DisruptionBudget"  # policyv1.DisruptionBudgetCause
VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget."
MORE_THAN_ONE = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."


def too_many_requests(cause: str, retry_after: int = 0) -> dict:
    """errors.NewTooManyRequests(VIOLATION, retryAfter) with a DisruptionBudget cause."""
    details: dict = {"causes": [{"reason": DISRUPTION_BUDGET_CAUSE, "message": cause}]}
    if retry_after:
        details["retryAfterSeconds"] = retry_after
    return st.status(429, "TooManyRequests", VIOLATION, details)


def pod_budgets(server: "KubeAPIServer", pod: dict) -> list[dict]:
    """getPodDisruptionBudgets: the namespace's budgets whose selector matches the pod; an
    invalid, nil or empty selector matches nothing here."""
    res = server.registry.lookup(PDB_GROUP, PDB_RESOURCE)
    if res is None:
        return []
    ns, labels = pod["metadata"].get("namespace") or "", pod["metadata"].get("labels") or {}
    out = []
    for (pdb_ns, _name), pdb in sorted(server.cache.objects(res.gr).items()):
        if pdb_ns != ns:
            continue
        try:
            selector = label_selector_as_selector((pdb.get("spec") or {}).get("selector"))
        except SelectorError:
            continue
        if selector and selector_matches(selector, labels):
            out.append(pdb)
    return out


def check_and_decrement(pdb: dict, pod_name: str, dry_run: bool, now: str) -> tuple[str, dict]:
    """checkAndDecrement on the budget as stored: ("error", Status) or ("update", new budget)
    (("noop", pdb) on a dry run, which writes nothing)."""
    from sim.registry.policy.poddisruptionbudgets import update_disruption_allowed_condition
    name, status = pdb["metadata"]["name"], pdb.get("status") or {}
    if status.get("observedGeneration", 0) < pdb["metadata"].get("generation", 0):
        return "error", too_many_requests(f"The disruption budget {name} is still being processed by the server.", 10)
    allowed = status.get("disruptionsAllowed") or 0
    if allowed < 0:
        return "error", st.forbidden("poddisruptionbudget.policy", name, "pdb disruptions allowed is negative")
    if len(status.get("disruptedPods") or {}) > MAX_DISRUPTED_POD_SIZE:
        return "error", st.forbidden("poddisruptionbudget.policy", name, "DisruptedPods map too big - too many "
                                                                        "evictions not confirmed by PDB controller")
    if allowed == 0:
        return "error", too_many_requests(f"The disruption budget {name} needs {status.get('desiredHealthy') or 0} "
                                          f"healthy pods and has {status.get('currentHealthy') or 0} currently")
    if dry_run:
        return "noop", pdb
    new = deep_copy(pdb)
    new["status"]["disruptionsAllowed"] = allowed - 1
    if allowed - 1 == 0:
        update_disruption_allowed_condition(new, now)
    new["status"].setdefault("disruptedPods", {})[pod_name] = now
    return "update", new


def guard_with_budget(server: "KubeAPIServer", pod: dict, options: dict, proceed: Callable[[dict], None],
                      reply: Reply) -> None:
    """The PodDisruptionBudget part of EvictionREST.Create: `proceed(deleteOptions)` when the
    eviction may go on, else `reply` with the refusal."""
    pdbs = pod_budgets(server, pod)
    if len(pdbs) > 1:
        # Returned as the Status object itself (no reason), with its code: a 500.
        return reply(_err({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": MORE_THAN_ONE, "code": 500}))
    if not pdbs:
        return proceed(options)
    pdb = pdbs[0]
    spec, status = pdb.get("spec") or {}, pdb.get("status") or {}
    if not is_pod_ready(pod):
        desired, current = status.get("desiredHealthy") or 0, status.get("currentHealthy") or 0
        if spec.get("unhealthyPodEvictionPolicy") == "AlwaysAllow" or (current >= desired and desired > 0):
            # setPreconditionsResourceVersion: only the unready pod we looked at is deleted.
            opts = deep_copy(options)
            opts.setdefault("preconditions", {})["resourceVersion"] = pod["metadata"]["resourceVersion"]
            return proceed(opts)
    res = server.registry.lookup(PDB_GROUP, PDB_RESOURCE)
    dry_run = bool(options.get("dryRun"))

    def mutate(cur: dict) -> tuple[str, dict]:
        return check_and_decrement(cur, pod["metadata"]["name"], dry_run, server.timestamp())

    def done(resp: dict) -> None:
        if resp["code"] >= 400:
            if resp["code"] == 409:  # RetryOnConflict gave up
                return reply(_err(st.timeout(f'couldn\'t update PodDisruptionBudget "{pdb["metadata"]["name"]}" '
                                             f"due to conflicts")))
            return reply(resp)
        proceed(options)

    server.guaranteed_update(res, pdb["metadata"]["namespace"], pdb["metadata"]["name"], mutate, done)


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

    def proceed(opts: dict) -> None:
        server.action(f"kube-apiserver evicts pod {ns}/{name}")
        _add_condition_and_delete(server, res, ns, name, opts, reply)

    if can_ignore_pdb(pod):
        return proceed(options)
    guard_with_budget(server, pod, options, proceed, reply)


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

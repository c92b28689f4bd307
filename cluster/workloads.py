"""Services behind the Workloads view's actions: each one the Kubernetes API requests the kubectl
command of the same name makes, sent through `services.cluster_api` (so the API server's own
defaulting, validation and admission apply, and its Status is what the user reads).

    create / create from YAML   POST the object (the resource found through discovery)
    scale                       PATCH <resource>/<name>/scale  {"spec": {"replicas": n}}
    set image                   PATCH (strategic merge) the pod template's containers by name
    rollback                    kubectl rollout undo [--to-revision]: copy that ReplicaSet's
                                template, minus pod-template-hash, into the Deployment; a
                                DaemonSet's or StatefulSet's ControllerRevision's patch
    pause / resume              PATCH {"spec": {"paused": true|false}}
    restart                     PATCH the template's kubectl.kubernetes.io/restartedAt annotation
    delete                      DELETE with DeleteOptions.propagationPolicy (the cascade)
    load                        the simulator's load generator (Cluster.set_load), not an API call
    cordon / uncordon           PATCH the Node's spec.unschedulable
    drain                       cordon, then evict each pod through pods/eviction (PDBs apply)
    edit                        GET as YAML, PUT it back

Every function answers an `Outcome`: ok, the HTTP code, a message (the API's Status message on
an error) and the Status' causes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from cluster import services
from sim.api.meta import timestamp
from sim.api.selectors import format_label_selector

REVISION = "deployment.kubernetes.io/revision"
POD_TEMPLATE_HASH = "pod-template-hash"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
MIRROR = "kubernetes.io/config.mirror"
CASCADES = ("Background", "Foreground", "Orphan")
# kubectl rollback's annotationsToSkip (k8s.io/kubectl/pkg/polymorphichelpers/rollback.go): the
# Deployment keeps its own values of these; every other annotation comes from the ReplicaSet.
ANNOTATIONS_TO_SKIP = ("kubectl.kubernetes.io/last-applied-configuration", REVISION,
                       "deployment.kubernetes.io/revision-history", "deployment.kubernetes.io/desired-replicas",
                       "deployment.kubernetes.io/max-replicas", "deprecated.deployment.rollback.to")


@dataclass
class Outcome:
    ok: bool
    message: str
    code: int = 200
    reason: str | None = None
    causes: list[dict] = field(default_factory=list)
    data: Any = None

    @classmethod
    def of(cls, resp: dict, success: str, data: Any = None) -> "Outcome":
        """An ApiResponse: `success`, or its Status (message, reason, causes)."""
        code = int(resp.get("code", 500))
        if 200 <= code < 300:
            return cls(True, success, code, data=data if data is not None else resp.get("body"))
        return cls.failed(resp)

    @classmethod
    def failed(cls, resp: dict) -> "Outcome":
        body = resp.get("body") or {}
        code = int(resp.get("code", 500))
        message = body.get("message") or body.get("reason") or f"request failed ({code})"
        causes = [c for c in (body.get("details") or {}).get("causes") or () if isinstance(c, dict)]
        return cls(False, message, code if 400 <= code < 600 else 500, body.get("reason"), causes)

    @classmethod
    def bad(cls, message: str, code: int = 400, reason: str = "BadRequest") -> "Outcome":
        return cls(False, message, code, reason)


# -- kinds ------------------------------------------------------------------------------------
async def resolve(cluster: str, kind: str, api_version: str | None = None) -> dict | None:
    """The served resource (Resource.describe()) a kind, resource name, short name or
    "<resource>.<group>" names, as kubectl's RESTMapper resolves `kubectl get deploy`;
    with `api_version` ("apps/v1"), the kind in that group.  None when nothing matches."""
    text = (kind or "").strip()
    if not text:
        return None
    group = None
    if api_version:
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
    resources = (await services.served_kinds(cluster)).get("resources") or []
    low = text.lower()
    for r in resources:
        if group is not None and r.get("group") != group:
            continue
        names = {str(r.get("kind", "")).lower(), r.get("name"), r.get("singular"), *(r.get("shortNames") or ())}
        full = f'{r.get("name")}.{r.get("group")}' if r.get("group") else r.get("name")
        if low in names or low == full:
            return r
    return None


def request(verb: str, res: dict, namespace: str | None, name: str | None = None, *, body: Any = None,
            subresource: str | None = None, patch_type: str | None = None, query: dict | None = None,
            credentials: dict | None = None) -> dict:
    """An ApiRequest dict (sim/cluster.py) for the resource `res` (Resource.describe()); with
    `credentials` (cluster/access.py page_credentials) it goes through the API server's
    authentication and RBAC as the visitor's."""
    req = {"verb": verb, "group": res.get("group", ""), "version": res.get("version", "v1"),
           "resource": res["name"], "namespace": namespace if res.get("namespaced") else None, "name": name,
           "subresource": subresource, "body": body, "patch_type": patch_type, "query": query or {}}
    if credentials is not None:
        req["credentials"] = credentials
    return req


async def _resolve_or_fail(cluster: str, kind: str, api_version: str | None = None) -> dict:
    res = await resolve(cluster, kind, api_version)
    if res is None:
        where = f" in {api_version}" if api_version else ""
        raise _Refused(Outcome.bad(f'the server doesn\'t have a resource type "{kind}"{where}', 404, "NotFound"))
    return res


class _Refused(Exception):
    def __init__(self, outcome: Outcome):
        super().__init__(outcome.message)
        self.outcome = outcome


def _refusals(fn):
    """Turns a _Refused raised inside an action into its Outcome."""
    async def wrapper(*args, **kwargs) -> Outcome:
        try:
            return await fn(*args, **kwargs)
        except _Refused as e:
            return e.outcome
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


async def _get(cluster: str, res: dict, ns: str | None, name: str, credentials: dict | None = None) -> dict:
    resp = await services.cluster_api(cluster, request("get", res, ns, name, credentials=credentials))
    if resp.get("code") != 200:
        raise _Refused(Outcome.failed(resp))
    return resp


def _label(res: dict, name: str) -> str:
    """kubectl's "deployment.apps/web"."""
    kind = str(res.get("kind", "")).lower()
    return f'{kind}.{res["group"]}/{name}' if res.get("group") else f"{kind}/{name}"


# -- create, edit -----------------------------------------------------------------------------
@_refusals
async def create(cluster: str, manifest: dict, default_namespace: str = "default") -> Outcome:
    """POST one object, its resource found from apiVersion and kind."""
    if not isinstance(manifest, dict) or not manifest.get("kind") or not manifest.get("apiVersion"):
        return Outcome.bad("the object needs apiVersion and kind")
    res = await _resolve_or_fail(cluster, manifest["kind"], manifest["apiVersion"])
    md = manifest.setdefault("metadata", {}) if isinstance(manifest.get("metadata", {}), dict) else {}
    ns = md.get("namespace") or default_namespace
    if res.get("namespaced") and not md.get("namespace"):
        md["namespace"] = ns
    resp = await services.cluster_api(cluster, request("create", res, ns, body=manifest))
    made = md.get("name") or ((resp.get("body") or {}).get("metadata") or {}).get("name", "")
    return Outcome.of(resp, f"{_label(res, made)} created")


async def create_from_yaml(cluster: str, text: str, default_namespace: str = "default") -> list[Outcome]:
    """`kubectl create -f`: every document of the YAML, in order; one Outcome each."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        return [Outcome.bad(f"error parsing YAML: {e}")]
    if not docs:
        return [Outcome.bad("no objects passed to create")]
    out = []
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            for item in doc["items"]:
                out.append(await create(cluster, item, default_namespace))
        else:
            out.append(await create(cluster, doc, default_namespace))
    return out


def as_yaml(obj: dict) -> str:
    """An object as `kubectl get -o yaml` shows it (managedFields left out, as kubectl does)."""
    md = obj.get("metadata")
    if isinstance(md, dict) and "managedFields" in md:
        obj = dict(obj, metadata={k: v for k, v in md.items() if k != "managedFields"})
    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, allow_unicode=True)


@_refusals
async def get_yaml(cluster: str, kind: str, namespace: str, name: str, credentials: dict | None = None) -> Outcome:
    """GET the object (as the visitor, with `credentials`); `data` is its YAML."""
    if not name:
        return Outcome.bad("name: Required value")
    res = await _resolve_or_fail(cluster, kind)
    resp = await _get(cluster, res, namespace, name, credentials)
    rv = resp["body"]["metadata"].get("resourceVersion")
    return Outcome(True, f"{_label(res, name)} loaded (resourceVersion {rv}): edit it, then Save",
                   data=as_yaml(resp["body"]))


@_refusals
async def put_yaml(cluster: str, text: str) -> Outcome:
    """PUT the object the YAML describes (kubectl edit's replace): the resourceVersion in it
    makes a concurrent change a 409 Conflict rather than a lost update."""
    try:
        obj = yaml.safe_load(text)
    except yaml.YAMLError as e:
        return Outcome.bad(f"error parsing YAML: {e}")
    if not isinstance(obj, dict) or not obj.get("kind") or not obj.get("apiVersion"):
        return Outcome.bad("the object needs apiVersion and kind")
    md = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    if not md.get("name"):
        return Outcome.bad("metadata.name: Required value")
    res = await _resolve_or_fail(cluster, obj["kind"], obj["apiVersion"])
    resp = await services.cluster_api(cluster, request("update", res, md.get("namespace"), md["name"], body=obj))
    body = resp.get("body") or {}
    return Outcome.of(resp, f'{_label(res, md["name"])} edited (resourceVersion '
                            f'{(body.get("metadata") or {}).get("resourceVersion")})',
                      data=as_yaml(body) if resp.get("code") == 200 else None)


# -- scale, image, pause, restart, delete ------------------------------------------------------
@_refusals
async def scale(cluster: str, kind: str, namespace: str, name: str, replicas: int) -> Outcome:
    """`kubectl scale`: a merge patch of the scale subresource."""
    res = await _resolve_or_fail(cluster, kind)
    if "scale" not in (res.get("subresources") or ()):
        return Outcome.bad(f'{res["kind"]} "{name}" cannot be scaled (it has no scale subresource)')
    resp = await services.cluster_api(cluster, request("patch", res, namespace, name, subresource="scale",
                                                       body={"spec": {"replicas": replicas}},
                                                       patch_type="application/merge-patch+json"))
    return Outcome.of(resp, f"{_label(res, name)} scaled to {replicas}")


def pod_template_path(obj: dict) -> list[str] | None:
    """Where an object keeps its pod template: spec.template (Deployment, ReplicaSet,
    DaemonSet, StatefulSet, Job, ReplicationController) or spec.jobTemplate.spec.template
    (CronJob) - read from the object's shape, as kubectl's polymorphic helpers do per kind."""
    spec = obj.get("spec") or {}
    if isinstance(spec.get("template"), dict):
        return ["spec", "template"]
    jt = (spec.get("jobTemplate") or {}).get("spec") or {}
    if isinstance(jt.get("template"), dict):
        return ["spec", "jobTemplate", "spec", "template"]
    return None


def _nest(path: list[str], leaf: dict) -> dict:
    out = leaf
    for key in reversed(path):
        out = {key: out}
    return out


@_refusals
async def set_image(cluster: str, kind: str, namespace: str, name: str, container: str, image: str) -> Outcome:
    """`kubectl set image KIND/NAME CONTAINER=IMAGE` (CONTAINER "*": every container; empty:
    the only one): a strategic merge patch of the template's containers, merged by name.  On a
    Deployment this is what starts a rolling update."""
    if not image:
        return Outcome.bad("image: Required value")
    res = await _resolve_or_fail(cluster, kind)
    obj = (await _get(cluster, res, namespace, name))["body"]
    path = pod_template_path(obj)
    if path is None:
        return Outcome.bad(f'{res["kind"]} "{name}" has no pod template')
    template = obj
    for key in path:
        template = template[key]
    names = [c.get("name") for c in (template.get("spec") or {}).get("containers") or ()]
    if container == "*":
        chosen = names
    elif container:
        if container not in names:
            return Outcome.bad(f'unable to find container named "{container}"', 422, "Invalid")
        chosen = [container]
    elif len(names) == 1:
        chosen = names
    else:
        return Outcome.bad(f"container: which one? {', '.join(names)} (or * for all)")
    patch = _nest(path, {"spec": {"containers": [{"name": n, "image": image} for n in chosen]}})
    resp = await services.cluster_api(cluster, request("patch", res, namespace, name, body=patch,
                                                       patch_type="application/strategic-merge-patch+json"))
    return Outcome.of(resp, f"{_label(res, name)} image updated: {', '.join(chosen)}={image}")


def pause_refusal(res: dict, name: str, paused: bool) -> str:
    """kubectl rollout pause|resume's error for a no-op (rollout_pause.go, rollout_resume.go):
    `deployments.apps "web" is already paused` / `... is not paused`."""
    word = "already paused" if paused else "not paused"
    return f'{res["name"]}.{res["group"]} "{name}" is {word}' if res.get("group") else f'{res["name"]} "{name}" is {word}'


@_refusals
async def set_paused(cluster: str, kind: str, namespace: str, name: str, paused: bool) -> Outcome:
    """`kubectl rollout pause|resume`: spec.paused (kubectl refuses a no-op, as here)."""
    res = await _resolve_or_fail(cluster, kind)
    obj = (await _get(cluster, res, namespace, name))["body"]
    if "paused" not in (obj.get("spec") or {}) and res.get("kind") != "Deployment":
        return Outcome.bad(f'{_label(res, name)}: {"pausing" if paused else "resuming"} is not supported')
    if bool((obj.get("spec") or {}).get("paused")) == paused:
        return Outcome.bad(pause_refusal(res, name, paused))
    resp = await services.cluster_api(cluster, request("patch", res, namespace, name,
                                                       body={"spec": {"paused": paused}},
                                                       patch_type="application/merge-patch+json"))
    return Outcome.of(resp, f'{_label(res, name)} {"paused" if paused else "resumed"}')


@_refusals
async def restart(cluster: str, kind: str, namespace: str, name: str) -> Outcome:
    """`kubectl rollout restart`: the template's kubectl.kubernetes.io/restartedAt annotation set
    to now (the cluster's clock), a new template, so a new rollout."""
    res = await _resolve_or_fail(cluster, kind)
    got = await _get(cluster, res, namespace, name)
    obj = got["body"]
    if obj.get("spec", {}).get("paused"):
        return Outcome.bad(f"can't restart paused {res['kind'].lower()} (run rollout resume first)")
    path = pod_template_path(obj)
    if path is None or path != ["spec", "template"]:
        return Outcome.bad(f'{_label(res, name)}: restarting is not supported')
    now = timestamp(float(got.get("now") or 0))
    patch = _nest(path, {"metadata": {"annotations": {RESTARTED_AT: now}}})
    resp = await services.cluster_api(cluster, request("patch", res, namespace, name, body=patch,
                                                       patch_type="application/strategic-merge-patch+json"))
    return Outcome.of(resp, f"{_label(res, name)} restarted ({RESTARTED_AT}: {now})")


@_refusals
async def delete(cluster: str, kind: str, namespace: str, name: str, cascade: str) -> Outcome:
    """`kubectl delete --cascade=background|foreground|orphan`: DeleteOptions.propagationPolicy."""
    policy = next((c for c in CASCADES if c.lower() == (cascade or "background").lower()), None)
    if policy is None:
        return Outcome.bad(f'cascade: "{cascade}" is not one of {", ".join(CASCADES)}')
    res = await _resolve_or_fail(cluster, kind)
    body = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": policy}
    resp = await services.cluster_api(cluster, request("delete", res, namespace, name, body=body))
    what = {"Background": "its dependents are deleted by the garbage collector",
            "Foreground": "it stays (with the foregroundDeletion finalizer) until its dependents are gone",
            "Orphan": "its dependents are kept, their ownerReferences removed"}[policy]
    return Outcome.of(resp, f"{_label(res, name)} deleted (cascade {policy}: {what})")


# -- rollback ---------------------------------------------------------------------------------
def _strip_hash(template: dict) -> dict:
    md = dict(template.get("metadata") or {})
    labels = {k: v for k, v in (md.get("labels") or {}).items() if k != POD_TEMPLATE_HASH}
    if labels or "labels" in md:
        md["labels"] = labels
    return dict(template, metadata=md)


def rollback_plan(deployment: dict, replicasets: list[dict], to_revision: int) -> tuple[list | None, str]:
    """kubectl's DeploymentRollbacker.Rollback, without the requests: (a JSON patch, "rolled
    back") or (None, why not).  `replicasets` are those the Deployment controls.

    to_revision 0 means the revision before the newest (deploymentRevision); the ReplicaSet's
    template, minus its pod-template-hash label, replaces spec.template, and the Deployment's
    annotations become the ReplicaSet's (but for ANNOTATIONS_TO_SKIP, which the Deployment
    keeps).  The controller then gives the old template a new revision number."""
    name = deployment["metadata"]["name"]
    if to_revision < 0:
        return None, f"unable to find specified revision {to_revision} in history"
    if (deployment.get("spec") or {}).get("paused"):
        return None, (f"you cannot rollback a paused deployment; resume it first with "
                      f"'kubectl rollout resume deployment/{name}' and try again")
    chosen = None
    latest, latest_rev, previous, previous_rev = None, -1, None, -1
    for rs in replicasets:
        raw = ((rs.get("metadata") or {}).get("annotations") or {}).get(REVISION)
        try:
            v = int(raw)
        except (TypeError, ValueError):
            continue
        if to_revision == 0:
            if latest_rev < v:
                previous, previous_rev, latest, latest_rev = latest, latest_rev, rs, v
            elif previous_rev < v:
                previous, previous_rev = rs, v
        elif v == to_revision:
            chosen = rs
            break
    if to_revision > 0 and chosen is None:
        return None, f"unable to find specified revision {to_revision} in history"
    if to_revision == 0:
        if previous is None:
            return None, f'no rollout history found for deployment "{name}"'
        chosen = previous
    template = _strip_hash(chosen["spec"]["template"])
    current = _strip_hash((deployment.get("spec") or {}).get("template") or {})
    if template == current:
        rev = ((chosen.get("metadata") or {}).get("annotations") or {}).get(REVISION)
        return None, f"skipped rollback (current template already matches revision {rev})"
    own = (deployment.get("metadata") or {}).get("annotations") or {}
    annotations = {k: own[k] for k in ANNOTATIONS_TO_SKIP if k in own}
    for k, v in ((chosen.get("metadata") or {}).get("annotations") or {}).items():
        if k not in ANNOTATIONS_TO_SKIP:
            annotations[k] = v
    return [{"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": annotations}], "rolled back"


DEPLOYMENTS = {"name": "deployments", "group": "apps", "version": "v1", "kind": "Deployment", "namespaced": True}
REPLICASETS = {"name": "replicasets", "group": "apps", "version": "v1", "kind": "ReplicaSet", "namespaced": True}


@_refusals
async def rollback_deployment(cluster: str, namespace: str, name: str, to_revision: int = 0) -> Outcome:
    """`kubectl rollout undo deployment/NAME [--to-revision=N]`: GET the Deployment, LIST its
    ReplicaSets (its selector, then its controllerRef, as deploymentutil.GetAllReplicaSets
    does), and JSON-patch the chosen revision's template into it (rollback_plan)."""
    dep = (await _get(cluster, DEPLOYMENTS, namespace, name))["body"]
    selector = format_label_selector((dep.get("spec") or {}).get("selector") or {})
    resp = await services.cluster_api(cluster, request("list", REPLICASETS, namespace,
                                                       query={"labelSelector": selector}))
    if resp.get("code") != 200:
        return Outcome.failed(resp)
    uid = dep["metadata"].get("uid")
    owned = [rs for rs in (resp.get("body") or {}).get("items") or ()
             if any(r.get("controller") and r.get("uid") == uid for r in rs["metadata"].get("ownerReferences") or ())]
    patch, why = rollback_plan(dep, owned, to_revision)
    if patch is None:
        ok = why.startswith("skipped")
        return Outcome(ok, f"deployment.apps/{name} {why}" if ok else why, 200 if ok else 400,
                       None if ok else "BadRequest")
    resp = await services.cluster_api(cluster, request("patch", DEPLOYMENTS, namespace, name, body=patch,
                                                       patch_type="application/json-patch+json"))
    target = f" to revision {to_revision}" if to_revision else ""
    return Outcome.of(resp, f"deployment.apps/{name} rolled back{target}")


def history_rollback_plan(obj: dict, revisions: list[dict], to_revision: int) -> tuple[dict | None, str]:
    """kubectl's DaemonSetRollbacker / StatefulSetRollbacker, without the requests: (the chosen
    ControllerRevision's data, a strategic merge patch that puts its template back, "rolled
    back") or (None, why not).  `revisions` are the ControllerRevisions the object controls;
    to_revision 0 is the one before the newest (findHistory)."""
    if to_revision < 0:
        return None, f"unable to find specified revision {to_revision} in history"
    history = sorted((r for r in revisions if isinstance(r.get("revision"), int)), key=lambda r: r["revision"])
    if to_revision == 0 and len(history) <= 1:
        return None, "no last revision to roll back to"
    chosen = history[-2] if to_revision == 0 else next((r for r in history if r["revision"] == to_revision), None)
    if chosen is None:
        return None, f"unable to find specified revision {to_revision} in history"
    template = dict((obj.get("spec") or {}).get("template") or {}, **{"$patch": "replace"})
    if chosen.get("data") == {"spec": {"template": template}}:  # daemonSetMatch / statefulSetMatch
        return None, f"skipped rollback (current template already matches revision {chosen['revision']})"
    return chosen.get("data") or {}, "rolled back"


CONTROLLER_REVISIONS = {"name": "controllerrevisions", "group": "apps", "version": "v1", "kind": "ControllerRevision",
                        "namespaced": True}


@_refusals
async def rollback(cluster: str, kind: str, namespace: str, name: str, to_revision: int = 0) -> Outcome:
    """`kubectl rollout undo KIND/NAME [--to-revision=N]`: a Deployment through its ReplicaSets
    (rollback_deployment); a DaemonSet or StatefulSet through its ControllerRevisions (LIST by
    its selector and controllerRef, then a strategic merge patch of the chosen revision's data)."""
    res = await _resolve_or_fail(cluster, kind)
    if res.get("kind") == "Deployment" and res.get("group") == "apps":
        return await rollback_deployment(cluster, namespace, name, to_revision)
    obj = (await _get(cluster, res, namespace, name))["body"]
    if (obj.get("spec") or {}).get("selector") is None or not pod_template_path(obj):
        return Outcome.bad(f"no rollbacker has been implemented for {res['kind']!r}")
    selector = format_label_selector(obj["spec"]["selector"])
    resp = await services.cluster_api(cluster, request("list", CONTROLLER_REVISIONS, namespace,
                                                       query={"labelSelector": selector}))
    if resp.get("code") != 200:
        return Outcome.failed(resp)
    uid = obj["metadata"].get("uid")
    owned = [r for r in (resp.get("body") or {}).get("items") or ()
             if any(o.get("controller") and o.get("uid") == uid for o in r["metadata"].get("ownerReferences") or ())]
    patch, why = history_rollback_plan(obj, owned, to_revision)
    label = _label(res, name)
    if patch is None:
        ok = why.startswith("skipped")
        return Outcome(ok, f"{label} {why}" if ok else why, 200 if ok else 400, None if ok else "BadRequest")
    resp = await services.cluster_api(cluster, request("patch", res, namespace, name, body=patch,
                                                       patch_type="application/strategic-merge-patch+json"))
    target = f" to revision {to_revision}" if to_revision else ""
    return Outcome.of(resp, f"{label} rolled back{target}")


# -- load ---------------------------------------------------------------------------------------
async def set_load(cluster: str, namespace: str, kind: str, name: str, requests_per_second: float) -> Outcome:
    """The simulator's load generator for one workload (services.set_load, Cluster.set_load):
    that many HTTP requests a second to its ready pods, which drives their CPU - and an HPA."""
    try:
        result = await services.set_load(cluster, namespace, kind, name, requests_per_second)
    except services.SimulationError as e:
        return Outcome(False, e.message, e.status, e.reason)
    return Outcome(True, f"{kind}/{name}: load set to {requests_per_second:g} requests/s", data=result)


# -- nodes ------------------------------------------------------------------------------------
NODES = {"name": "nodes", "group": "", "version": "v1", "kind": "Node", "namespaced": False}
PODS = {"name": "pods", "group": "", "version": "v1", "kind": "Pod", "namespaced": True}


async def cordon(cluster: str, node: str, unschedulable: bool = True) -> Outcome:
    """`kubectl cordon|uncordon NODE`: a patch of spec.unschedulable (kubectl says "already
    cordoned" and sends nothing when there is nothing to change)."""
    if not node:
        return Outcome.bad("node: pick a node")
    resp = await services.cluster_api(cluster, request("get", NODES, None, node))
    if resp.get("code") != 200:
        return Outcome.failed(resp)
    word = "cordoned" if unschedulable else "uncordoned"
    if bool((resp["body"].get("spec") or {}).get("unschedulable")) == unschedulable:
        return Outcome(True, f"node/{node} already {word}")
    resp = await services.cluster_api(cluster, request("patch", NODES, None, node,
                                                       body={"spec": {"unschedulable": unschedulable or None}},
                                                       patch_type="application/merge-patch+json"))
    return Outcome.of(resp, f"node/{node} {word}")


def _controller(pod: dict) -> dict | None:
    return next((r for r in pod["metadata"].get("ownerReferences") or () if r.get("controller")), None)


def drain_filter(pod: dict, ignore_daemonsets: bool, delete_emptydir_data: bool, force: bool) -> tuple[str, str]:
    """kubectl drain's pod filters (k8s.io/kubectl/pkg/drain/filters.go), in its order:
    ("evict" | "skip" | "refuse", why).  Mirror pods are skipped silently; DaemonSet pods
    skipped with --ignore-daemonsets (refused otherwise); pods with emptyDir refused without
    --delete-emptydir-data; pods no controller manages refused without --force.  A pod that
    finished is evicted whatever it holds."""
    md = pod["metadata"]
    terminal = (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
    ref = _controller(pod)
    if ref is not None and ref.get("kind") == "DaemonSet":
        if ignore_daemonsets:
            return "skip", "ignoring DaemonSet-managed Pods"
        return "refuse", "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
    if MIRROR in (md.get("annotations") or {}):
        return "skip", ""
    if not terminal and not delete_emptydir_data and any(
            "emptyDir" in v for v in (pod.get("spec") or {}).get("volumes") or ()):
        return "refuse", "cannot delete Pods with local storage (use --delete-emptydir-data to override)"
    if not terminal and ref is None and not force:
        return "refuse", "cannot delete Pods that declare no controller (use --force to override)"
    return "evict", ""


async def drain(cluster: str, node: str, ignore_daemonsets: bool = True, delete_emptydir_data: bool = True,
                force: bool = False) -> Outcome:
    """`kubectl drain NODE`, one pass: cordon it, then evict every pod the filters let go
    through the policy/v1 eviction subresource, so PodDisruptionBudgets apply.  kubectl retries
    an eviction a budget refuses (429) every 5 s until its --timeout; the page does one pass and
    says which pods are still there, so Drain can be pressed again."""
    cordoned = await cordon(cluster, node, True)
    if not cordoned.ok:
        return cordoned
    lines = [cordoned.message]
    resp = await services.cluster_api(cluster, request("list", PODS, None,
                                                       query={"fieldSelector": f"spec.nodeName={node}"}))
    if resp.get("code") != 200:
        return Outcome.failed(resp)
    pods = sorted((resp.get("body") or {}).get("items") or (),
                  key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"]))
    evict, refused, ignored = [], {}, []
    for pod in pods:
        verdict, why = drain_filter(pod, ignore_daemonsets, delete_emptydir_data, force)
        key = f'{pod["metadata"]["namespace"]}/{pod["metadata"]["name"]}'
        if verdict == "evict":
            evict.append(pod)
        elif verdict == "refuse":
            refused.setdefault(why, []).append(key)
        elif why:
            ignored.append(key)
    if refused:
        # kubectl refuses the whole drain (after cordoning) when a filter refuses a pod.
        lines += [f"error: {why}: {', '.join(keys)}" for why, keys in refused.items()]
        return Outcome(False, "\n".join(lines), 400, "BadRequest")
    if ignored:
        lines.append(f"Warning: ignoring DaemonSet-managed Pods: {', '.join(ignored)}")
    blocked = []
    for pod in evict:
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        lines.append(f"evicting pod {ns}/{name}")
        body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": ns}}
        r = await services.cluster_api(cluster, request("create", PODS, ns, name, body=body, subresource="eviction"))
        code = r.get("code")
        if code in (200, 201, 404):
            lines.append(f"pod/{name} evicted")
        elif code == 429:
            msg = ((r.get("body") or {}).get("message")
                   or "Cannot evict pod as it would violate the pod's disruption budget.")
            lines.append(f"error when evicting pods/\"{name}\" -n \"{ns}\" (will retry after 5s): {msg}")
            blocked.append(f"{ns}/{name}")
        else:
            why = (r.get("body") or {}).get("message", code)
            lines.append(f'error when evicting pods/"{name}" -n "{ns}": {why}')
            return Outcome(False, "\n".join(lines), int(code or 500))
    if blocked:
        lines.append(f"{len(blocked)} pod(s) not evicted yet, their PodDisruptionBudget allows no disruption now: "
                     f"press Drain again once the budget allows (kubectl drain retries every 5 s)")
        return Outcome(False, "\n".join(lines), 429, "TooManyRequests")
    lines.append(f"node/{node} drained")
    return Outcome(True, "\n".join(lines))

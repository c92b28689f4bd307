"""The simulator control API: JSON over HTTP, for scripts, tests and the README's examples.

    GET  /clusters/<name>/sim/v1/clock              -> {"time", "speed", "paused"}
    POST /clusters/<name>/sim/v1/clock              {"speed": 5} | {"paused": true} |
                                                    {"advance": "400s"} | {"step": "1s"}
                                                    (step pauses the clock, then runs 1s)
    POST /clusters/<name>/sim/v1/nodes              {"name": "worker-4", "cpu": "4", "memory": "8Gi",
                                                     "runtime": "containerd" | "cri-o" | "docker",
                                                     "kubeletVersion"?: "v1.35.2", "labels"?: {...}}
    POST /clusters/<name>/sim/v1/nodes/<node>/kill
    POST /clusters/<name>/sim/v1/nodes/<node>/restore
    GET  /clusters/<name>/sim/v1/nodes/<node>/iptables  -> {"rules": iptables-save text, "syncedAt",
                                                    "services", "endpoints", ...} (kube-proxy's)
    GET  /clusters/<name>/sim/v1/nodes/<node>/routes    -> {"routes": `ip route` text, "routes6": `ip -6 route`,
                                                    "table", "links", "podCIDR", "podCIDRs", "cni",
                                                    "networkReady"} (the CNI plugin's)
    POST /clusters/<name>/sim/v1/traffic            {"from": "pod ns/name" | "node name" | "outside",
                                                     "to": "web.default" | ip | "ip:port" | URL,
                                                     "count"?: 1..1000, "port"?, "protocol"?}
                                                    -> {"summary": {"verdicts", "endpoints"},
                                                        "requests": [trace per request]} (sim/traffic.py)
    GET  /clusters/<name>/sim/v1/nodes/<node>/proxy-rules -> {"mode", "text" (iptables-save in
                                                    iptables mode), "syncedAt", "syncs",
                                                    "services", "endpoints", "metrics", ...}
    POST /clusters/<name>/sim/v1/nodes/<node>/components/<component>/kill
                                                    (kube-apiserver, kube-controller-manager,
                                                    kube-scheduler, stacked etcd: the kubelet
                                                    restarts its static pod's container)
    GET  /clusters/<name>/sim/v1/pods/<ns>/<pod>/cri    the CRI calls made for the pod
    POST /clusters/<name>/sim/v1/pods/<ns>/<pod>/fault  {"container"?, "fault": "crash" | "hang" | "fail-health" |
                                                    "unready" | "leak-memory" | "burn-cpu" | "recover", ...}
    GET  /clusters/<name>/sim/v1/workloads/<ns>/<kind>/<name>/load   -> {"requestsPerSecond", "pods", "sent", ...}
    POST /clusters/<name>/sim/v1/workloads/<ns>/<kind>/<name>/load   {"requestsPerSecond": 20} (0 stops it):
                                                    HTTP requests to the workload's ready pods
                                                    (sim/loadgenerator.py)
    GET  /clusters/<name>/sim/v1/state              -> frame, clock, snapshot, recent log
    GET  /clusters/<name>/sim/v1/network            -> {"partition": [[node, ...], ...]}
    POST /clusters/<name>/sim/v1/network/partition  {"groups": [["worker-1"], ["cp-1", "worker-2"]]}
    POST /clusters/<name>/sim/v1/network/link       {"a": "etcd-1", "b": "etcd-2", "latencyMs": 200, "loss": 0.1}
    POST /clusters/<name>/sim/v1/network/heal
    GET  /clusters/<name>/sim/v1/etcd               -> {"members": [{"name", "role", "term", "vote",
                                                    "leader", "commitIndex", "appliedIndex", ...}]}
    POST /clusters/<name>/sim/v1/etcd/members/<member>/kill | restore | timeout |
         transfer-leadership | isolate             -> {"member", "members", "network"}
    GET  /clusters/<name>/sim/v1/etcd/members       -> {"members": [{"ID", "name", "peerURLs", "clientURLs",
                                                    "isLearner", "started", "host"}]}  (etcdctl member list)
    POST /clusters/<name>/sim/v1/etcd/members       {"host": "etcd-4" | a node, "learner"?: true} -> 201
                                                    {"member", "members", "initialCluster", ...}
                                                    (etcdctl member add, then etcd started on the host)
    POST /clusters/<name>/sim/v1/etcd/members/<member>/promote | remove   (<member>: name or hex ID)
                                                    -> {"member", "members", "status"}
    POST /clusters/<name>/sim/v1/etcd/put           {"key": "k", "value": "v"} -> {"key", "revision", ...}
    POST /clusters/<name>/sim/v1/etcd/compact       {"revision"?: 120} -> {"compacted", "members"}
    GET  /clusters/<name>/sim/v1/etcd/snapshot      -> {"member", "revision", "kvs": [[key, value, rev]]}
    POST /clusters/<name>/sim/v1/etcd/snapshot/restore  that snapshot -> {"revision", "keys", "members"}
    GET  /sim/v1/clusters                           -> {"clusters": [...]}
    POST /sim/v1/clusters                           {"name": "lab-2", "seed": 7, "nodes"?: [...],
                                                     "etcd"?: {"members": 3, "topology": "external",
                                                               "heartbeatInterval": "100ms",
                                                               "electionTimeout": "1s"},
                                                     "nodeMonitorGracePeriod"?: "50s",
                                                     "defaultTolerationSeconds"?: 300,
                                                     "schedulerConfiguration"?: {...}}
                                                     "access"?: "open" | "owned"  (who may use the Kubernetes API:
                                                     anyone as an administrator, or only holders of
                                                     a token, held to RBAC; docs/security/rbac.md)}
                                                    -> {"cluster", "time", ...; an owned cluster's
                                                        also "token" (its presenter's) and
                                                        "presenterLink" (/clusters/<name>/?token=...)}
    GET  /sim/v1/clusters/<name>/kubeconfig          -> a kubeconfig (JSON, which kubectl reads) whose user
                                                    is the cluster's admin (kubernetes-admin, group
                                                    system:masters) with its bearer token; on an owned
                                                    cluster only with the presenter's token
                                                    (Authorization: Bearer or the link's cookie), a
                                                    student's own with theirs, else 403

On an owned cluster every write of this API (and GET etcd/snapshot) needs the presenter's token
as Authorization: Bearer (or the presenter link's cookie); others get a 403 Status
(cluster/access.py).
    GET  /clusters/<name>/sim/v1/scheduler[/pods/<ns>/<pod>]  see cluster/api/schedulerviews.py
    GET  /clusters/<name>/sim/v1/history            -> {"moments": [{"time", "frame", "revision"}], "journal",
                                                    "replayable", "unreplayable", "bounds", "bytes"}
    GET  /clusters/<name>/sim/v1/history/<at>       the cluster as it was then ("12.5", "12.5s" or "frame-42":
                                                    the latest moment at or before it; ?parts=snapshot,events,etcd,objects)
                                                    -> {"time", "frame", "revision", "snapshot", "events",
                                                        "etcd": {"revision", "kvs"}, "objects"}
    GET  /clusters/<name>/sim/v1/export             -> a PilothouseRun document: config (seed, topology, start
                                                    time, credentials), journal, end point, etcd digest
    POST /clusters/<name>/sim/v1/fork               {"name", "time"? | "frame"?, "paused"?: true} -> 201: a new
                                                    cluster replaying this one's run up to that moment
    POST /sim/v1/clusters                           {"name", "forkOf": {"cluster", "time"? | "frame"?}} (the same)
                                                    or {"name", "import": <export>, "paused"?: true,
                                                        "exact"?: true} -> 201
                                                    {"cluster", "time", ..., "replayed", "verified"}
                                                    (docs/timeline.md)
    POST /sim/v1/clusters                           {"name", "lesson": "<id>"} -> 201: the cluster the
                                                    lesson wants (its `cluster:` spec, or its saved
                                                    moment imported, paused), the lesson started
                                                    (docs/lessons.md)

Errors are Kubernetes Status objects (kind, status, reason, code, message and, for an invalid
body (422 Invalid), details.causes) with that HTTP status (404 unknown cluster, node or member,
400 bad input, 405 wrong method, 409 existing cluster or stopped member, 503 etcd without a
leader, 504 "etcdserver: request timed out"), each also carrying the same fields as
{"error": {"code", "reason", "message"}}, the control API's first error shape.

Every view is wrapped in `control(methods)`: other methods get 405, and a SimulationError from
the services becomes that error body.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from cluster import access, classroom, services
from cluster.api.status import status as k8s_status
from sim.api import gojson
from sim.apiserver.server import ETCD_MAX_REQUEST_BYTES


def _error(code: int, reason: str, message: str, causes: list | None = None) -> JsonResponse:
    """A Kubernetes Status (field causes in details), plus the control API's own "error" object,
    which scripts written against its first shape read."""
    body = k8s_status(code, reason, message, {"causes": causes} if causes else None)
    body["error"] = {"code": code, "reason": reason, "message": message}
    return JsonResponse(body, status=code)


def _from(e: services.SimulationError) -> JsonResponse:
    return _error(e.status, e.reason, e.message, e.causes)


def _json(raw: bytes):
    """JSON as the Kubernetes API reads it (sim/api/gojson.py): no NaN or Infinity, nesting
    bounded, numbers keep their literal."""
    try:
        return gojson.loads(raw)
    except gojson.JSONSyntaxError as e:
        raise services.BadCommand(f"the request body is not valid JSON: {e.message}") from None


def _json_body(request) -> dict:
    if not request.body:
        return {}
    body = _json(request.body)
    if not isinstance(body, dict):
        raise services.BadCommand("the request body must be a JSON object")
    return body


def _method_not_allowed(allowed: str) -> JsonResponse:
    resp = _error(405, "MethodNotAllowed", f"use {allowed}")
    resp["Allow"] = allowed
    return resp


def control(methods: str, errors: Callable[[services.SimulationError], JsonResponse] = _from):
    """Decorate one control API view (an async function): a method not in `methods` ("GET",
    "GET, POST") gets 405 with an Allow header, and a SimulationError raised by the view
    becomes `errors(e)` (the control API's {"error": ...} body by default).  Views are
    CSRF-exempt: this is a JSON API for scripts, not a form."""
    allowed = {m.strip() for m in methods.split(",")}

    def wrap(view):
        @functools.wraps(view)
        async def wrapped(request, *args, **kwargs):
            if request.method not in allowed:
                return _method_not_allowed(methods)
            try:
                return await view(request, *args, **kwargs)
            except services.SimulationError as e:
                return errors(e)

        return csrf_exempt(wrapped)

    return wrap


_CLOCK_KEYS = {"speed", "paused", "advance", "step"}


@control("GET, POST")
async def clock(request, cluster: str):
    if request.method == "GET":
        return JsonResponse(await services.get_clock(cluster))
    body = _json_body(request)
    unknown = set(body) - _CLOCK_KEYS
    if unknown:
        raise services.BadCommand(f"unknown field(s) {', '.join(sorted(unknown))}; use speed, paused, advance or step")
    if not body:
        raise services.BadCommand("give one of speed, paused, advance or step")
    return JsonResponse(await services.set_clock(cluster, **body))


@control("POST")
async def nodes(request, cluster: str):
    body = _json_body(request)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise services.BadCommand("name: Required value")
    # The capacity is checked where cluster configurations are (sim/clusterconfig.check_capacity):
    # a quantity, positive, finite, within the engine's bounds.
    runtime = body.get("runtime", "containerd")
    if not isinstance(runtime, str):
        raise services.BadCommand('runtime: must be "containerd", "cri-o" or "docker"')
    kubelet_version = body.get("kubeletVersion", "")
    if not isinstance(kubelet_version, str):
        raise services.BadCommand('kubeletVersion: must be a string such as "v1.35.2"')
    labels = body.get("labels")
    if labels is not None and not isinstance(labels, dict):
        raise services.BadCommand("labels: must be a map of label keys to values")
    result = await services.add_node(cluster, name, cpu=body.get("cpu", "4"), memory=body.get("memory", "8Gi"),
                                     runtime=runtime, kubelet_version=kubelet_version, labels=labels)
    return JsonResponse(result, status=201)


@control("POST")
async def node_action(request, cluster: str, node: str, action: str):
    fn = services.kill_node if action == "kill" else services.restore_node
    return JsonResponse(await fn(cluster, node))


@control("GET")
async def kubeadm_status(request, cluster: str):
    return JsonResponse(await services.kubeadm(cluster, "status"))


@control("POST")
async def kubeadm_action(request, cluster: str, action: str):
    """POST …/kubeadm/init {"node", "uploadCerts"?}, …/kubeadm/join {"node", "token",
    "controlPlane"?, "certificateKey"?}, …/kubeadm/pod-network."""
    body = _json_body(request)
    node, token = body.get("node"), body.get("token")
    if action in ("init", "join") and (not isinstance(node, str) or not node):
        raise services.BadCommand("node: Required value (the host to run kubeadm on)")
    if action == "join" and not isinstance(token, str):
        raise services.BadCommand('token: Required value (the "--token" kubeadm init printed)')
    extra = {}
    if action == "init" and "uploadCerts" in body:
        if not isinstance(body["uploadCerts"], bool):
            raise services.BadCommand("uploadCerts must be true or false")
        extra["uploadCerts"] = body["uploadCerts"]
    if action == "join":
        if not isinstance(body.get("controlPlane", False), bool):
            raise services.BadCommand("controlPlane must be true or false")
        key = body.get("certificateKey")
        if key is not None and not isinstance(key, str):
            raise services.BadCommand('certificateKey must be a string (the "--certificate-key" kubeadm init printed)')
        if body.get("controlPlane"):
            extra["controlPlane"] = True
            if key:
                extra["certificateKey"] = key
    return JsonResponse(await services.kubeadm(cluster, action, node, token, **extra))


@control("POST")
async def component_kill(request, cluster: str, node: str, component: str):
    return JsonResponse(await services.kill_component(cluster, node, component))
@control("GET")
async def pod_cri_calls(request, cluster: str, namespace: str, name: str):
    """The CRI calls the pod's kubelet made for it (sandbox, image pulls, containers created,
    started, stopped), oldest first."""
    return JsonResponse(await services.pod_cri_calls(cluster, namespace, name))


@control("GET")
async def node_iptables(request, cluster: str, node: str):
    """The rules the node's kube-proxy last wrote, as `iptables-save` prints them."""
    return JsonResponse(await services.node_iptables(cluster, node))


@control("GET")
async def node_routes(request, cluster: str, node: str):
    """The node's routing table as its CNI plugin wrote it, as `ip route` prints it."""
    return JsonResponse(await services.node_routes(cluster, node))


@control("POST")
async def traffic(request, cluster: str):
    """Requests from a pod, a node or outside, each traced hop by hop (sim/traffic.py)."""
    return JsonResponse(await services.send_traffic(cluster, _json_body(request)))


@control("GET")
async def node_proxy_rules(request, cluster: str, node: str):
    """The rules the node's kube-proxy last wrote, in its mode's own shape, and its sync metrics."""
    return JsonResponse(await services.node_proxy_rules(cluster, node))


@control("POST")
async def pod_fault(request, cluster: str, namespace: str, name: str):
    """{"container"?, "fault": "crash|hang|fail-health|unready|leak-memory|burn-cpu|recover",
    "exitCode"?, "rate"?, "cpu"?}: a fault in the pod's application (sim/runtime/faults.py)."""
    return JsonResponse(await services.pod_fault(cluster, namespace, name, _json_body(request)))


@control("GET, POST")
async def workload_load(request, cluster: str, namespace: str, kind: str, name: str):
    """GET: the load set on a workload; POST {"requestsPerSecond": n}: set it (0 stops it)."""
    if request.method == "GET":
        return JsonResponse(await services.get_load(cluster, namespace, kind, name))
    body = _json_body(request)
    unknown = set(body) - {"requestsPerSecond"}
    if unknown or "requestsPerSecond" not in body:
        raise services.BadCommand("give requestsPerSecond (a number; 0 stops the load)")
    rps = body["requestsPerSecond"]
    if isinstance(rps, bool) or not isinstance(rps, (int, float)):
        raise services.BadCommand("requestsPerSecond must be a number")
    return JsonResponse(await services.set_load(cluster, namespace, kind, name, float(rps)))


@control("GET")
async def network(request, cluster: str):
    return JsonResponse(await services.get_network(cluster))


@control("POST")
async def network_action(request, cluster: str, action: str):
    if action == "heal":
        return JsonResponse(await services.heal_network(cluster))
    body = _json_body(request)
    if action == "link":
        if not isinstance(body.get("a"), str) or not isinstance(body.get("b"), str):
            raise services.BadCommand("a and b: Required value (two node or etcd member names)")
        return JsonResponse(await services.set_link(cluster, body["a"], body["b"], body.get("latencyMs"),
                                                    body.get("loss")))
    if "groups" not in body:
        raise services.BadCommand("groups: Required value")
    return JsonResponse(await services.partition_network(cluster, body["groups"]))


@control("GET")
async def etcd(request, cluster: str):
    return JsonResponse(await services.etcd_status(cluster))


@control("POST")
async def etcd_member_action(request, cluster: str, member: str, action: str):
    return JsonResponse(await services.etcd_member_action(cluster, member, action))


@control("GET, POST")
async def etcd_members(request, cluster: str):
    """GET: `etcdctl member list`.  POST {"host", "learner"?}: `etcdctl member add`, then etcd
    started on that host; errors as a Kubernetes Status (400, 404, 409, 503, 504)."""
    if request.method == "GET":
        return JsonResponse(await services.etcd_member_list(cluster))
    body = _json_body(request)
    unknown = set(body) - {"host", "learner"}
    if unknown:
        raise services.BadCommand(f"unknown field(s) {', '.join(sorted(unknown))}; use host and learner")
    host, learner = body.get("host"), body.get("learner", False)
    if not isinstance(host, str) or not host:
        raise services.BadCommand("host: Required value (a node without an etcd member, or a new host's name)")
    if not isinstance(learner, bool):
        raise services.BadCommand("learner: must be true or false")
    return JsonResponse(await services.etcd_member_add(cluster, host, learner), status=201)


@control("POST")
async def etcd_member_change(request, cluster: str, member: str, action: str):
    """`etcdctl member promote <id>` / `member remove <id>`."""
    fn = services.etcd_member_promote if action == "promote" else services.etcd_member_remove
    return JsonResponse(await fn(cluster, member))


@control("POST")
async def etcd_put(request, cluster: str):
    body = _json_body(request)
    key, value = body.get("key"), body.get("value", "")
    if not isinstance(key, str) or not key:
        raise services.BadCommand("key: Required value")
    if not isinstance(value, str):
        raise services.BadCommand("value must be a string")
    member = body.get("member")
    if member is not None and not isinstance(member, str):
        raise services.BadCommand("member must be a member name")
    if len(key.encode()) + len(value.encode()) > ETCD_MAX_REQUEST_BYTES:
        raise _TooLarge("etcdserver: request is too large")
    return JsonResponse(await services.etcd_put(cluster, key, value, member=member))


@control("POST")
async def etcd_compact(request, cluster: str):
    body = _json_body(request)
    return JsonResponse(await services.etcd_compact(cluster, body.get("revision")))


@control("GET")
async def etcd_snapshot(request, cluster: str):
    return JsonResponse(await services.etcd_snapshot_save(cluster))


# A snapshot of a large cluster outgrows Django's 2.5 MB DATA_UPLOAD_MAX_MEMORY_SIZE.
MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024


class _TooLarge(services.SimulationError):
    status, reason = 413, "RequestEntityTooLarge"


def _snapshot_body(request, what: str = "snapshot") -> Any:
    raw = request.read(MAX_SNAPSHOT_BYTES + 1)
    if len(raw) > MAX_SNAPSHOT_BYTES:
        raise _TooLarge(f"the {what} is larger than {MAX_SNAPSHOT_BYTES // (1024 * 1024)} MiB")
    if not raw.strip():
        if what != "snapshot":
            raise services.BadCommand("the request body is empty: send a JSON object")
        raise services.BadCommand("the request body is empty: send the JSON that GET .../etcd/snapshot returned")
    return _json(raw)


@control("POST")
async def etcd_snapshot_restore(request, cluster: str):
    """`etcdutl snapshot restore` of a snapshot that GET .../etcd/snapshot returned."""
    return JsonResponse(await services.etcd_snapshot_restore(cluster, _snapshot_body(request)))


@control("GET")
async def state(request, cluster: str):
    return JsonResponse(await services.cluster_state(cluster))


@control("GET, POST")
async def clusters(request):
    if request.method == "GET":
        return JsonResponse({"clusters": await services.list_clusters()})
    # An import carries a whole run: read it as the etcd snapshot restore reads a snapshot.
    body = _snapshot_body(request, what="cluster")
    if not isinstance(body, dict):
        raise services.BadCommand("the request body must be a JSON object")
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise services.BadCommand("name: Required value")
    if "forkOf" in body or "import" in body:
        return await _fork_or_import(request, name, body)
    if "lesson" in body:
        from cluster.api.lessonviews import create_for_lesson   # it imports this module
        return await create_for_lesson(name, body)
    seed = body.get("seed", 1)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise services.BadCommand("seed must be an integer")
    # The topology (etcd, timings) is validated by the worker, which knows the engine's rules.
    options = {k: v for k, v in body.items() if k not in ("name", "seed", "nodes")}
    created = await services.create_cluster(name, seed=seed, nodes=body.get("nodes"), **options)
    if options.get("access") == "owned":
        # Whoever creates an owned cluster is its presenter: the answer carries the token (once;
        # the kubeconfig and the control API want it as Authorization: Bearer) and the link
        # that keeps it in the browser (cluster/access.py).
        token = (await services.cluster_access(name))["token"]
        created.update(token=token, presenterLink=request.build_absolute_uri(f"/clusters/{name}/?token={token}"))
    return JsonResponse(created, status=201)


@control("GET")
async def kubeconfig(request, name: str):
    """The cluster's kubeconfig: its server is this site's /clusters/<name>, its user the static
    admin token; on an owned cluster only for its presenter, while a student gets one with
    their own token and anyone else a 403 (cluster/access.py)."""
    info = await services.cluster_kubeconfig(name)
    visitor = getattr(request, "pilothouse_access", None)
    user, token, namespace = f"{name}-admin", info["token"], "default"
    if visitor is not None and visitor.role == access.STUDENT:
        # system:serviceaccount:<namespace>:<name>: the student works in their own namespace
        parts = visitor.user.split(":")
        user, token = f"{name}-{parts[-1]}", visitor.token
        namespace = parts[2] if len(parts) == 4 else "default"
    return JsonResponse(classroom.kubeconfig(request, name, user, token, namespace))


# -- a cluster's life: delete, reset, and the repair of one that could not be restored --------

@control("GET, DELETE")
async def cluster_item(request, name: str):
    """GET: the cluster's clock, or why it is broken; DELETE: stop it and forget it (its
    persisted state too)."""
    if request.method == "DELETE":
        return JsonResponse(await services.delete_cluster(name))
    state = await services.cluster_state(name)
    return JsonResponse({k: state.get(k) for k in ("cluster", "time", "speed", "paused", "pace", "broken")})


@control("POST")
async def reset(request, cluster: str):
    """Back to the configuration the cluster was created with: a fresh bootstrap in place of
    everything it stored (works on a broken cluster)."""
    return JsonResponse(await services.reset_cluster(cluster))


@control("POST")
async def retry(request, cluster: str):
    """Restore a broken cluster from what is persisted now (after a repair)."""
    return JsonResponse(await services.retry_cluster(cluster))


@control("POST")
async def delete_stored_key(request, cluster: str):
    """{"key": "/registry/pods/default/hello"}: a broken cluster's offline repair, dropping every
    persisted revision of that key, then restoring the cluster again."""
    body = _json_body(request)
    key = body.get("key")
    if not isinstance(key, str) or not key:
        raise services.BadCommand("key: Required value")
    return JsonResponse(await services.delete_stored_key(cluster, key))


# -- the timeline: history, export, fork, import (cluster/worker/timeline.py, docs/timeline.md) ---

@control("GET")
async def history(request, cluster: str):
    """The moments kept: {"moments": [{"time", "frame", "revision"}], "journal", "replayable",
    "unreplayable", "bounds", "bytes", "time", "frame"}."""
    return JsonResponse(await services.history(cluster))


@control("GET")
async def history_at(request, cluster: str, at: str):
    """The cluster as it was at a moment: "<seconds>" or "<seconds>s" (the latest moment at or
    before that virtual time) or "frame-<n>"; ?parts=snapshot,events,etcd,objects (default all)."""
    parts = [p for p in request.GET.get("parts", "").split(",") if p] or None
    return JsonResponse(await services.history_at(cluster, at, parts))


@control("GET")
async def export_run(request, cluster: str):
    """The run, to replay elsewhere: POST it to /sim/v1/clusters as {"name", "import": ...}."""
    resp = JsonResponse(await services.export_run(cluster))
    resp["Content-Disposition"] = f'attachment; filename="{cluster}-run.json"'
    return resp


_FORK_KEYS = {"name", "time", "frame", "paused"}


@control("POST")
async def fork(request, cluster: str):
    """{"name", "time"? | "frame"?, "paused"?}: a new cluster from a moment of this one."""
    body = _json_body(request)
    unknown = set(body) - _FORK_KEYS
    if unknown:
        raise services.BadCommand(f"unknown field(s) {', '.join(sorted(unknown))}; use name, time or frame, paused")
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise services.BadCommand("name: Required value")
    return await _fork(name, cluster, body)


async def _fork(name: str, source: Any, spec: dict) -> JsonResponse:
    if not isinstance(source, str) or not source:
        raise services.BadCommand("forkOf.cluster: Required value")
    if spec.get("time") is not None and spec.get("frame") is not None:
        raise services.BadCommand("give time or frame, not both")
    frame = spec.get("frame")
    if frame is not None and (isinstance(frame, bool) or not isinstance(frame, int)):
        raise services.BadCommand("frame must be an integer")
    time = spec.get("time")
    if time is not None and (isinstance(time, bool) or not isinstance(time, (int, float, str))):
        raise services.BadCommand('time must be virtual seconds (12.5) or a duration ("12.5s")')
    paused = spec.get("paused", True)
    if not isinstance(paused, bool):
        raise services.BadCommand("paused must be true or false")
    return JsonResponse(await services.fork_cluster(source, name, time=time, frame=frame, paused=paused),
                        status=201)


async def _fork_or_import(request, name: str, body: dict) -> JsonResponse:
    if "forkOf" in body and "import" in body:
        raise services.BadCommand("give forkOf or import, not both")
    if "forkOf" in body:
        spec = body["forkOf"]
        if not isinstance(spec, dict):
            raise services.BadCommand('forkOf must be {"cluster", "time"? | "frame"?}')
        unknown = set(spec) - {"cluster", "time", "frame"}
        if unknown:
            raise services.BadCommand(f"forkOf: unknown field(s) {', '.join(sorted(unknown))}")
        source = spec.get("cluster")
        if isinstance(source, str) and source:
            # A fork holds everything its source stored, Secrets and tokens included: only who
            # controls an owned source may make one (cluster/access.py).
            from cluster import access
            try:
                who = await access.of_request(request, source)
            except services.ClusterNotFound:
                who = None   # _fork answers that
            if who is not None and not who.controls:
                return access.forbidden(who, "forking it")
        return await _fork(name, source, {**spec, "paused": body.get("paused", True)})
    paused, exact = body.get("paused", True), body.get("exact", True)
    if not isinstance(paused, bool) or not isinstance(exact, bool):
        raise services.BadCommand("paused and exact must be true or false")
    return JsonResponse(await services.import_run(name, body["import"], paused=paused, exact=exact), status=201)

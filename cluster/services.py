"""Front-end services: how views and consumers talk to the simulation worker.

Every function here is a coroutine that sends one command over the channel layer to the worker
that owns the cluster (`cluster.worker.worker_channel_for`) and awaits its reply on a fresh
reply channel.  Nothing here holds simulation state, so these work the same in the embedded
deployment (worker on the same event loop, in-memory layer) and the scaled-out one (worker in
another process, Redis).

Errors are exceptions, all subclasses of `SimulationError` with an HTTP `status` and a Kubernetes
style `reason`, so a view can turn any of them into a response without knowing which it got:

    ClusterNotFound    404  no cluster by that name
    NodeNotFound       404  no node by that name in the cluster
    MemberNotFound     404  no etcd member by that name in the cluster
    BadCommand         400  invalid input (speed out of range, bad duration, bad node name ...)
    Invalid            422  a document that cannot be used as given (an etcd snapshot that is
                            not one); `causes` say which fields, as a Kubernetes Status does
    AlreadyExists      409  a cluster or node by that name exists
    Conflict           409  the etcd member is stopped (time out / make leader a stopped member)
    EtcdUnavailable    503  etcd has no leader, or no member is running
    EtcdTimeout        504  "etcdserver: request timed out": no quorum committed the write
    WorkerUnavailable  503  no worker answered within PILOTHOUSE["COMMAND_TIMEOUT"] seconds

Typical use (the dashboard's views and consumers):

    state = await cluster_state("demo")          # page's first state: frame n + snapshot + log
    resp = await cluster_api("demo", {"verb": "create", "group": "", "version": "v1",
                                      "resource": "pods", "namespace": "default",
                                      "body": pod})  # -> {"code": 201, "body": {...}}
    await set_clock("demo", speed=5)
    await kill_node("demo", "worker-2")
"""
from __future__ import annotations

import asyncio
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

from cluster import etcdsnapshot
from sim.durations import parse_duration
from cluster.worker import group_for, worker_channel_for

__all__ = [
    "SimulationError",
    "ClusterNotFound",
    "NodeNotFound",
    "MemberNotFound",
    "BadCommand",
    "Invalid",
    "Conflict",
    "EtcdUnavailable",
    "EtcdTimeout",
    "AlreadyExists",
    "WorkerUnavailable",
    "NotFound",
    "ClusterBroken",
    "TooLarge",
    "delete_cluster",
    "reset_cluster",
    "retry_cluster",
    "delete_stored_key",
    "sim_command",
    "cluster_api",
    "cluster_state",
    "cluster_state_json",
    "get_clock",
    "set_clock",
    "kill_node",
    "restore_node",
    "pod_fault",
    "pod_cri_calls",
    "lesson",
    "node_iptables",
    "node_routes",
    "send_traffic",
    "node_proxy_rules",
    "get_load",
    "set_load",
    "add_node",
    "get_network",
    "partition_network",
    "heal_network",
    "etcd_status",
    "etcd_member_action",
    "etcd_put",
    "etcd_member_list",
    "etcd_member_add",
    "etcd_member_promote",
    "etcd_member_remove",
    "etcd_compact",
    "etcd_snapshot_save",
    "etcd_snapshot_restore",
    "ETCD_ACTIONS",
    "scheduler_queue",
    "scheduling_explanation",
    "set_node_labels_and_taints",
    "list_clusters",
    "create_cluster",
    "served_kinds",
    "authorize_path",
    "Refused",
    "cluster_kubeconfig",
    "cluster_access",
    "clusters_summary",
    "watch_cluster",
    "follow_presenter",
    "token_review",
    "group_for",
    "history",
    "history_at",
    "export_run",
    "fork_cluster",
    "import_run",
]


class SimulationError(Exception):
    status = 500
    reason = "InternalError"

    def __init__(self, message: str, causes: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.message = message
        self.causes = causes or []  # Kubernetes StatusCause dicts: {"type", "field", "message"}


class ClusterNotFound(SimulationError, LookupError):
    status, reason = 404, "NotFound"


class NodeNotFound(SimulationError, LookupError):
    status, reason = 404, "NotFound"


class MemberNotFound(SimulationError, LookupError):
    status, reason = 404, "NotFound"


class Conflict(SimulationError):
    status, reason = 409, "Conflict"


class EtcdUnavailable(SimulationError):
    status, reason = 503, "ServiceUnavailable"


class EtcdTimeout(SimulationError):
    status, reason = 504, "Timeout"


class BadCommand(SimulationError, ValueError):
    status, reason = 400, "BadRequest"


class Invalid(SimulationError, ValueError):
    status, reason = 422, "Invalid"


class AlreadyExists(SimulationError):
    status, reason = 409, "AlreadyExists"


class WorkerUnavailable(SimulationError):
    status, reason = 503, "ServiceUnavailable"


class NotFound(SimulationError, LookupError):
    status, reason = 404, "NotFound"


class ClusterBroken(SimulationError):
    """The cluster could not be restored; only state, reset, delete, retry and delete-key work."""
    status, reason = 409, "Conflict"


class TooLarge(SimulationError):
    status, reason = 413, "RequestEntityTooLarge"


class Expired(SimulationError):
    """What was asked for is no longer kept (a moment's keyspace from before a restart)."""
    status, reason = 410, "Expired"


_ERRORS = {
    "ClusterNotFound": ClusterNotFound,
    "NodeNotFound": NodeNotFound,
    "BadRequest": BadCommand,
    "AlreadyExists": AlreadyExists,
    "MemberNotFound": MemberNotFound,
    "Conflict": Conflict,
    "Unavailable": EtcdUnavailable,
    "Timeout": EtcdTimeout,
    "Invalid": Invalid,
    "NotFound": NotFound,
    "ClusterBroken": ClusterBroken,
    "TooLarge": TooLarge,
    "Expired": Expired,
}


async def sim_command(cluster: str | None, command: dict[str, Any], timeout: float | None = None) -> Any:
    """Send one command to the worker owning `cluster` and return its result.

    `command` is {"op": <op>, ...args}.  Ops (results in brackets):
      "api"           {"request": ApiRequest}                      [ApiResponse]
      "stream"        {"node", "token", "stdin", "close_stdin", "close"} [see stream]
      "state"         {} or {"encode": "json"}                     [see cluster_state; {"json": bytes}]
      "clock"         {} or any of {"speed": 0.01..50, "paused": bool, "advance": seconds,
                       "step": seconds | true (pauses first)}      [{"time","speed","paused"}]
      "node.kill"     {"node": name}                               [{"node","alive"}]
      "node.restore"  {"node": name}                               [{"node","alive"}]
      "node.add"      {"node": name, "cpu": "4", "memory": "8Gi"}  [{"node","alive"}]
      "pod.fault"     {"namespace", "name", "body": {"fault", "container"?, ...}}
                                                                   [{"pod","container","node","fault","faults"}]
      "pod.cri"       {"namespace", "name"}                         [{"pod","node","runtime","calls"}]
      "lesson"        {"action": "get"|"start"|"play"|"pause"|"next"|"back"|"restart"|"stop"|"goto",
                       "lesson"?, "step"?}                         [{"player": dict | None}]
                                                                   (cluster/worker/lessons.py)
      "node.iptables" {"node"}                                     [{"node","mode","rules","syncedAt",
                       "syncs","services","endpoints","natRules"}]
      "node.routes"   {"node"}                                     [{"node","cni","podCIDR","networkReady",
                       "routes","table","links"}]
      "traffic"       {"body": {"from","to","count"?,"port"?,"protocol"?}}  [sim/traffic.py's result]
      "node.proxyrules" {"node"}                                   [{"node","mode","text","syncedAt",
                       "syncs","services","endpoints","metrics", ...}]
      "workload.load" {"namespace", "kind", "name", "requestsPerSecond"?}  [{"namespace","kind","name",
                       "requestsPerSecond","pods","sent","answered","failed"}]
      "network.get" / "network.heal" {}, "network.partition" {"groups"}  [{"partition"}]
      "etcd.status"   {}                                           [{"members": [...]}]
      "etcd.kill" | "etcd.restore" | "etcd.timeout" | "etcd.transfer" | "etcd.isolate"
                      {"member": "etcd-2"}                         [{"member","members","network"}]
      "etcd.put"      {"key", "value", "member"?}                  [{"key","revision","member","members"}]
      "etcd.member.list" {}                                        [{"members": [{"ID","name","isLearner",...}]}]
      "etcd.member.add" {"host", "learner"?}                      [{"member","members","initialCluster",...}]
      "etcd.member.promote" | "etcd.member.remove" {"member"}     [{"member","members","status"}]
      "etcd.compact"  {"revision"?}                                [{"compacted","members"}]
      "etcd.snapshot.save" {}                                      [{"member","revision","kvs"}]
      "etcd.snapshot.restore" {"snapshot": {"revision","kvs"}}     [{"revision","keys","members"}]
      "scheduler.queue" {}                                         [Cluster.scheduler_queue()]
      "scheduler.explain" {"namespace", "name"}                    [{"explanation": dict | None}]
      "clusters"      {} (cluster may be None)                     [["demo", ...]]
      "cluster.delete" {}                                          [{"cluster","deleted"}]
      "cluster.reset" {} (back to the configuration it was created with) [{"cluster","time",...}]
      "cluster.retry" {} (a broken cluster: restore it again)      [{"cluster","broken"}]
      "cluster.delete-key" {"key"} (a broken cluster: drop a stored key, retry) [{"cluster","key","removed","broken"}]
      "history"       {}                                           [see history]
      "history.at"    {"at", "parts"?}                             [see history_at]
      "export"        {}                                           [a PilothouseRun document]
      "cluster.fork"  {"source", "name", "time"? | "frame"?, "paused"?}  [{"cluster","time",...,"forkOf"}]
      "cluster.import" {"name", "import": PilothouseRun, "paused"?} [{"cluster","time",...,"verified"}]
      "cluster.create" {"name", "seed"?, "nodes"?, "etcd"?, "nodeMonitorGracePeriod"?,
                       "nodeMonitorPeriod"?, "defaultTolerationSeconds"?,
                       "schedulerConfiguration"?}                  [{"cluster","time",...}]
    Raises a SimulationError subclass (see the module docstring)."""
    layer = get_channel_layer()
    if timeout is None:
        timeout = settings.PILOTHOUSE.get("COMMAND_TIMEOUT", 10.0)
    args = {k: v for k, v in command.items() if k != "op"}
    reply_channel = await layer.new_channel()
    message = {
        "type": "sim.command",
        "op": command.get("op", ""),
        "cluster": cluster,
        "args": args,
        "reply_channel": reply_channel,
    }
    try:
        await layer.send(worker_channel_for(cluster or ""), message)
    except Exception as e:  # ChannelFull: the worker is swamped or gone
        raise WorkerUnavailable(f"the simulation worker is not accepting commands ({type(e).__name__})") from e
    try:
        reply = await asyncio.wait_for(layer.receive(reply_channel), timeout)
    except asyncio.TimeoutError:
        raise WorkerUnavailable(f"the simulation worker did not answer within {timeout:g}s") from None
    except asyncio.CancelledError:
        raise
    except Exception as e:  # the channel layer itself failed (Redis down ...)
        raise WorkerUnavailable(f"the channel layer failed: {type(e).__name__}: {e}") from e
    if reply.get("ok"):
        return reply.get("result")
    error = reply.get("error") or {}
    raise _ERRORS.get(error.get("reason"), SimulationError)(error.get("message", "simulation error"))


async def cluster_api(cluster: str, request: dict[str, Any]) -> dict[str, Any]:
    """Run one Kubernetes API request (an ApiRequest dict, see sim/cluster.py) on the cluster's
    kube-apiserver and return the ApiResponse {"code": int, "body": dict} (or, for verb "watch",
    {"code", "events", "resourceVersion"}), plus "now": the cluster's clock on the API timestamp scale (Cluster.api_time)
    when it answered.  Kubernetes errors (404, 409, 422 ...) come back as
    responses with a Status body, not as exceptions; only an unknown cluster or an unreachable
    worker raises."""
    return await sim_command(cluster, {"op": "api", "request": request})


async def stream(cluster: str, node: str, token: str, stdin: str = "", close_stdin: bool = False,
                 close: bool = False) -> dict[str, Any] | None:
    """One exchange of an exec -i/-t or attach session (sim.cluster.Cluster.stream):
    {"output": [[stream, text]], "done", "exit_code", "error"}, or None once it is over."""
    return await sim_command(cluster, {"op": "stream", "node": node, "token": token, "stdin": stdin,
                                       "close_stdin": close_stdin, "close": close})


async def cluster_api_encoded(cluster: str, request: dict[str, Any]) -> dict[str, Any]:
    """cluster_api, with the body as JSON bytes: {"code", "json": bytes, "now", "warnings"?}
    (a watch's answer keeps its "events").  For a front end that only writes the body out: the
    worker encodes it once and the channel layer need not copy a large list."""
    return await sim_command(cluster, {"op": "api", "request": request, "encode": "json"})


class Refused(SimulationError):
    """kube-apiserver refused the request's credentials (401) or its user (403): `body` is
    its Status."""

    def __init__(self, code: int, body: dict):
        super().__init__(body.get("message", ""))
        self.status, self.reason, self.body = code, body.get("reason", ""), body


async def served_kinds(cluster: str, credentials: dict | None = None, path: str = "") -> dict[str, Any]:
    """What the cluster's kube-apiserver serves: {"revision", "resources": [Resource.describe()]}
    (its registry: the built-in kinds and those its CustomResourceDefinitions add).  With
    `credentials`, asked as a GET of `path` by whoever brings them: Refused if they may not."""
    request: dict[str, Any] = {"verb": "discovery", "resource": ""}
    if credentials is not None:
        request.update(credentials=credentials, path=path, method="get")
    resp = await cluster_api(cluster, request)
    if resp.get("code") in (401, 403):
        raise Refused(resp["code"], resp["body"])
    if resp.get("code") != 200:
        raise SimulationError((resp.get("body") or {}).get("message", "discovery failed"))
    return resp["body"]


async def authorize_path(cluster: str, credentials: dict, path: str, method: str = "get") -> None:
    """Ask the cluster's kube-apiserver whether the credentials may `method` a non-resource
    path (/version, /healthz, /metrics): Refused if not; ClusterNotFound for no cluster."""
    resp = await cluster_api(cluster, {"verb": "nonresource", "path": path, "method": method,
                                       "credentials": credentials})
    if resp.get("code") in (401, 403):
        raise Refused(resp["code"], resp["body"])
    if resp.get("code") != 200:
        raise SimulationError((resp.get("body") or {}).get("message", "authorization failed"))


async def cluster_state(cluster: str) -> dict[str, Any]:
    """The cluster as of its latest frame, for a page's first render:

        {"cluster", "frame": n, "time", "speed", "paused",
         "snapshot": {...Cluster.snapshot() sent with frame n...},
         "log": [recent action / k8s-event / node events, oldest first, each with "frame"]}

    Join the group `group_for(cluster)` BEFORE calling this, then apply only frames numbered
    above n: that way no event is missed and none is counted twice.  Frame n is 0 before the
    first frame was sent."""
    return await sim_command(cluster, {"op": "state"})


async def cluster_state_json(cluster: str) -> bytes:
    """cluster_state as JSON bytes (an object), encoded by the worker: for a caller that only
    passes it on (the WebSocket consumer)."""
    return (await sim_command(cluster, {"op": "state", "encode": "json"}))["json"]


async def get_clock(cluster: str) -> dict[str, Any]:
    """{"time": virtual seconds, "speed": float, "paused": bool}."""
    return await sim_command(cluster, {"op": "clock"})


async def set_clock(
    cluster: str,
    *,
    speed: float | None = None,
    paused: bool | None = None,
    advance: str | float | None = None,
    step: str | float | bool | None = None,
) -> dict[str, Any]:
    """Change the clock; returns the new {"time", "speed", "paused"}.

    speed 0.01..50 (x wall clock); paused; advance: run that much virtual time at once
    ("400s", "5m", "1h30m" or seconds); step: pause, then advance that much (True meaning one
    second).
    Raises BadCommand on out-of-range or malformed values (an advance of more than an hour at
    once, too); EtcdTimeout when a busy cluster could not run that far within a minute."""
    command: dict[str, Any] = {"op": "clock"}
    if speed is not None:
        command["speed"] = speed
    if paused is not None:
        command["paused"] = paused
    for key, value in (("advance", advance), ("step", step)):
        if value is None:
            continue
        if not (key == "step" and value is True):
            try:
                value = parse_duration(value)
            except ValueError as e:
                raise BadCommand(f"{key}: {e}") from None
        command[key] = value
    slow = advance is not None or step is not None
    return await sim_command(cluster, command, timeout=_advance_timeout() if slow else None)


async def kill_node(cluster: str, node: str) -> dict[str, Any]:
    """Stop the node's kubelet and cut it off the network.  NodeNotFound if unknown."""
    return await sim_command(cluster, {"op": "node.kill", "node": node})


async def restore_node(cluster: str, node: str) -> dict[str, Any]:
    """Bring a killed node back; its kubelet resumes and the Node becomes Ready again."""
    return await sim_command(cluster, {"op": "node.restore", "node": node})


async def kubeadm(cluster: str, action: str, node: Any = None, token: Any = None, **extra: Any) -> dict[str, Any]:
    """A student's kubeadm install (sim/kubeadm_install.py): action "status", "init" (on `node`;
    `uploadCerts`), "join" (`node` with `token`; `controlPlane` and `certificateKey` for
    `--control-plane`) or "pod-network"; answers the install's status.  Conflict when the
    cluster was not created with "install": "kubeadm" or kubeadm already runs there."""
    return await sim_command(cluster, {"op": f"kubeadm.{action}", "node": node, "token": token, **extra})


async def pod_cri_calls(cluster: str, namespace: str, name: str) -> dict[str, Any]:
    """The CRI calls the kubelet made for a pod: {"node", "runtime", "calls": [{"time", "method",
    "target"}]}.  NotFound (pod), Conflict (not scheduled, or its node is down)."""
    return await sim_command(cluster, {"op": "pod.cri", "namespace": namespace, "name": name})


async def lesson(cluster: str, action: str = "get", **args: Any) -> dict[str, Any]:
    """The cluster's lesson player (sim/lessons/player.py), ticked, after `action`:
    {"player": {...} | None}.  NotFound (lesson), BadCommand (action, step), Conflict (no lesson
    started)."""
    return await sim_command(cluster, {"op": "lesson", "action": action, **args})


async def node_iptables(cluster: str, node: str) -> dict[str, Any]:
    """The rules the node's kube-proxy last wrote, as iptables-save prints them (sim/kubeproxy.py):
    {"node", "mode", "running", "rules", "syncedAt", "syncs", "services", "endpoints", "natRules"}
    ("running": whether a kube-proxy runs there now; its last rules stay either way).
    NotFound (node)."""
    return await sim_command(cluster, {"op": "node.iptables", "node": node})


async def node_routes(cluster: str, node: str) -> dict[str, Any]:
    """The node's routing table as its CNI plugin wrote it (`ip route`, sim/cni/): {"node",
    "cni", "podCIDR", "networkReady", "routes", "table", "links"}.  NotFound (node)."""
    return await sim_command(cluster, {"op": "node.routes", "node": node})


async def send_traffic(cluster: str, body: Any) -> dict[str, Any]:
    """Requests traced hop by hop through the packet path (sim/traffic.py): BadCommand (input),
    NotFound (pod, node or Service), Conflict (a pod without an IP)."""
    return await sim_command(cluster, {"op": "traffic", "body": body})
async def node_proxy_rules(cluster: str, node: str) -> dict[str, Any]:
    """The rules the node's kube-proxy last wrote in its mode's own shape (sim/kubeproxy.py):
    {"node", "mode", "running", "text", "syncedAt", "syncs", "services", "endpoints", "metrics", ...}.
    NotFound (node)."""
    return await sim_command(cluster, {"op": "node.proxyrules", "node": node})


async def pod_fault(cluster: str, namespace: str, name: str, body: dict) -> dict[str, Any]:
    """Inject a fault into a pod's container (sim/podfaults.py): BadCommand, NotFound (pod),
    Conflict (not on a running node)."""
    return await sim_command(cluster, {"op": "pod.fault", "namespace": namespace, "name": name, "body": body})


async def get_load(cluster: str, namespace: str, kind: str, name: str) -> dict[str, Any]:
    """The load generator's rate for a workload (sim/loadgenerator.py) and what it sent:
    {"namespace", "kind", "name", "requestsPerSecond", "pods", "sent", "answered", "failed"}
    ({"requestsPerSecond": 0} when none is set).  NotFound (unknown kind)."""
    return await sim_command(cluster, {"op": "workload.load", "namespace": namespace, "kind": kind, "name": name})


async def set_load(cluster: str, namespace: str, kind: str, name: str, requests_per_second: Any) -> dict[str, Any]:
    """HTTP requests a second to the ready pods of a workload, spread over them as a Service
    would (0 stops it): as get_load answers.  BadCommand (rate), NotFound (kind or workload)."""
    return await sim_command(cluster, {"op": "workload.load", "namespace": namespace, "kind": kind, "name": name,
                                       "requestsPerSecond": requests_per_second})


async def get_network(cluster: str) -> dict[str, Any]:
    """{"partition": [[host, ...], ...]}: the current network partition (empty when whole)."""
    return await sim_command(cluster, {"op": "network.get"})


async def partition_network(cluster: str, groups: Any) -> dict[str, Any]:
    """Cut the network between groups of node names (hosts in no group reach everyone).
    NodeNotFound for an unknown node, BadCommand for malformed groups."""
    return await sim_command(cluster, {"op": "network.partition", "groups": groups})


async def set_link(cluster: str, a: Any, b: Any, latency_ms: Any = None, loss: Any = None) -> dict[str, Any]:
    """Degrade the link between two hosts (node or etcd member names): one-way latency in ms,
    and a share of messages lost.  NodeNotFound / BadCommand on bad input."""
    return await sim_command(cluster, {"op": "network.link", "a": a, "b": b, "latencyMs": latency_ms, "loss": loss})


async def heal_network(cluster: str) -> dict[str, Any]:
    """End the partition."""
    return await sim_command(cluster, {"op": "network.heal"})


async def etcd_status(cluster: str) -> dict[str, Any]:
    """{"members": [{"name", "address", "host", "role", "term", "vote", "leader", "commitIndex",
    "appliedIndex", "raftIndex", "electionElapsed", "randomizedElectionTimeout", "revision",
    "dbSize"}, ...]}: etcd's member list with each member's endpoint status."""
    return await sim_command(cluster, {"op": "etcd.status"})


# Member actions: the URL / form word -> the worker op.
ETCD_ACTIONS = {
    "kill": "etcd.kill",                  # stop the process; its disk (log, term, vote) survives
    "restore": "etcd.restore",            # start it again
    "timeout": "etcd.timeout",            # its election timer fires now (pre-vote may refuse it)
    "transfer-leadership": "etcd.transfer",  # etcdctl move-leader to this member
    "isolate": "etcd.isolate",            # partition it from every other host
}


async def etcd_member_action(cluster: str, member: str, action: str) -> dict[str, Any]:
    """Do one of ETCD_ACTIONS to `member`; returns {"member", "members", "network"}.
    MemberNotFound, Conflict (member stopped), EtcdUnavailable (no leader to transfer from)."""
    op = ETCD_ACTIONS.get(action)
    if op is None:
        raise BadCommand(f"unknown etcd member action {action!r}; use {', '.join(ETCD_ACTIONS)}")
    return await sim_command(cluster, {"op": op, "member": member})


async def etcd_member_list(cluster: str) -> dict[str, Any]:
    """`etcdctl member list`: {"members": [{"ID", "name", "peerURLs", "clientURLs", "isLearner",
    "started", "host"}]} as the leader applied them."""
    return await sim_command(cluster, {"op": "etcd.member.list"})


async def etcd_member_add(cluster: str, host: str, learner: bool = False) -> dict[str, Any]:
    """`etcdctl member add etcd-N --peer-urls=https://<host>:2380 [--learner]`, then etcd started
    on `host` (--initial-cluster-state=existing), where it catches up from the leader.
    Conflict (409) for etcd's refusals (too many learners, not enough started members, a host
    that runs etcd already), EtcdUnavailable (503: "etcdserver: unhealthy cluster"),
    EtcdTimeout (504) without a quorum."""
    return await sim_command(cluster, {"op": "etcd.member.add", "host": host, "learner": learner},
                             timeout=_slow_timeout())


async def etcd_member_promote(cluster: str, member: str) -> dict[str, Any]:
    """`etcdctl member promote <id>`: a learner in sync with the leader becomes a voter;
    Conflict (409) "can only promote a learner member which is in sync with leader"."""
    return await sim_command(cluster, {"op": "etcd.member.promote", "member": member}, timeout=_slow_timeout())


async def etcd_member_remove(cluster: str, member: str) -> dict[str, Any]:
    """`etcdctl member remove <id>`: the member leaves the group and stops; refused (with
    --strict-reconfig-check) when the voters left could not form a quorum."""
    return await sim_command(cluster, {"op": "etcd.member.remove", "member": member}, timeout=_slow_timeout())


async def etcd_put(cluster: str, key: str, value: str, member: str | None = None) -> dict[str, Any]:
    """`etcdctl put key value`, acknowledged after commit: {"key", "revision", "member",
    "members"}.  EtcdTimeout after etcd's 7 s request timeout without a quorum (the worker runs
    the simulation ahead until then)."""
    command: dict[str, Any] = {"op": "etcd.put", "key": key, "value": value}
    if member:
        command["member"] = member
    return await sim_command(cluster, command, timeout=_slow_timeout())


async def etcd_compact(cluster: str, revision: int | None = None) -> dict[str, Any]:
    """`etcdctl compact [revision]` (default: the current revision): {"compacted", "members"}.
    BadCommand for a revision already compacted or in the future."""
    command: dict[str, Any] = {"op": "etcd.compact"}
    if revision is not None:
        command["revision"] = revision
    return await sim_command(cluster, command)


async def etcd_snapshot_save(cluster: str) -> dict[str, Any]:
    """`etcdctl snapshot save`: {"member", "revision", "kvs": [[key, value, mod_revision], ...]}."""
    return await sim_command(cluster, {"op": "etcd.snapshot.save"}, timeout=_slow_timeout())


async def etcd_snapshot_restore(cluster: str, snapshot: Any) -> dict[str, Any]:
    """`etcdutl snapshot restore` of what etcd_snapshot_save returned, on every member: the
    cluster's objects become the snapshot's and its persisted log follows with the next frame.
    {"revision", "keys", "members"}.  Invalid (422, with causes) for anything that is not a
    restorable snapshot, checked before anything changes (cluster/etcdsnapshot.py)."""
    try:
        snap = etcdsnapshot.parse(snapshot)
    except etcdsnapshot.SnapshotInvalid as e:
        raise Invalid(e.message, e.causes) from None
    return await sim_command(cluster, {"op": "etcd.snapshot.restore", "snapshot": snap}, timeout=_slow_timeout())


def _advance_timeout() -> float:
    from cluster.worker.commands import MAX_ADVANCE_WALL_SECONDS
    return MAX_ADVANCE_WALL_SECONDS + 15.0


def _slow_timeout() -> float:
    return max(settings.PILOTHOUSE.get("COMMAND_TIMEOUT", 10.0), 30.0)


async def add_node(cluster: str, node: str, cpu: str = "4", memory: str = "8Gi",
                   runtime: str = "containerd", kubelet_version: str = "", labels: Any = None) -> dict[str, Any]:
    """Add a worker node with that capacity and container runtime ("containerd", "cri-o",
    "docker"), kubelet release ("v1.35.2"; "" = the cluster's) and Node labels.  AlreadyExists on
    a duplicate name, BadCommand on an invalid name, quantity, runtime, version or label."""
    return await sim_command(cluster, {"op": "node.add", "node": node, "cpu": cpu, "memory": memory,
                                       "runtime": runtime, "kubeletVersion": kubelet_version, "labels": labels})


async def kill_component(cluster: str, node: str, component: str) -> dict[str, Any]:
    """Kill a control-plane component's process on a node (its static pod's container dies;
    the kubelet restarts it).  NotFound for an unknown node or component, Conflict when it is
    not running."""
    return await sim_command(cluster, {"op": "component.kill", "node": node, "component": component})


async def metrics(cluster: str) -> str:
    """The cluster's /metrics: kube-apiservers' and etcd members' metrics in Prometheus's
    text format (sim/metrics.py)."""
    return (await sim_command(cluster, {"op": "metrics"}))["text"]


async def scheduler_queue(cluster: str) -> dict[str, Any]:
    """The leading kube-scheduler's queue and profiles (Cluster.scheduler_queue()):
    {"active": [{"pod", "priority", "attempts"}], "backoff": [... "until"], "unschedulable":
    [... "since", "message"], "leader": address | None, "profiles": [...]}."""
    return await sim_command(cluster, {"op": "scheduler.queue"})


async def scheduling_explanation(cluster: str, namespace: str, name: str) -> dict[str, Any] | None:
    """A pod's latest scheduling attempt (Cluster.scheduling_explanation(): per node the
    filter that rejected it, per plugin the scores, the choice and the one-line "why"), or
    None when no scheduler has tried the pod (yet, or it is not known)."""
    result = await sim_command(cluster, {"op": "scheduler.explain", "namespace": namespace, "name": name})
    return (result or {}).get("explanation")


def _node_request(verb: str, node: str, body: Any = None, patch_type: str | None = None) -> dict[str, Any]:
    return {"verb": verb, "group": "", "version": "v1", "resource": "nodes", "namespace": None, "name": node,
            "subresource": None, "body": body, "patch_type": patch_type, "query": {}}


async def set_node_labels_and_taints(cluster: str, node: str, labels: dict[str, str],
                                     taints: list[dict[str, Any]]) -> dict[str, Any]:
    """Make the Node's labels and taints exactly these, through the Kubernetes API as
    `kubectl label` / `kubectl taint` would: GET the Node, then one JSON patch (RFC 6902) whose
    "add" ops replace metadata.labels and spec.taints (an atomic list upstream).  A taint left
    as it was keeps its timeAdded (the node lifecycle controller stamps NoExecute taints).

    Returns the API's response ({"code", "body"}): the patched Node, or the Status of the GET
    (404) or the PATCH (422 for an invalid label or effect); nothing changes on an error."""
    current = await cluster_api(cluster, _node_request("get", node))
    if current.get("code") != 200:
        return current
    old = {(t.get("key"), t.get("value") or "", t.get("effect")): t
           for t in ((current.get("body") or {}).get("spec") or {}).get("taints") or []}
    new = []
    for t in taints:
        was = old.get((t.get("key"), t.get("value") or "", t.get("effect")))
        new.append(dict(t, timeAdded=was["timeAdded"]) if was and was.get("timeAdded") else dict(t))
    patch = [{"op": "add", "path": "/metadata/labels", "value": dict(labels)},
             {"op": "add", "path": "/spec/taints", "value": new}]
    return await cluster_api(cluster, _node_request("patch", node, patch, "application/json-patch+json"))


async def list_clusters() -> list[str]:
    """Names of the clusters the worker runs."""
    return await sim_command(None, {"op": "clusters"})


async def create_cluster(name: str, seed: int = 1, nodes: list[dict] | None = None,
                         **options: Any) -> dict[str, Any]:
    """Boot and persist a new cluster (default: the demo topology).  AlreadyExists if taken.

    `options`: the rest of POST /sim/v1/clusters' body, passed through for the worker to
    validate: etcd={"members", "topology", "heartbeatInterval", "electionTimeout"},
    nodeMonitorGracePeriod, nodeMonitorPeriod, defaultTolerationSeconds, schedulerConfiguration
    (a KubeSchedulerConfiguration; the engine defaults and validates it)."""
    command: dict[str, Any] = {"op": "cluster.create", "name": name, "seed": seed, **options}
    if nodes:
        command["nodes"] = nodes
    return await sim_command(None, command)


async def cluster_kubeconfig(name: str) -> dict[str, Any]:
    """{"cluster", "access": "open" | "owned", "token": the admin's bearer token}."""
    return await sim_command(name, {"op": "cluster.kubeconfig"})


async def delete_cluster(name: str) -> dict[str, Any]:
    """Stop the cluster and forget it, persisted state included (a broken one too)."""
    return await sim_command(name, {"op": "cluster.delete"})


async def reset_cluster(name: str) -> dict[str, Any]:
    """Start the cluster again from the configuration it was created with; everything it
    stored is replaced by a fresh bootstrap (works on a broken cluster too)."""
    return await sim_command(name, {"op": "cluster.reset"}, timeout=_slow_timeout())


async def retry_cluster(name: str) -> dict[str, Any]:
    """Restore a broken cluster from what is persisted now: {"cluster", "broken": None | why}."""
    return await sim_command(name, {"op": "cluster.retry"}, timeout=_slow_timeout())


async def delete_stored_key(name: str, key: str) -> dict[str, Any]:
    """A broken cluster's offline repair: drop every persisted revision of `key`, then retry
    the restore.  NotFound when the key is not stored; Conflict when the cluster runs."""
    return await sim_command(name, {"op": "cluster.delete-key", "key": key}, timeout=_slow_timeout())


# -- the timeline: history, export, fork, import (cluster/worker/timeline.py) -------------------

def _replay_timeout() -> float:
    from cluster.worker.timeline import REPLAY_WALL_SECONDS
    return REPLAY_WALL_SECONDS + 30.0


async def history(cluster: str) -> dict[str, Any]:
    """The moments the cluster's history keeps: {"moments": [{"time", "frame", "revision"}],
    "journal": entries, "replayable", "unreplayable": why not or None, "bounds", "bytes"}."""
    return await sim_command(cluster, {"op": "history"})


async def history_at(cluster: str, at: str, parts: list[str] | None = None) -> dict[str, Any]:
    """The cluster as it was at a moment ("12.5", "12.5s" or "frame-42": the latest moment at or
    before it): {"time", "frame", "revision", "snapshot", "events", "etcd", "objects"} (the `parts`
    asked for; all by default).  NotFound before the history's start, BadRequest for a bad `at`."""
    command: dict[str, Any] = {"op": "history.at", "at": at}
    if parts:
        command["parts"] = parts
    return await sim_command(cluster, command, timeout=_slow_timeout())


async def export_run(cluster: str) -> dict[str, Any]:
    """The run as a PilothouseRun document: config (seed, topology, start time, credentials),
    journal, end point and etcd digest.  Conflict when the run cannot be replayed."""
    return await sim_command(cluster, {"op": "export"}, timeout=_slow_timeout())


async def fork_cluster(source: str, name: str, time: Any = None, frame: Any = None,
                       paused: bool = True) -> dict[str, Any]:
    """A new cluster `name` replaying `source`'s run up to virtual `time`, or to the moment of
    `frame` (neither: up to now); paused unless `paused` is False."""
    command: dict[str, Any] = {"op": "cluster.fork", "source": source, "name": name, "paused": paused}
    if time is not None:
        command["time"] = time
    if frame is not None:
        command["frame"] = frame
    return await sim_command(None, command, timeout=_replay_timeout())


async def import_run(name: str, export: Any, paused: bool = True, exact: bool = True) -> dict[str, Any]:
    """A new cluster `name` replaying an export; "verified" says whether its etcd keyspace ended
    byte for byte where the original's did.  `exact=False`: each command at its virtual time
    rather than its exact point of the run (an export made by another version of Pilothouse,
    a lesson's saved start): close to the original instead of refused when it diverges."""
    return await sim_command(None, {"op": "cluster.import", "name": name, "import": export, "paused": paused,
                                    "exact": exact}, timeout=_replay_timeout())
# -- who may do what (cluster/access.py) and sandboxes (cluster/sandboxes.py) ------------------

async def cluster_access(name: str) -> dict[str, Any]:
    """{"cluster", "access": "open" | "owned", "token": the admin's token, "owner"}; works on a
    broken cluster too, and does not count as a use (a suspended cluster stays suspended)."""
    return await sim_command(name, {"op": "cluster.access"})


async def clusters_summary() -> list[dict[str, Any]]:
    """Every cluster: {"name", "state": running | paused | suspended | broken, "nodes", "pods",
    "owner", "access", "watchers", "time"}, without waking any."""
    return await sim_command(None, {"op": "clusters.summary"})


async def watch_cluster(name: str, delta: int) -> dict[str, Any]:
    """A page started (+1) or stopped (-1) watching the cluster (cluster/worker/suspension.py)."""
    return await sim_command(name, {"op": "cluster.watch", "delta": delta})


async def follow_presenter(name: str, view: str, selection: dict | None) -> dict[str, Any]:
    """Tell the cluster's pages what its presenter shows (cluster/consumers.py)."""
    return await sim_command(name, {"op": "presenter.follow", "view": view, "selection": selection})


async def token_review(name: str, token: str) -> dict[str, Any]:
    """TokenReview's status for `token` on the cluster ({"authenticated", "user": {"username",
    "groups"}}), as the API server's authenticator sees it."""
    resp = await cluster_api(name, {
        "verb": "create", "group": "authentication.k8s.io", "version": "v1", "resource": "tokenreviews",
        "namespace": None, "name": None, "subresource": None, "patch_type": None, "query": {},
        "body": {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}})
    return ((resp.get("body") or {}).get("status") or {}) if resp.get("code") in (200, 201) else {}

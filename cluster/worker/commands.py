"""The worker's commands: one handler per op, in one table.

Command messages (sent by cluster/services.py):
    {"type": "sim.command", "op": <op>, "cluster": <name>, "args": {...}, "reply_channel": <ch>}
Replies:
    {"type": "sim.reply", "ok": true, "result": ...}
    {"type": "sim.reply", "ok": false, "error": {"reason": <one of REASONS>, "message": str}}

Each entry of COMMANDS says what the handler needs (no cluster, a running cluster, or any
cluster, broken ones included) and whether the command changes what is stored: such a
command's answer waits until the change is persisted (cluster/worker/durability.py), so an
acknowledged write survives `kill -9`, as an etcd write acknowledged after its fsync does.

Long work runs in slices (cluster/worker/pacing.py) between which the event loop serves HTTP,
the WebSocket and the frames: a Kubernetes request waiting for its commit in a busy cluster, or
an `advance` of an hour.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from cluster import etcdsnapshot
from cluster.worker import lessons, timeline
from cluster.worker.lessons import lesson as lesson_command
from cluster.worker.channels import group_for
from cluster.worker.pacing import MAX_SPEED, MIN_SPEED, run_request_slice, run_slice
from cluster.worker.running import RunningCluster
from sim.api.jsonserializer import encode
from sim.cluster import Cluster, ClusterConfig, ClusterError
from sim.clusterconfig import MAX_NODES, ConfigError, check_capacity, check_cluster_name, config_from_spec
from sim.durations import parse_duration
from sim.metrics import render as render_metrics

REASONS = ("ClusterNotFound", "NotFound", "NodeNotFound", "MemberNotFound", "BadRequest", "AlreadyExists", "Conflict",
           "ClusterBroken", "Unavailable", "Timeout", "Invalid", "TooLarge", "Internal")
# ClusterError.code (an HTTP status) -> reply reason (see cluster/services.py).
_REASON_BY_CODE = {400: "BadRequest", 404: "NodeNotFound", 409: "AlreadyExists", 413: "TooLarge",
                   422: "BadRequest", 503: "Unavailable", 504: "Timeout"}
# ... for a pod's fault, whose 404 is the pod's and 409 "not on a running node".
_POD_REASON_BY_CODE = {**_REASON_BY_CODE, 404: "NotFound", 409: "Conflict"}
# ... and for the etcd commands, whose 409 is "that member is stopped", not a duplicate.
_ETCD_REASON_BY_CODE = {**_REASON_BY_CODE, 404: "MemberNotFound", 409: "Conflict"}
# One `advance` or `step` runs at most this much virtual time; a longer one is refused with
# a clear message rather than keeping a busy cluster's worker at it for minutes.
MAX_ADVANCE_SECONDS = 3600.0
# ... and gives up (answering what it reached) after this much wall time.
MAX_ADVANCE_WALL_SECONDS = 60.0
DEFAULT_STEP_SECONDS = 1.0
# Wall seconds of engine work between two yields to the event loop, for long commands.
SLICE_SECONDS = 0.02
# etcd's --max-request-bytes default (1.5 MiB): a larger put is "etcdserver: request is too large".
ETCD_MAX_REQUEST_BYTES = 1536 * 1024
# Kubernetes verbs that change what etcd stores.
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})


class CommandError(Exception):
    """A command the worker refuses; `reason` becomes the reply's error reason."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def _cluster_error(e: ClusterError, table: dict = _REASON_BY_CODE) -> CommandError:
    return CommandError(table.get(e.code, "BadRequest"), str(e))


Handler = Callable[[Any, RunningCluster | None, dict], Awaitable[Any] | Any]


@dataclass(frozen=True)
class Command:
    handler: Handler
    scope: str = "running"   # "global": no cluster; "running": a running one; "any": broken too
    durable: bool = False    # the answer waits for the change to be persisted
    touches: bool = True     # counts as a use of the cluster (resumes it if suspended)


# -- global -------------------------------------------------------------------------------

def list_clusters(worker, rc, args: dict) -> list[str]:
    return sorted(worker.clusters)


async def create_cluster(worker, rc, args: dict) -> dict:
    spec = {k: v for k, v in args.items() if k != "name"}
    try:
        name = check_cluster_name(args.get("name"))
        config = config_from_spec(spec)
    except ConfigError as e:
        raise CommandError("BadRequest", str(e)) from None
    try:
        rc = await worker.create_cluster(name, config)
    except ClusterError as e:
        raise _cluster_error(e) from None
    return {"cluster": rc.name, **rc.clock()}


def kubeconfig(worker, rc: RunningCluster, args: dict) -> dict:
    """The cluster's access mode and its admin's static token (kubernetes-admin, system:masters),
    for the kubeconfig the control API hands out."""
    return {"cluster": rc.name, "access": rc.engine.config.access, "token": rc.engine.admin_token}


def access(worker, rc: RunningCluster, args: dict) -> dict:
    """Who may do what (cluster/access.py): the access mode, the admin's static token, the
    owner's name.  Read from the template too, so a broken cluster's owner can still repair it."""
    template = rc.template or {}
    if rc.engine is not None:
        mode, token = rc.engine.config.access, rc.engine.admin_token
        owner = rc.engine.config.owner
    else:
        mode = template.get("access") or "open"
        token = (template.get("credentials") or {}).get("adminToken") or ""
        owner = template.get("owner") or ""
    return {"cluster": rc.name, "access": mode, "token": token, "owner": owner}


def summary(worker, rc, args: dict) -> list[dict]:
    """Every cluster with its state, for the sandbox list: running, paused, suspended or
    broken; its nodes and pods; its access and owner.  Does not wake suspended clusters."""
    out = []
    for name in sorted(worker.clusters):
        c = worker.clusters[name]
        template = c.template or {}
        row = {"name": name, "owner": template.get("owner") or "", "access": template.get("access") or "open",
               "watchers": c.watchers, "nodes": 0, "pods": 0, "time": 0.0}
        if c.broken is not None:
            row["state"] = "broken"
        else:
            row["state"] = "suspended" if c.suspended else "paused" if c.paused else "running"
            row["time"] = c.engine.now
            snap = c.last_snapshot or {}
            nodes = snap.get("nodes") or []
            row["nodes"] = len(nodes)
            row["pods"] = sum(_pods_on(n) for n in nodes) + len(snap.get("pending") or [])
        out.append(row)
    return out


def _pods_on(node: dict) -> int:
    counts = node.get("podCounts") or node.get("phaseCounts")
    if isinstance(counts, dict):
        return sum(int(v) for v in counts.values() if isinstance(v, (int, float)))
    return len(node.get("pods") or [])


def watch(worker, rc: RunningCluster, args: dict) -> dict:
    """A page's frames socket opened ({"delta": 1}) or closed (-1): cluster/worker/suspension.py."""
    from cluster.worker.suspension import watch as count
    return {"cluster": rc.name, "watchers": count(rc, int(args.get("delta") or 0))}


async def follow(worker, rc: RunningCluster, args: dict) -> dict:
    """The presenter's view and selection, kept for pages that open later and sent to the
    cluster's group now, so viewers who follow the presenter switch with them."""
    rc.follow = {"view": args.get("view"), "selection": args.get("selection")}
    await worker.layer.group_send(group_for(rc.name), {"type": "cluster.follow", **rc.follow})
    return rc.follow


# -- a cluster's life ------------------------------------------------------------------------

async def delete_cluster(worker, rc: RunningCluster, args: dict) -> dict:
    await worker.delete_cluster(rc)
    return {"cluster": rc.name, "deleted": True}


async def reset_cluster(worker, rc: RunningCluster, args: dict) -> dict:
    rc = await worker.reset_cluster(rc)
    return {"cluster": rc.name, **rc.clock()}


async def retry_cluster(worker, rc: RunningCluster, args: dict) -> dict:
    """Restore a broken cluster from its persisted state again (after a repair)."""
    if rc.broken is None:
        raise CommandError("Conflict", f'cluster "{rc.name}" is running; nothing to retry')
    rc = await worker.retry_cluster(rc)
    return {"cluster": rc.name, "broken": rc.broken}


async def delete_stored_key(worker, rc: RunningCluster, args: dict) -> dict:
    """Remove one key's whole history from a BROKEN cluster's persisted keyspace, then retry
    its restore: the offline repair of a value that keeps the cluster from starting (a running
    cluster deletes through its API instead)."""
    if rc.broken is None:
        raise CommandError("Conflict", f'cluster "{rc.name}" is running: delete the object through '
                                       "its Kubernetes API (or etcd) instead")
    key = args.get("key")
    if not isinstance(key, str) or not key:
        raise CommandError("BadRequest", "key: Required value")
    removed = await worker.delete_stored_key(rc, key)
    if not removed:
        raise CommandError("NotFound", f'key "{key}" is not stored for cluster "{rc.name}"')
    rc = await worker.retry_cluster(rc)
    return {"cluster": rc.name, "key": key, "removed": removed, "broken": rc.broken}


def state(worker, rc: RunningCluster, args: dict) -> dict:
    result = _state(worker, rc)
    # {"encode": "json"}: as JSON bytes, which the channel layer carries without copying a
    # snapshot's every object (the in-memory layer deep-copies messages) - a page's WebSocket
    # sends it on as it is (cluster/consumers.py), and a class opens hundreds at once.
    return {"json": encode(result)} if args.get("encode") == "json" else result


def _state(worker, rc: RunningCluster) -> dict:
    if rc.broken is not None:
        return {"cluster": rc.name, "frame": rc.frame, "time": 0.0, "speed": rc.speed, "paused": True,
                "broken": rc.broken, "snapshot": None, "log": list(rc.log), "etcdTick": 0.1,
                "storedKeys": worker.broken_keys.get(rc.name, [])}
    return {
        "cluster": rc.name,
        "frame": rc.frame,
        "time": rc.last_sent_time if rc.last_sent_time is not None else rc.engine.now,
        "speed": rc.speed,
        "paused": rc.paused,
        "pace": round(rc.lag.ratio, 3),
        # The snapshot sent with frame `frame`: a page that starts from it and applies frames >
        # `frame` sees every event exactly once.
        "snapshot": rc.last_snapshot,
        "log": list(rc.log),
        # One Raft tick in virtual seconds (etcd's --heartbeat-interval): the page runs the
        # election timers down between frames with it.
        "etcdTick": rc.engine.config.etcd_heartbeat_interval,
        # What the presenter shows, for a page that follows them (cluster/access.py).
        "follow": rc.follow,
    }


# -- the Kubernetes API -----------------------------------------------------------------------

def stream(worker, rc: RunningCluster, args: dict) -> dict | None:
    """One exchange of an exec -i/-t or attach session (Cluster.stream): the client's stdin in,
    the output since the last exchange out.  None: the session is over or gone."""
    node, token, stdin = args.get("node"), args.get("token"), args.get("stdin") or ""
    if not isinstance(node, str) or not isinstance(token, str) or not isinstance(stdin, str):
        raise CommandError("BadRequest", "node, token: Required value")
    return rc.engine.stream(node, token, stdin, bool(args.get("close_stdin")), bool(args.get("close")))


async def api(worker, rc: RunningCluster, args: dict) -> dict:
    """One Kubernetes API request, run in slices until answered (or its 60 s virtual deadline,
    a 504).  "now" (the cluster's clock on the API's timestamp scale, see Cluster.api_time)
    lets front ends print ages against the simulated clock."""
    request = args.get("request")
    if not isinstance(request, dict):
        raise CommandError("BadRequest", "request: Required value")
    engine = rc.engine
    before = engine.now
    at = timeline.point(engine)
    journaled, unjournaled = None, None
    if rc.timeline.unreplayable is None:
        # As JSON now: the engine may change the request it is given.
        try:
            journaled = json.dumps({"request": request}, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as e:
            unjournaled = str(e)
    pending = engine.begin_request(request)
    if pending.rid is not None:
        # It travels to kube-apiserver, so it shapes the rest of the run: into the journal
        # (a read answered at once from the watch cache touches nothing and is left out).
        if unjournaled is not None:
            rc.timeline.spoil(at, "api", unjournaled)
        else:
            rc.timeline.note(at, "api", None, text=journaled)
    while (resp := await run_request_slice(engine, pending, SLICE_SECONDS)) is None:
        await asyncio.sleep(0)
        if rc.closed:
            raise CommandError("ClusterNotFound", f'cluster "{rc.name}" was deleted or reset')
    if engine.now != before:
        rc.reanchor()  # the request ran the engine ahead (up to a 504 timeout): go on from there
    if args.get("encode") == "json" and "body" in resp:
        body = resp["body"]
        resp = {k: v for k, v in resp.items() if k != "body"}
        resp["json"] = encode(body)
    return {**resp, "now": engine.api_time}


def _api_is_write(args: dict) -> bool:
    return (args.get("request") or {}).get("verb") in WRITE_VERBS


# -- clock ------------------------------------------------------------------------------------

async def clock(worker, rc: RunningCluster, args: dict) -> dict:
    """Get or set the clock: speed, paused, advance (run ahead at once), step (pause, then
    run ahead that much).  Every value is checked before anything changes."""
    speed = args.get("speed")
    if "speed" in args and (isinstance(speed, bool) or not isinstance(speed, (int, float))
                            or not MIN_SPEED <= speed <= MAX_SPEED):
        raise CommandError("BadRequest", f"speed must be a number from {MIN_SPEED} to {MAX_SPEED}")
    if "paused" in args and not isinstance(args["paused"], bool):
        raise CommandError("BadRequest", "paused must be true or false")
    runs = []
    for key in ("advance", "step"):
        if key not in args:
            continue
        value = args[key]
        if key == "step" and value is True:
            value = DEFAULT_STEP_SECONDS
        try:
            seconds = parse_duration(value)
        except ValueError as e:
            raise CommandError("BadRequest", f"{key}: {e}") from None
        if seconds > MAX_ADVANCE_SECONDS:
            raise CommandError("BadRequest", f"{key}: at most {MAX_ADVANCE_SECONDS / 3600:g}h at once "
                                             f"(got {seconds:g}s); advance again for more")
        runs.append((key, seconds))
    if "speed" in args:
        rc.speed = float(speed)
    if "paused" in args:
        rc.paused = args["paused"]
    if "step" in args:
        rc.paused = True  # stepping is for a paused clock: pause first, so the step is all that runs
    for key, seconds in runs:
        await _advance(rc, key, seconds)
    if args:  # a read of the clock leaves the pacing (and the measured pace) alone
        rc.reanchor()
        rc.lag.reset()
        rc.clock_changed = True
        rc.timeline.dirty = True  # a moment where the clock was set (after an advance, say)
    return rc.clock()


async def _advance(rc: RunningCluster, what: str, seconds: float) -> None:
    """Run `seconds` of virtual time in slices; refuse to go on past MAX_ADVANCE_WALL_SECONDS."""
    engine = rc.engine
    target = engine.now + seconds
    started = time.monotonic()
    while not await run_slice(engine, target, SLICE_SECONDS):
        await asyncio.sleep(0)
        if rc.closed:
            raise CommandError("ClusterNotFound", f'cluster "{rc.name}" was deleted or reset')
        if time.monotonic() - started > MAX_ADVANCE_WALL_SECONDS:
            rc.reanchor()
            raise CommandError("Timeout", f"{what}: stopped at t={engine.now:.1f}s after "
                                          f"{MAX_ADVANCE_WALL_SECONDS:.0f}s of wall time, short of "
                                          f"t={target:.1f}s: the cluster is too busy to run that far at once; "
                                          "advance less at a time")


# -- nodes and the network ----------------------------------------------------------------------

def node_kill_or_restore(kill: bool):
    def handler(worker, rc: RunningCluster, args: dict) -> dict:
        node = args.get("node", "")
        try:
            (rc.engine.kill_node if kill else rc.engine.restore_node)(node)
        except (KeyError, ClusterError) as e:
            if isinstance(e, ClusterError) and e.code != 404:
                raise _cluster_error(e) from None
            raise CommandError("NodeNotFound", f'node "{node}" not found in cluster "{rc.name}"') from None
        return {"node": node, "alive": not kill}
    return handler


_KUBEADM_REASON_BY_CODE = {**_REASON_BY_CODE, 409: "Conflict"}


def kubeadm(action: str):
    """A student's kubeadm install (sim/kubeadm_install.py): "status", "init", "join" or
    "pod-network"; each answers the install's status (Cluster.kubeadm_status)."""
    def handler(worker, rc: RunningCluster, args: dict) -> dict:
        engine = rc.engine
        try:
            if action == "init":
                engine.kubeadm_init(args.get("node"), args.get("uploadCerts", False))
            elif action == "join":
                token = args.get("token")
                if not isinstance(token, str):
                    raise CommandError("BadRequest", 'token: Required value (the "--token" kubeadm init printed)')
                engine.kubeadm_join(args.get("node"), token, args.get("controlPlane", False),
                                    args.get("certificateKey"))
            elif action == "pod-network":
                engine.kubeadm_pod_network()
        except ClusterError as e:
            raise _cluster_error(e, _KUBEADM_REASON_BY_CODE) from None
        return engine.kubeadm_status()
    return handler


def pod_fault(worker, rc: RunningCluster, args: dict) -> dict:
    """A fault in a pod's container (sim/podfaults.py)."""
    try:
        return rc.engine.inject_fault(str(args.get("namespace", "")), str(args.get("name", "")), args.get("body"))
    except ClusterError as e:
        raise _cluster_error(e, _POD_REASON_BY_CODE) from None


def pod_cri(worker, rc: RunningCluster, args: dict) -> dict:
    """The CRI calls made for a pod (Cluster.pod_cri_calls)."""
    try:
        return rc.engine.pod_cri_calls(str(args.get("namespace", "")), str(args.get("name", "")))
    except ClusterError as e:
        raise _cluster_error(e, _POD_REASON_BY_CODE) from None


def node_proxy(read: str):
    """The rules the node's kube-proxy last wrote: Cluster.node_iptables or node_proxy_rules."""
    def command(worker, rc: RunningCluster, args: dict) -> dict:
        try:
            return getattr(rc.engine, read)(str(args.get("node", "")))
        except ClusterError as e:
            raise _cluster_error(e, _POD_REASON_BY_CODE) from None
    return command


def node_routes(worker, rc: RunningCluster, args: dict) -> dict:
    """The node's routing table as its CNI plugin wrote it (Cluster.node_routes)."""
    try:
        return rc.engine.node_routes(str(args.get("node", "")))
    except ClusterError as e:
        raise _cluster_error(e, _POD_REASON_BY_CODE) from None


def traffic(worker, rc: RunningCluster, args: dict) -> dict:
    """Requests traced through the packet path (Cluster.send_traffic, sim/traffic.py)."""
    try:
        return rc.engine.send_traffic(args.get("body"))
    except ClusterError as e:
        raise _cluster_error(e, _POD_REASON_BY_CODE) from None


def node_add(worker, rc: RunningCluster, args: dict) -> dict:
    node = args.get("node", "")
    try:
        cpu, memory = check_capacity("node", args.get("cpu", "4"), args.get("memory", "8Gi"))
        rc.engine.add_node(node, cpu=cpu, memory=memory, runtime=args.get("runtime") or "containerd",
                           kubelet_version=args.get("kubeletVersion") or "", labels=args.get("labels"))
    except ConfigError as e:
        raise CommandError("BadRequest", str(e)) from None
    except ClusterError as e:
        raise _cluster_error(e) from None
    except ValueError as e:
        raise CommandError("BadRequest", str(e)) from None
    return {"node": node, "alive": True}


def component_kill(worker, rc: RunningCluster, args: dict) -> dict:
    try:
        return rc.engine.kill_component(args.get("node", ""), args.get("component", ""))
    except ClusterError as e:
        raise _cluster_error(e) from None


def workload_load(worker, rc: RunningCluster, args: dict) -> dict:
    """The load generator of one workload (Cluster.set_load, the HPA's lesson): its pods get
    `requestsPerSecond` between them; without it, the load set now (Cluster.load,
    {"requestsPerSecond": 0} when none).  BadRequest when the engine has no load generator or
    the value is not a number >= 0; NotFound when it names no workload."""
    set_load = getattr(rc.engine, "set_load", None)
    if set_load is None:
        raise CommandError("BadRequest", "this cluster has no load generator")
    if "requestsPerSecond" not in args:
        ns, kind, name = str(args.get("namespace") or "default"), str(args.get("kind") or ""), str(args.get("name") or "")
        try:
            return rc.engine.load(ns, kind, name) or {"namespace": ns, "kind": kind, "name": name,
                                                       "requestsPerSecond": 0.0}
        except ClusterError as e:
            raise _cluster_error(e, _POD_REASON_BY_CODE) from None
    try:
        rps = float(args.get("requestsPerSecond"))
    except (TypeError, ValueError):
        raise CommandError("BadRequest", "requestsPerSecond must be a number") from None
    if not rps >= 0:
        raise CommandError("BadRequest", "requestsPerSecond must be 0 or more")
    try:
        result = set_load(str(args.get("namespace") or "default"), str(args.get("kind") or ""),
                          str(args.get("name") or ""), rps)
    except ClusterError as e:
        raise _cluster_error(e, _POD_REASON_BY_CODE) from None
    except (KeyError, LookupError) as e:
        raise CommandError("NotFound", str(e)) from None
    except ValueError as e:
        raise CommandError("BadRequest", str(e)) from None
    return result if isinstance(result, dict) else {"requestsPerSecond": rps}


def network(op: str):
    def handler(worker, rc: RunningCluster, args: dict) -> dict:
        try:
            if op == "partition":
                rc.engine.partition(args.get("groups"))
            elif op == "link":
                rc.engine.set_link(args.get("a"), args.get("b"), args.get("latencyMs"), args.get("loss"))
            elif op == "heal":
                rc.engine.heal()
        except ClusterError as e:
            raise _cluster_error(e, {**_REASON_BY_CODE, 404: "NodeNotFound"}) from None
        return rc.engine.network_state()
    return handler


# -- kube-scheduler ------------------------------------------------------------------------------

def metrics(worker, rc: RunningCluster, args: dict) -> dict:
    """/metrics: the control plane's Prometheus text (sim/metrics.py)."""
    return {"text": render_metrics(rc.engine)}


def scheduler_queue(worker, rc: RunningCluster, args: dict) -> dict:
    return rc.engine.scheduler_queue()


def scheduler_explain(worker, rc: RunningCluster, args: dict) -> dict:
    namespace, pod = args.get("namespace"), args.get("name")
    if not isinstance(namespace, str) or not isinstance(pod, str):
        raise CommandError("BadRequest", "namespace and name: Required value")
    return {"explanation": rc.engine.scheduling_explanation(namespace, pod)}


# -- etcd ------------------------------------------------------------------------------------------

def etcd_status(worker, rc: RunningCluster, args: dict) -> dict:
    return {"members": rc.engine.etcd_status()}


def _etcd_call(rc: RunningCluster, fn: Callable[[], Any]) -> Any:
    engine = rc.engine
    before = engine.now
    try:
        return fn()
    except ClusterError as e:
        raise _cluster_error(e, _ETCD_REASON_BY_CODE) from None
    finally:
        if engine.now != before:
            rc.reanchor()  # a put ran the engine until commit (or etcd's request timeout)


def etcd_compact(worker, rc: RunningCluster, args: dict) -> dict:
    revision = args.get("revision")
    if revision is not None and (isinstance(revision, bool) or not isinstance(revision, int)):
        raise CommandError("BadRequest", "revision must be an integer")
    compacted = _etcd_call(rc, lambda: rc.engine.etcd_compact(revision))
    return {"compacted": compacted, "members": rc.engine.etcd_status()}


def etcd_snapshot_save(worker, rc: RunningCluster, args: dict) -> dict:
    return _etcd_call(rc, rc.engine.etcd_snapshot_save)


def etcd_snapshot_restore(worker, rc: RunningCluster, args: dict) -> dict:
    """`etcdutl snapshot restore` on every member (Cluster.etcd_snapshot_restore), checked first
    so that a bad snapshot changes nothing; the persist before the answer replaces the persisted
    log with the restored keyspace."""
    try:
        snap = etcdsnapshot.parse(args.get("snapshot"))
    except etcdsnapshot.SnapshotInvalid as e:
        raise CommandError("Invalid", e.message) from None
    _etcd_call(rc, lambda: rc.engine.etcd_snapshot_restore(snap))
    rc.restored_keyspace = etcdsnapshot.keyspace_entries(snap)
    rc.keyspace_epoch += 1
    # The engine hands out the new keyspace's writes from the restored revision on.
    rc.persisted_revision = snap["revision"]
    return {"revision": snap["revision"], "keys": len(snap["kvs"]), "members": rc.engine.etcd_status()}


def etcd_put(worker, rc: RunningCluster, args: dict) -> dict:
    key, value = args.get("key"), args.get("value")
    if not isinstance(key, str) or not key:
        raise CommandError("BadRequest", "key: Required value")
    if not isinstance(value, str):
        raise CommandError("BadRequest", "value must be a string")
    if len(key.encode()) + len(value.encode()) > ETCD_MAX_REQUEST_BYTES:
        raise CommandError("TooLarge", "etcdserver: request is too large")
    member = args.get("member") or None
    if member is not None and not isinstance(member, str):
        raise CommandError("BadRequest", "member must be an etcd member's name")
    result = _etcd_call(rc, lambda: rc.engine.etcd_put(key, value, member=member))
    return {**result, "members": rc.engine.etcd_status()}


def isolation_groups(engine, member: str) -> list[list[str]]:
    """Partition groups that cut etcd `member` off from every other host: its fellow members
    and every node (for a stacked member that is its whole control-plane node)."""
    status = engine.etcd_status()
    host = next(m["host"] for m in status if m["name"] == member)
    rest = [m["name"] for m in status if m["host"] != host]
    rest += [h for h in engine.hosts() if h != host]
    return [[member], rest]


def etcd_member(op: str):
    """A member command: kill / restore / timeout / transfer / isolate; answers
    {"member", "members", "network"}."""
    def handler(worker, rc: RunningCluster, args: dict) -> dict:
        engine = rc.engine
        member = args.get("member", "")
        if member not in [m["name"] for m in engine.etcd_status()]:
            raise CommandError("MemberNotFound", f'etcd member "{member}" not found in cluster "{rc.name}"')
        actions = {
            "kill": lambda: engine.kill_etcd_member(member),
            "restore": lambda: engine.restore_etcd_member(member),
            "timeout": lambda: engine.etcd_timeout_now(member),
            "transfer": lambda: engine.etcd_transfer_leadership(member),
            "isolate": lambda: engine.partition(isolation_groups(engine, member)),
        }
        _etcd_call(rc, actions[op])
        return {"member": member, "members": engine.etcd_status(), "network": engine.network_state()}
    return handler


def etcd_member_list(worker, rc: RunningCluster, args: dict) -> dict:
    """`etcdctl member list`: {"members": [{"ID", "name", "peerURLs", "clientURLs", "isLearner",
    "started", "host"}]}."""
    return {"members": _etcd_call(rc, rc.engine.etcd_member_list)}


def etcd_member_add(worker, rc: RunningCluster, args: dict) -> dict:
    """`etcdctl member add [--learner]`, then etcd started on the host with
    --initial-cluster-state=existing: {"member", "members", "initialCluster",
    "initialClusterState", "status"}."""
    host, learner = args.get("host"), args.get("learner", False)
    if not isinstance(host, str) or not host:
        raise CommandError("BadRequest", "host: Required value (a node without an etcd member, or a new host's name)")
    if not isinstance(learner, bool):
        raise CommandError("BadRequest", "learner must be true or false")
    result = _etcd_call(rc, lambda: rc.engine.etcd_member_add(host, learner=learner))
    return {**result, "status": rc.engine.etcd_status()}


def etcd_member_change(op: str):
    """`etcdctl member promote <id>` / `member remove <id>` (a member's name or its hex ID):
    {"member", "members", "status"}."""
    def handler(worker, rc: RunningCluster, args: dict) -> dict:
        member = args.get("member")
        if not isinstance(member, str) or not member:
            raise CommandError("BadRequest", "member: Required value (an etcd member's name or ID)")
        engine = rc.engine
        fn = engine.etcd_member_promote if op == "promote" else engine.etcd_member_remove
        result = _etcd_call(rc, lambda: fn(member))
        return {**result, "status": engine.etcd_status()}
    return handler


# -- the timeline (cluster/worker/timeline.py) -------------------------------------------------

def _timeline_call(fn):
    try:
        return fn()
    except timeline.TimelineError as e:
        raise CommandError(e.reason, e.message) from None


def history(worker, rc: RunningCluster, args: dict) -> dict:
    """The moments kept: [{"time", "frame", "revision"}], the journal's length, whether the run
    can be replayed (exported, forked) and the bounds."""
    return {"cluster": rc.name, "time": rc.engine.now, "frame": rc.frame, **rc.timeline.listing()}


async def history_at(worker, rc: RunningCluster, args: dict) -> dict:
    parts = args.get("parts") or sorted(timeline.PARTS)
    if not isinstance(parts, list) or not set(parts) <= timeline.PARTS:
        raise CommandError("BadRequest", f"parts: each one of {', '.join(sorted(timeline.PARTS))}")
    at, tl = str(args.get("at", "")), rc.timeline
    if set(parts) & {"etcd", "objects"}:
        moment = _timeline_call(lambda: tl.find(at))
        if moment.keyspace is None and moment.replayable and tl.origin is not None:
            await _rebuild_keyspace(rc, moment)
    return _timeline_call(lambda: {"cluster": rc.name, **tl.state_at(at, set(parts))})


async def _rebuild_keyspace(rc: RunningCluster, moment) -> None:
    """A moment kept from before a restart has its page but not its etcd keyspace: replay the
    run's journal from its origin, in an engine of its own that nothing else sees, up to the
    moment's point, and keep that engine's keyspace on the moment (as a live moment keeps the
    store's: values shared, not copied)."""
    tl = rc.timeline
    try:
        engine = Cluster(rc.name, ClusterConfig.from_json(tl.origin))
    except (ClusterError, TypeError, ValueError, KeyError, AttributeError) as e:
        raise CommandError("Conflict", f"the run's origin cannot be built again: {e}") from None
    scratch = RunningCluster(rc.name, engine)
    scratch.timeline = timeline.Timeline(tl.origin)
    try:
        await timeline.replay(scratch, tl.journal[:moment.journal], (moment.time, moment.events), _apply_entry)
    except timeline.ReplayDiverged as e:
        raise CommandError("Conflict", f"the moment's keyspace could not be rebuilt faithfully: {e}") from None
    except timeline.TimelineError as e:
        raise CommandError(e.reason, e.message) from None
    tl.keep_keyspace(moment, dict(timeline.etcd_store(engine).current))


def export_run(worker, rc: RunningCluster, args: dict) -> dict:
    return _timeline_call(lambda: rc.timeline.export(rc.name, rc.engine))


def _apply_entry(rc: RunningCluster, op: str, args: dict) -> None:
    """One journal entry, applied to a replaying engine as the command applied it to the
    original: a Kubernetes request is sent (the kernel then runs it as it ran the original's);
    any other command runs its handler, whose refusal is part of the run too."""
    if op == "api":
        if isinstance(args.get("request"), dict):
            rc.engine.begin_request(args["request"])
        return
    if op == lessons.ACTION_OP:
        lessons.replay_entry(rc, args)
        return
    _check_replayable(op)
    command = COMMANDS[op]
    try:
        result = command.handler(None, rc, args)
    except CommandError:
        return
    if asyncio.iscoroutine(result):
        result.close()
        raise CommandError("Invalid", f"the journal holds a command that cannot be replayed: {op!r}")


def _check_replayable(op: str) -> None:
    command = COMMANDS.get(op)
    if op not in ("api", lessons.ACTION_OP) and (command is None or command.scope == "global" or op in timeline.NOT_JOURNALED):
        raise CommandError("Invalid", f"the journal holds a command that cannot be replayed: {op!r}")


async def _create_replayed(worker, name: str, config: dict, journal: list[dict], end: tuple, paused: bool,
                           digest: str | None = None, exact: bool = True) -> dict:
    """A new cluster `name` from `config`, `journal` replayed into it up to `end`."""
    for e in journal:
        _check_replayable(e["op"])
    try:
        name = check_cluster_name(name)
    except ConfigError as e:
        raise CommandError("BadRequest", str(e)) from None
    try:
        cfg = ClusterConfig.from_json(config)
        if not isinstance(cfg.seed, int) or isinstance(cfg.seed, bool) or not 0 < len(cfg.nodes) <= MAX_NODES:
            raise ValueError(f"a seed (an integer) and 1 to {MAX_NODES} nodes are required")
        for node in cfg.nodes:
            check_capacity(f"config.nodes[{node.name!r}]", node.cpu, node.memory)
    except (ConfigError, TypeError, ValueError, KeyError, AttributeError) as e:
        raise CommandError("Invalid", f"config: not a cluster configuration: {e}") from None
    outcome: dict = {}

    async def prepare(rc: RunningCluster) -> None:
        rc.paused = paused
        try:
            outcome["applied"] = await timeline.replay(rc, journal, end, _apply_entry, exact=exact)
        except timeline.ReplayDiverged as e:
            raise CommandError("Conflict", f"the run could not be replayed faithfully: {e}") from None
        except timeline.TimelineError as e:
            raise CommandError(e.reason, e.message) from None
        if digest is not None:
            outcome["etcdDigest"] = timeline.keyspace_digest(timeline.etcd_store(rc.engine).current.items())
            outcome["verified"] = outcome["etcdDigest"] == digest
    try:
        rc = await worker.create_cluster(name, cfg, prepare=prepare)
    except ClusterError as e:
        raise _cluster_error(e) from None
    except (TypeError, ValueError, KeyError, AttributeError) as e:  # a config the engine cannot build
        raise CommandError("Invalid", f"config: not a cluster configuration: {type(e).__name__}: {e}") from None
    return {"cluster": rc.name, **rc.clock(), "frame": rc.frame, "replayed": outcome.get("applied", 0),
            **({"etcdDigest": outcome["etcdDigest"], "verified": outcome["verified"]} if digest is not None else {})}


async def fork_cluster(worker, rc, args: dict) -> dict:
    """A new cluster from a moment of another ({"source", "name", "time"? | "frame"?,
    "paused"?}; without time or frame, from now).  A run that can be replayed is replayed from
    its seed up to that moment ("mode": "replay"), and so is a moment taken while it could be
    (before a restart, say); otherwise the fork is restored from the nearest moment's checkpoint
    at or before it, as a restart would restore it ("mode": "checkpoint", docs/timeline.md)."""
    source = worker._get(args.get("source"))
    if source.engine is None:
        raise CommandError("ClusterBroken", f'cluster "{source.name}" is broken; it has no run to fork')
    try:
        name = check_cluster_name(args.get("name"))
    except ConfigError as e:
        raise CommandError("BadRequest", str(e)) from None
    tl = source.timeline
    paused = args.get("paused", True) is not False
    moment, journal = None, None
    if args.get("frame") is not None:
        moment = _timeline_call(lambda: tl.find(f"frame-{args['frame']}"))
        end = (moment.time, moment.events)
        journal = tl.journal[:moment.journal]
    elif args.get("time") is not None:
        t = args["time"]
        try:
            t = parse_duration(t) if isinstance(t, str) else t
        except ValueError as e:
            raise CommandError("BadRequest", f"time: {e}") from None
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 <= t <= source.engine.now:
            raise CommandError("BadRequest", f"time must be a virtual time from 0 to now "
                                             f"(t={source.engine.now:.1f}s)")
        end = (float(t), None)
    else:
        end = timeline.point(source.engine)
    if tl.unreplayable is not None and moment is None:
        moment = _timeline_call(lambda: tl.find(f"{end[0]!r}"))
    if moment is not None and moment.replayable and tl.origin is not None:
        # Taken while the run was replayable (before a restart, say): the journal rebuilds it.
        end, journal = (moment.time, moment.events), tl.journal[:moment.journal]
    elif tl.unreplayable is not None:
        if moment.topology is None or moment.keyspace is None:
            raise CommandError("Conflict", f'cannot fork cluster "{source.name}" at t={moment.time:.1f}s: '
                                           f"{tl.unreplayable}; the moment's etcd keyspace was not kept "
                                           "across the restart")
        made = await worker.fork_checkpoint(name, source, moment, paused)
        return {"cluster": made.name, **made.clock(), "frame": made.frame, "mode": "checkpoint",
                "forkOf": {"cluster": source.name, "time": moment.time},
                "why": f"the run cannot be replayed ({tl.unreplayable}); the fork is restored from the moment's "
                       "etcd keyspace, as a restart would restore it"}
    if journal is None:
        journal = [e for e in tl.journal if (e["t"], e["events"]) <= (end[0], end[1] if end[1] is not None else float("inf"))]
    result = await _create_replayed(worker, name, tl.origin, journal, end, paused)
    return {**result, "mode": "replay", "forkOf": {"cluster": source.name, "time": end[0]}}


async def import_run(worker, rc, args: dict) -> dict:
    """A new cluster replaying an export ({"name", "import": export, "paused"?, "exact"?}); the
    answer says whether etcd ended where the original's did ("verified").  "exact": false
    applies each command at its virtual time instead of its exact point (timeline.replay), for
    an export made by another version of Pilothouse."""
    try:
        config, journal, end = timeline.check_export(args.get("import"))
    except timeline.TimelineError as e:
        raise CommandError(e.reason, e.message) from None
    exact = args.get("exact", True)
    if not isinstance(exact, bool):
        raise CommandError("BadRequest", "exact must be true or false")
    digest = end.get("etcdDigest") if isinstance(end.get("etcdDigest"), str) else None
    return await _create_replayed(worker, args.get("name"), config, journal, (end["time"], end["events"]),
                                  args.get("paused", True) is not False, digest=digest, exact=exact)


COMMANDS: dict[str, Command] = {
    "clusters": Command(list_clusters, scope="global"),
    "cluster.fork": Command(fork_cluster, scope="global"),
    "cluster.import": Command(import_run, scope="global"),
    "history": Command(history),
    "history.at": Command(history_at),
    "export": Command(export_run),
    "cluster.create": Command(create_cluster, scope="global"),
    "cluster.delete": Command(delete_cluster, scope="any"),
    "cluster.reset": Command(reset_cluster, scope="any"),
    "cluster.retry": Command(retry_cluster, scope="any"),
    "cluster.delete-key": Command(delete_stored_key, scope="any"),
    "cluster.kubeconfig": Command(kubeconfig),
    "cluster.access": Command(access, scope="any", touches=False),
    "cluster.watch": Command(watch, scope="any"),
    "clusters.summary": Command(summary, scope="global"),
    "presenter.follow": Command(follow),
    "state": Command(state, scope="any"),
    "api": Command(api),
    "stream": Command(stream),
    "clock": Command(clock, durable=True),
    "node.kill": Command(node_kill_or_restore(True), durable=True),
    "node.restore": Command(node_kill_or_restore(False), durable=True),
    "node.add": Command(node_add, durable=True),
    "component.kill": Command(component_kill, durable=True),
    "kubeadm.status": Command(kubeadm("status")),
    "kubeadm.init": Command(kubeadm("init"), durable=True),
    "kubeadm.join": Command(kubeadm("join"), durable=True),
    "kubeadm.pod-network": Command(kubeadm("pod-network"), durable=True),
    "pod.fault": Command(pod_fault),
    "pod.cri": Command(pod_cri),
    "node.iptables": Command(node_proxy("node_iptables")),
    "node.proxyrules": Command(node_proxy("node_proxy_rules")),
    "node.routes": Command(node_routes),
    "traffic": Command(traffic),
    "workload.load": Command(workload_load),
    "network.get": Command(network("get")),
    "network.partition": Command(network("partition"), durable=True),
    "network.heal": Command(network("heal"), durable=True),
    "network.link": Command(network("link"), durable=True),
    "metrics": Command(metrics),
    "scheduler.queue": Command(scheduler_queue),
    "scheduler.explain": Command(scheduler_explain),
    "etcd.status": Command(etcd_status),
    "etcd.compact": Command(etcd_compact, durable=True),
    "etcd.snapshot.save": Command(etcd_snapshot_save),
    "etcd.snapshot.restore": Command(etcd_snapshot_restore, durable=True),
    "etcd.put": Command(etcd_put, durable=True),
    "etcd.kill": Command(etcd_member("kill"), durable=True),
    "etcd.restore": Command(etcd_member("restore"), durable=True),
    "etcd.timeout": Command(etcd_member("timeout"), durable=True),
    "etcd.transfer": Command(etcd_member("transfer"), durable=True),
    "etcd.isolate": Command(etcd_member("isolate"), durable=True),
    "etcd.member.list": Command(etcd_member_list),
    "etcd.member.add": Command(etcd_member_add, durable=True),
    "etcd.member.promote": Command(etcd_member_change("promote"), durable=True),
    "etcd.member.remove": Command(etcd_member_change("remove"), durable=True),
    "lesson": Command(lesson_command),
}


def is_durable(op: str, args: dict) -> bool:
    """Does this command's answer wait for a persist?  API requests only when they write."""
    if op == "api":
        return _api_is_write(args)
    if op == "clock":
        return bool(args)
    command = COMMANDS.get(op)
    return bool(command and command.durable)

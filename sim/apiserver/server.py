"""kube-apiserver as a state machine: requests in, etcd transactions out, replies after commit.

REST semantics mirror k8s.io/apiserver's generic registry (pkg/registry/generic/registry/store.go):
create is a Txn on create_revision == 0; update and patch are a GuaranteedUpdate (a Txn on
mod_revision, retried from the current value when the cache was stale, a 409 Conflict when the
client's resourceVersion is stale); graceful pod deletion sets deletionTimestamp and lets the
kubelet finish; every object's resourceVersion is the etcd revision that wrote it.

Handler panics are recovered per request, as genericfilters.WithPanicRecovery does: an exception
while serving one request (at once, or in a callback of that request's etcd calls) answers that
request with a 500 Status ("Internal error occurred: ..."), is traced as an "error" event
(Kernel.handle_crash), and touches no other request.  Values in etcd that do not decode are
corrupt objects (sim/apiserver/storage.py): reported, never fatal.
"""
from __future__ import annotations

import bisect
import json
import math
from typing import Any, Callable

from sim.api import status as st
from sim.api.validation import invalid as validation_invalid, not_supported
from sim.api.meta import deep_copy, new_uid, random_suffix
from sim.api.patch import PatchError, PatchTooLarge, json_patch, merge_patch, strategic_merge_patch
from sim.api import reviews
from sim.apiserver import authfilter, tokenrequest
from sim.apiserver.rbacbootstrap import BootstrapRolesHook
from sim.apiserver import aggregator
from sim.api.gotypes import decode as go_decode
from sim.api.schema import DELETE_OPTIONS, FIELD_VALIDATION, decode_error_message, strict_error_message
from sim.api.selectors import SelectorError, field_value, make_filter, parse_field_selector
from sim.apiserver.admission import CREATE, UPDATE, Attributes, Chain, Lister, Wait
from sim.apiserver.admission.limitranger import LimitRanger
from sim.apiserver.admission.namespacelifecycle import NamespaceLifecycle
from sim.apiserver.admission.priority import Priority
from sim.apiserver.admission.certificatesubjectrestriction import CertificateSubjectRestriction
from sim.apiserver.admission.defaultingressclass import DefaultIngressClass
from sim.apiserver.admission.defaultstorageclass import DefaultStorageClass
from sim.apiserver.admission.storageobjectinuseprotection import StorageObjectInUseProtection
from sim.apiserver.admission.resourcequota import ResourceQuota
from sim.apiserver.admission.serviceaccount import ServiceAccount
from sim.apiserver.bootstrap import SystemPriorityClassesHook
from sim.apiserver.endpointreconciler import LeaseEndpointReconciler
from sim.apiserver.kubernetesservice import KubernetesServiceController
from sim.apiserver import (binding, continuetoken, eviction, fieldmanagement, podattach, podexec, podlogs,
                           podportforward, scale, storage)
from sim.apiserver.crdcontroller import CRDController
from sim.apiserver.watchcache import WatchCache, Watcher, with_rv
from sim.registry import Registry, Resource
from sim.registry.tables import TableRequest, to_table
from sim.component import Component, request_label
from sim.metrics import RequestMetrics, request_labels

Reply = Callable[[dict], None]
MAX_UPDATE_RETRIES = 5
ETCD_REQUEST_TIMEOUT = 7.0  # etcd's request timeout: 5 s + 2 x the 1 s election timeout
BOOKMARK_INTERVAL = 60.0    # watch bookmarks, about once a minute (cacher's bookmark timer)
MIN_REQUEST_TIMEOUT = 1800.0  # --min-request-timeout: a watch ends after 1-2x this
# How often the etcd client's view of its watch stream's connection is looked at.  gRPC learns
# of a reset at once; the check every half second stands for that at a timer's cost.
WATCH_STREAM_CHECK = 0.5


def _stored_form(obj: dict) -> dict:
    """The object as etcd stores it: without metadata.resourceVersion, which is the revision
    (etcd3 store.go).  New top and metadata dicts, so that what the caller does to its object's
    metadata afterwards (a create retried under another generated name) leaves it alone."""
    md = obj.get("metadata")
    out = dict(obj)
    if isinstance(md, dict):
        out["metadata"] = {k: v for k, v in md.items() if k != "resourceVersion"}
    return out


# etcd's --max-request-bytes default (1.5 MiB): a larger write fails with ErrRequestTooLarge,
# which kube-apiserver passes on as "etcdserver: request is too large".  The issue asks for a
# 4xx, never a 500: a 413 RequestEntityTooLarge here.
ETCD_MAX_REQUEST_BYTES = 1536 * 1024


def _request_too_large() -> dict:
    return st.status(413, "RequestEntityTooLarge", "etcdserver: request is too large")


def _ok(code: int, body: dict) -> dict:
    return {"code": code, "body": body}


def _err(body: dict) -> dict:
    return {"code": body["code"], "body": body}


def _invalid(kind: str, name: str, errors: list, group: str = "") -> dict:
    """422 Invalid; errors.NewInvalid names the GroupKind ("ReplicaSet.apps", "PriorityClass.scheduling.k8s.io")."""
    body = st.invalid(kind, name, errors, group)
    if group:
        body["message"] = f"{kind}.{group}{body['message'][len(kind):]}"
    return body


def type_meta_error(kind: str, api_version: str, obj: dict) -> dict | None:
    """The body's apiVersion and kind, when set, must be the URL's (createHandler /
    UpdateResource in staging/src/k8s.io/apiserver/pkg/endpoints/handlers: a GroupVersion the
    endpoint does not accept is refused, an object of another kind does not decode into it)."""
    version, body_kind = obj.get("apiVersion"), obj.get("kind")
    if version not in (None, "") and version != api_version:
        return st.bad_request(f"the API version in the data ({version}) does not match the expected API "
                              f"version ({api_version})")
    if body_kind not in (None, "") and body_kind != kind:
        return st.bad_request(f"the object provided is unrecognized (must be of type {kind})")
    return None


def _dry_run(req: dict) -> bool:
    """?dryRun=All (requestinfo refuses any other value)."""
    return bool((req.get("query") or {}).get("dryRun"))


def _precondition_rv(body: dict) -> str | None:
    """metadata.resourceVersion of an update or patch body: the write's precondition."""
    md = body.get("metadata")
    rv = md.get("resourceVersion") if isinstance(md, dict) else None
    return rv if isinstance(rv, str) and rv else None


def body_decode_error(kind: str, api_version: str, body: Any, go_type) -> dict | None:
    """A subresource's body (Binding, Scale) decoded into its Go type: None, or the 400."""
    if not isinstance(body, dict):
        return st.bad_request("the body of the request must be a JSON object")
    wrong = type_meta_error(kind, api_version, body)
    if wrong:
        return wrong
    error = go_decode(body, go_type).error
    version = api_version.rpartition("/")[2]
    return st.bad_request(decode_error_message(kind, version, error)) if error else None


PROPAGATION_POLICIES = ("Foreground", "Background", "Orphan")
# genericregistry.Store's maxNameGenerationCreateAttempts (RetryGenerateName).
MAX_NAME_GENERATION_CREATE_ATTEMPTS = 8


def _deleted_as_status(res: Resource, reply: "Reply") -> "Reply":
    """finalizeDelete's Status: details name, group, kind (the resource, "Yes we set Kind field
    to resource") and uid, for an object gone from storage."""
    def wrapped(resp: dict) -> None:
        body = resp.get("body") or {}
        md = body.get("metadata") or {}
        if resp.get("code") == 200 and body.get("kind") == res.kind and not md.get("deletionTimestamp"):
            details = {"name": md.get("name", ""), "kind": res.name, "uid": md.get("uid", "")}
            if res.group:
                details["group"] = res.group
            resp = dict(resp, body=st.success(details))
        reply(resp)
    return wrapped


# The subresources served by handlers of their own, by the verbs they take (`status` goes
# through the kind's update; the rest answer 405).
SUBRESOURCE_HANDLERS = {
    "scale": (("get", "update", "patch"), scale.serve),
    "binding": (("create",), binding.bind),
    "eviction": (("create",), eviction.evict),
    "log": (("get",), podlogs.serve),
    "exec": (("get", "create"), podexec.serve),
    "attach": (("get", "create"), podattach.serve),
    "portforward": (("get", "create"), podportforward.serve),
    "token": (("create",), tokenrequest.serve),
}


def _requested_api_version(res: Resource, req: dict) -> str:
    """The group/version the request addresses: one of the kind's served versions (a custom
    kind may serve several), else its storage version."""
    version = req.get("version")
    if version and version != res.version and version in res.served_versions:
        return f"{res.group}/{version}" if res.group else version
    return res.api_version


def _requested_version(res: Resource, req: dict) -> str:
    return _requested_api_version(res, req).rpartition("/")[2]


def _converting(res: Resource, req: dict, reply: "Reply") -> "Reply":
    """Answers at the version asked for: the kind's objects (in a get, a list, a watch's
    events) converted from the storage version by the kind's conversion (Resource.to_version;
    a CRD's conversion None changes only the apiVersion)."""
    api_version = _requested_api_version(res, req)
    if api_version == res.api_version:
        return reply
    version = api_version.rpartition("/")[2]

    def convert(obj):
        if isinstance(obj, dict) and obj.get("apiVersion") == res.api_version:
            if obj.get("kind") == res.kind:
                return res.to_version(obj, version)
            if obj.get("kind") == f"{res.kind}List":
                obj = dict(obj, apiVersion=api_version)
                if isinstance(obj.get("items"), list):
                    obj["items"] = [convert(i) for i in obj["items"]]
        return obj

    def wrapped(resp: dict) -> None:
        if "body" in resp:
            resp = dict(resp, body=convert(resp["body"]))
        if "events" in resp:
            resp = dict(resp, events=[dict(e, object=convert(e.get("object"))) for e in resp["events"]])
        reply(resp)
    return wrapped


def _with_warnings(reply: "Reply", warnings: list[str]) -> "Reply":
    """Successful responses carry the warnings (kube-apiserver sends them as Warning headers);
    the list may still grow until the answer leaves (a strategy's WarningsOnCreate)."""
    return lambda resp: reply(dict(resp, warnings=list(warnings)) if resp["code"] < 400 and warnings else resp)


class KubeAPIServer(Component):
    component = "kube-apiserver"

    def __init__(self, host: str, etcd_address: str | list[str], toleration_seconds: int = 300,
                 event_ttl: float = 3600.0, compaction_interval: float = 300.0, registry: Registry | None = None,
                 service_cluster_ip_range: str = "10.96.0.0/12",
                 service_node_port_range: tuple[int, int] = (30000, 32767),
                 authentication: authfilter.Authentication | None = None):
        super().__init__(host)
        # --token-auth-file, --service-account-signing-key-file, and whether the anonymous user
        # is allowed everything (an open cluster): sim/apiserver/authfilter.py.
        self.authentication = authentication or authfilter.Authentication()
        # --etcd-servers: the first endpoint is used until a request to it times out, then the
        # next (the etcd client's failover); a member on this host comes first when stacked.
        self.etcd_endpoints = [etcd_address] if isinstance(etcd_address, str) else list(etcd_address)
        self.etcd = self.etcd_endpoints[0]
        self.toleration_seconds = toleration_seconds
        self.event_ttl = event_ttl
        self.compaction_interval = compaction_interval
        # The kinds it serves: the built-in ones, and those its CustomResourceDefinitions add
        # (a process starts with the built-in ones and learns the others from etcd).
        self.builtin_kinds = (registry if registry is not None else Registry()).served()
        self.registry = Registry(self.builtin_kinds)
        self.crd_controller = CRDController(self)
        # --enable-admission-plugins: the ones that matter here (DefaultTolerationSeconds runs
        # with defaulting, sim.api.defaults).  Plugins read the watch cache, as their informers.
        # Plugins read the watch cache, as their informers (lister_for: a GroupResource's lister).
        # kube-apiserver's order: NamespaceLifecycle, LimitRanger, ServiceAccount, ..., Priority, ...,
        # ResourceQuota last (it charges what it admits to the quota).
        self.admission = Chain([NamespaceLifecycle(self.lister_for), LimitRanger(self.lister_for),
                                ServiceAccount(self.lister_for, lambda: self.rng),
                                StorageObjectInUseProtection(), DefaultStorageClass(self.lister_for),
                                CertificateSubjectRestriction(), DefaultIngressClass(self.lister_for),
                                Priority(self.lister_for), ResourceQuota(self)])
        self.post_start_hooks = [SystemPriorityClassesHook(self), BootstrapRolesHook(self), KubernetesServiceController(self),
                                 LeaseEndpointReconciler(self)]
        # --service-cluster-ip-range and --service-node-port-range (the Service allocators').
        self.service_cluster_ip_range = service_cluster_ip_range
        self.service_node_port_range = service_node_port_range
        self.synced_once = False
        self._reset()

    def _reset(self) -> None:
        self.metrics = RequestMetrics()  # a process's counters start at zero
        self.registry = Registry(self.builtin_kinds)
        self.crd_controller.reset()
        self.cache = WatchCache(self.registry.stored())
        self.synced = False
        self.waiting: list[tuple[str, dict]] = []
        self.pending: dict[int, tuple[Callable[[dict], None], int, str]] = {}
        self.kubelet_pending: dict[int, Callable[[dict], None]] = {}  # pods/log: sim/apiserver/podlogs.py
        self.etcd_requests: dict[int, tuple[tuple[str, str, str], float]] = {}  # id -> (labels, sent at)
        self.next_id = 0
        self.client_watchers: dict[tuple[str, Any], Watcher] = {}
        self.compact_candidate = 0
        self.read_waiters: list[tuple[int, Callable[[], None], Reply | None]] = []
        # The reply of the request being served right now: etcd calls made meanwhile remember
        # it, so a failure in their callbacks answers that request (and no other).
        self._serving: Reply | None = None
        # The cacher's watch stream: (endpoint, the incarnation of the member process it was
        # opened on).  A stream lives on one connection and dies with that process.
        self.watch_stream: tuple[str, int] | None = None
        # What this process last wrote to each etcd key: (its kind, the value, the object that
        # value is the JSON of).  See decode_event.
        self.own_writes: dict[str, tuple[Resource, str, dict]] = {}
        # What a kind's strategy keeps in this process (the Service allocators' view of what
        # is allocated): lost with the process, rebuilt from the watch cache.
        self.kind_state: dict[str, Any] = {}

    # -- lifecycle ---------------------------------------------------------------------
    def on_start(self) -> None:
        self._reset()
        self.synced_once = False  # post-start hooks run once the first list has loaded
        self.etcd_call({"type": "etcd.range", "prefix": "/registry/"}, self._initial_list)
        self.set_timer(self.compaction_interval, "compact")
        self.set_timer(60.0, "event-ttl")
        self.ttl_oldest: dict = {}  # kind -> the creation time of its oldest object at the last look
        self.set_timer(BOOKMARK_INTERVAL, "bookmarks")
        self.set_timer(WATCH_STREAM_CHECK, "watch-stream")

    def on_stop(self) -> None:
        self._reset()

    def _initial_list(self, reply: dict) -> None:
        if reply.get("type") == "timeout" or "error" in reply:
            # That endpoint did not answer (fail_over moved on): list from the next one.
            self.etcd_call({"type": "etcd.range", "prefix": "/registry/"}, self._initial_list)
            return
        for key, value, mod_rev in reply.get("kvs", []):
            res = self.resource_of_key(key)
            ckey = storage.object_key(res, key) if res is not None else None
            if ckey is None:
                continue  # not an object's key: the cacher lists by prefix and skips it too
            obj, error = storage.decode(res, ckey, value)
            if error:
                self._corrupt_found(res, ckey, storage.CorruptObject(key, mod_rev, error), initial=True)
            else:
                self.cache.replace(res.gr, ckey, with_rv(obj, mod_rev))
                res.strategy.observe(self, ckey, obj)
        self.cache.rv = reply.get("revision", 1)
        self.open_watch()
        first_sync = not self.synced_once
        self.synced = self.synced_once = True
        self.emit("state", component=self.address, state="ready")
        if first_sync:
            for hook in self.post_start_hooks:
                hook.start()
            for res in self.registry.stored():
                res.strategy.post_start(res, self)
        waiting, self.waiting = self.waiting, []
        for src, msg in waiting:
            self.on_message(src, msg)

    def on_timer(self, name: str, data: Any) -> None:
        if name == "etcd-timeout":
            return self.on_timer_etcd_timeout(data)
        if name == "compact":
            # The apiserver's compactor (storage/etcd3/compact.go): every interval, compact to
            # the revision seen one interval earlier.
            if self.compact_candidate:
                self.send(self.etcd, {"type": "etcd.compact", "revision": self.compact_candidate}, "compact")
            self.compact_candidate = self.cache.rv
            self.set_timer(self.compaction_interval, "compact")
        elif name == "bookmarks":
            self.send_bookmarks()
            self.set_timer(BOOKMARK_INTERVAL, "bookmarks")
        elif name == "watch-stream":
            self.maybe_reopen_watch()
            self.set_timer(WATCH_STREAM_CHECK, "watch-stream")
        elif name == "event-ttl":
            # Objects of kinds with a TTL (events: --event-ttl, 1 h) expire; etcd leases do this
            # upstream.
            # A kind is looked through only once its oldest object (as of the last look) has
            # expired: anything created since is newer still, so until then nothing can have.
            for res in self.registry.stored():
                if res.ttl is None:
                    continue
                cutoff = self.now - res.ttl(self)
                if cutoff < self.ttl_oldest.get(res.gr, -math.inf):
                    continue
                oldest = math.inf
                for obj in list(self.cache.objects(res.gr).values()):
                    created = self.parse_time(obj["metadata"].get("creationTimestamp"))
                    if created is not None and created < cutoff:
                        key = res.key(obj["metadata"].get("namespace"), obj["metadata"]["name"])
                        self.etcd_call({"type": "etcd.txn", "key": key, "compare": "none", "value": None},
                                       lambda r: None)
                    elif created is not None:
                        oldest = min(oldest, created)
                self.ttl_oldest[res.gr] = oldest
            self.set_timer(60.0, "event-ttl")

    # -- etcd --------------------------------------------------------------------------
    def etcd_call(self, msg: dict, callback: Callable[[dict], None]) -> None:
        if not self._endpoint_up(self.etcd):
            self.fail_over()  # a stopped member refuses the connection at once
        self.next_id += 1
        msg = dict(msg, id=self.next_id)
        handle = self.set_timer(ETCD_REQUEST_TIMEOUT, "etcd-timeout", self.next_id)
        self.pending[self.next_id] = (callback, handle, self.etcd, self._serving)
        if msg["type"] == "etcd.txn":
            # etcd_request_duration_seconds: the storage layer's writes, by operation and resource
            # (store.go's Create, GuaranteedUpdate, Delete).
            res = self.resource_of_key(msg["key"])
            if res is not None:
                op = "delete" if msg.get("value") is None else "create" if msg.get("compare") == "create" else "update"
                self.etcd_requests[self.next_id] = ((op, res.group, res.name), self.now)
        label = {"etcd.txn": f"write {msg.get('key')}", "etcd.range": f"range {msg.get('prefix')}",
                 "etcd.readindex": "read index"}.get(msg["type"], msg["type"])
        self.send(self.etcd, msg, label)

    def remember_write(self, res: Resource, key: str, value: str, stored: dict) -> None:
        """A value this process is writing, and the object it encoded it from (_stored_form)."""
        self.own_writes[key] = (res, value, stored)

    # Debugging aid (tests set it): decode every event anyway and check that the object handed
    # over is the one decoding gives, key order and types included.
    verify_own_writes = False

    def decode_event(self, res: Resource, key: str, ckey: tuple[str, str], value) -> tuple[dict | None, str | None]:
        """storage.decode of a value etcd's watch sent.  The cacher decodes every event
        (etcd3 watcher.go transform -> decodeObj); a value this process wrote itself is the
        JSON of an object it just encoded, defaulted and validated, so that object is handed to
        the watch cache instead of parsing and type-checking the string again (about half of
        an event's cost).  Only for the very value, of the very kind (a CRD changed meanwhile
        makes another Resource), at a key naming it; a value written by anyone else - another
        kube-apiserver, etcdctl, a corrupt one - is decoded and checked as before."""
        own = self.own_writes.pop(key, None)
        if own is not None and own[0] is res and own[1] == value:
            obj = own[2]
            md = obj["metadata"]
            ns, name = ckey
            if md.get("name") == name and (not res.namespaced or md.get("namespace") == ns):
                if self.verify_own_writes:
                    decoded, error = storage.decode(res, ckey, value)
                    assert error is None and storage.same_json(decoded, obj), (key, error)
                return obj, None
        return storage.decode(res, ckey, value)

    def resource_of_key(self, key: str) -> Resource | None:
        return self.registry.of_key(key)

    def _corrupt_found(self, res: Resource, ckey: tuple[str, str], corrupt: storage.CorruptObject,
                       rev: int = 0, initial: bool = False) -> None:
        """A value that does not decode: kept aside in the watch cache, logged, traced."""
        if initial:
            self.cache.replace_corrupt(res.gr, ckey, corrupt)
        else:
            self.cache.mark_corrupt(rev, res.gr, ckey, corrupt)
        self.emit("corrupt-object", component=self.address, key=corrupt.key, message=corrupt.error)

    def on_message(self, src: str, msg: dict) -> None:
        t = msg["type"]
        if t in ("kubelet.reply", "metrics.reply"):
            return podlogs.kubelet_replied(self, msg)
        if t in ("etcd.txn.reply", "etcd.range.reply", "etcd.readindex.reply"):
            entry = self.pending.pop(msg["id"], None)
            timed = self.etcd_requests.pop(msg["id"], None)
            if timed:
                self.metrics.observe_etcd(timed[0], self.now - timed[1], "error" in msg)
            if entry:
                self.cancel_timer(entry[1])
                self._within(entry[3], lambda: entry[0](msg))
            return
        if t == "etcd.watch.compacted":
            self.relist()
            return
        if t == "etcd.watch.events":
            for rev, key, value in msg["events"]:
                res = self.resource_of_key(key)
                if res is None or (rev <= self.cache.rv and self.synced):
                    continue  # unknown prefix, or already seen through another endpoint
                self.cache.rv = max(self.cache.rv, rev)
                ckey = storage.object_key(res, key)
                if ckey is None:
                    continue  # not an object's key
                if value is None:
                    self.cache.apply(rev, res.gr, ckey, None)
                    res.strategy.observe(self, ckey, None)
                    continue
                obj, error = self.decode_event(res, key, ckey, value)
                if error:
                    self._corrupt_found(res, ckey, storage.CorruptObject(key, rev, error), rev)
                else:
                    self.cache.apply(rev, res.gr, ckey, obj)
                    res.strategy.observe(self, ckey, obj)
            self.release_reads()
            return
        if not self.synced:
            self.waiting.append((src, msg))
            return
        if t == "api":
            self.serve(msg["req"], lambda resp, src=src, rid=msg["id"], label=self._label(msg["req"]):
                       self.send(src, {"type": "api.reply", "id": rid, "resp": resp}, f"{label} → {resp['code']}"))
        elif t == "watch":
            self.start_watch(src, msg["wid"], msg["req"])
        elif t == "watch.stop":
            w = self.client_watchers.pop((src, msg["wid"]), None)
            if w:
                self.cache.remove_watcher(w)

    def on_timer_etcd_timeout(self, rid: int) -> None:
        entry = self.pending.pop(rid, None)
        timed = self.etcd_requests.pop(rid, None)
        if timed:
            self.metrics.observe_etcd(timed[0], self.now - timed[1], True)
        if entry:
            if entry[2] == self.etcd:  # only the endpoint in use is given up on, once
                self.fail_over()
            self._within(entry[3], lambda: entry[0]({"type": "timeout"}))

    def lister_for(self, gr: str) -> Lister:
        """A lister of one kind in the watch cache (read anew each time: a relist replaces it)."""
        return Lister(lambda: self.cache.objects(gr))

    def close_watches(self, watchers: list[Watcher]) -> None:
        """End these client watches (their kind is no longer served): 410, so clients relist."""
        gone = {id(w) for w in watchers}
        for key, w in list(self.client_watchers.items()):
            if id(w) in gone:
                del self.client_watchers[key]
                self.send(key[0], {"type": "watch.error", "wid": key[1], "code": 410}, f"watch {w.resource} 410")

    def relist(self) -> None:
        """The cacher's watch on etcd cannot resume (its revision was compacted, or etcd's
        keyspace was restored from a snapshot): end every client watch with 410 Gone (clients
        relist) and load the cache again from a fresh range."""
        for (client, wid), w in list(self.client_watchers.items()):
            self.send(client, {"type": "watch.error", "wid": wid, "code": 410}, f"watch {w.resource} 410")
        self.client_watchers.clear()
        waiting = self.waiting
        self.cache = WatchCache(self.registry.stored())
        self.synced = False
        self.waiting = waiting
        self.action("kube-apiserver relists its watch cache from etcd")
        self.etcd_call({"type": "etcd.range", "prefix": "/registry/"}, self._initial_list)

    def _endpoint_up(self, endpoint: str) -> bool:
        """What the etcd client's gRPC connection state tells it: the member's process accepts
        connections and its host is reachable (a stopped one refuses at once; a slow or
        leaderless one only shows by timing out)."""
        member = self.kernel.components.get(endpoint)
        return bool(member and member.running and self.kernel.network.reachable(self.host, member.host))

    def fail_over(self) -> None:
        """Switch to the next etcd endpoint that is up and resume the cache's watch there."""
        if len(self.etcd_endpoints) < 2:
            return
        i = self.etcd_endpoints.index(self.etcd)
        candidates = self.etcd_endpoints[i + 1:] + self.etcd_endpoints[:i]
        nxt = next((e for e in candidates if self._endpoint_up(e)), None)
        if nxt is None:
            return  # nothing better: keep trying this one
        self.etcd = nxt
        self.action(f"kube-apiserver switched to etcd endpoint {self.etcd}")
        if self.synced:
            self.open_watch()

    def open_watch(self) -> None:
        """Open the cacher's watch on the endpoint in use, from the revision after the last
        one the cache has seen (so nothing is missed, and what comes twice is skipped)."""
        member = self.kernel.components.get(self.etcd)
        self.watch_stream = (self.etcd, member.incarnation if member else 0)
        self.send(self.etcd, {"type": "etcd.watch", "id": "cacher", "prefix": "/registry/",
                              "start_revision": self.cache.rv + 1}, "watch /registry/")

    def maybe_reopen_watch(self) -> None:
        """clientv3's watch stream retry: the member process the stream was opened on stopped
        (or stopped and started again: a restarted member knows no watchers), so the stream is
        broken.  Re-open it on the endpoint in use when that one is up, else fail over; with no
        member up, the next check tries again.  (A partition breaks no stream: it resumes when
        healed, and requests that time out meanwhile fail over, re-opening it elsewhere.)"""
        if not self.synced or self.watch_stream is None:
            return  # the initial list (or a relist) opens it when it has loaded
        endpoint, incarnation = self.watch_stream
        member = self.kernel.components.get(endpoint)
        if member is not None and member.running and member.incarnation == incarnation:
            return
        if self.etcd == endpoint and not self._endpoint_up(endpoint):
            self.fail_over()  # re-opens it on the member it moves to, if one is up
            return
        self.action(f"kube-apiserver re-opened its watch on {self.etcd} from revision {self.cache.rv + 1}")
        self.open_watch()

    def _label(self, req: dict) -> str:
        return request_label(req)

    def trace_k8s_event(self, ev: dict) -> None:
        """A Kubernetes Event was written: one "k8s-event" line, from the kube-apiserver whose
        write created it (every apiserver's watch cache sees it; the log shows it once)."""
        io = ev.get("involvedObject") or {}
        self.emit("k8s-event", namespace=ev["metadata"].get("namespace"),
                  object=f"{io.get('kind')}/{io.get('name')}", reason=ev.get("reason"),
                  type=ev.get("type"), message=ev.get("message"),
                  source=(ev.get("source") or {}).get("component") or ev.get("reportingComponent"))

    # -- consistent reads ---------------------------------------------------------------
    def consistent_read(self, serve: Callable[[], None], reply: Reply) -> None:
        def got(r: dict) -> None:
            if r.get("type") == "timeout":
                return reply(_err(st.timeout("etcdserver: request timed out")))
            if self.cache.rv >= r["revision"]:
                return serve()
            self.read_waiters.append((r["revision"], serve, self._serving))

        self.etcd_call({"type": "etcd.readindex"}, got)

    def release_reads(self) -> None:
        if not self.read_waiters:
            return
        ready = [w for w in self.read_waiters if w[0] <= self.cache.rv]
        self.read_waiters = [w for w in self.read_waiters if w[0] > self.cache.rv]
        for _rev, serve, serving in ready:
            self._within(serving, serve)

    # -- watches from components -------------------------------------------------------
    def send_bookmarks(self) -> None:
        """Every watcher gets a BOOKMARK with the current revision; watches past their
        timeout are closed (the client re-watches from its last revision).  A bookmark that
        arrives after lost messages shows the client a gap, which is how a kubelet cut off by a
        partition learns, after it heals, that it must relist."""
        rv = str(self.cache.rv)
        now = self.now
        # One bookmark per kind, sent to each of its watchers: a message is never changed once
        # sent (Network.send), and a cluster has thousands of watches (every kubelet's pods and
        # node, every informer of every controller) on a few dozen kinds.
        bookmarks: dict[str, list[dict]] = {}
        for key, w in list(self.client_watchers.items()):
            if now >= w.expires:
                self.cache.remove_watcher(w)
                del self.client_watchers[key]
                self.send(key[0], {"type": "watch.closed", "wid": key[1]}, f"watch {w.resource} closed")
                continue
            events = bookmarks.get(w.resource)
            if events is None:
                res = self.registry.by_gr(w.resource)
                events = bookmarks[w.resource] = [{"type": "BOOKMARK", "object": {
                    "kind": res.kind if res else "", "metadata": {"resourceVersion": rv}}}]
            w.send(events)

    def start_watch(self, src: str, wid: Any, req: dict) -> None:
        res = self.registry.lookup(req.get("group", ""), req["resource"])
        if res is None:
            return
        try:
            match = make_filter(res, req.get("namespace"), req.get("labelSelector"), req.get("fieldSelector"))
            index = None
            if req.get("fieldSelector"):
                reqs = parse_field_selector(req["fieldSelector"], res)
                for f in res.indexed_fields:
                    v = field_value(reqs, f)
                    if v:
                        index = (f, v)
                        break
        except SelectorError:
            return
        seq = [0]

        def send(events: list[dict], src=src, wid=wid) -> None:
            seq[0] += 1
            self.send(src, {"type": "watch.event", "wid": wid, "seq": seq[0], "events": events},
                      f"watch {res.name}")

        w = Watcher(wid, res.gr, match, send, index)
        w.expires = self.now + MIN_REQUEST_TIMEOUT * (1 + self.rng.random())
        rv = int(req.get("resourceVersion") or 0)
        backlog = self.cache.events_since(res.gr, rv, match) if rv else self.cache.initial_events(res.gr, match)
        if backlog is None:
            self.send(src, {"type": "watch.error", "wid": wid, "code": 410}, f"watch {res.name} 410")
            return
        self.client_watchers[(src, wid)] = w
        self.cache.add_watcher(w)
        if backlog:
            send(backlog)

    # -- requests ----------------------------------------------------------------------
    def serve(self, req: dict, reply: Reply) -> None:
        """Serve one request with panic recovery (WithPanicRecovery): `reply` is called exactly
        once, with a 500 InternalError Status if handling it raised."""
        answered = False
        arrival = self.now

        def once(resp: dict) -> None:
            nonlocal answered
            if not answered:
                answered = True
                # apiserver_request_total / _duration_seconds: from arrival to reply, virtual.
                self.metrics.observe(request_labels(req), resp.get("code", 0), self.now - arrival)
                reply(resp)

        self._within(once, lambda: self.handle(req, once))

    def _within(self, reply: Reply | None, fn: Callable[[], None]) -> None:
        """Run `fn` on behalf of the request answered by `reply` (None: the apiserver's own
        work); an exception is recovered (Kernel.handle_crash) and answers that request."""
        outer, self._serving = self._serving, reply
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - one request's failure is that request's alone
            self.kernel.handle_crash(e, self.address)
            if reply is not None:
                reply(_err(st.internal(f"{type(e).__name__}: {e}")))
        finally:
            self._serving = outer

    def handle(self, req: dict, reply: Reply) -> None:
        if "credentials" in req:
            # A request from outside the cluster: WithAuthentication, WithImpersonation,
            # WithAuthorization (sim/apiserver/authfilter.py).
            req, refused = authfilter.filter_request(self, req)
            if refused is not None:
                return reply(_err(refused))
        if req.get("verb") == "nonresource":
            return reply(_ok(200, st.success()))  # /version, /healthz ...: the caller serves them
        if req.get("verb") == "discovery":
            return reply(_ok(200, {"revision": self.registry.revision,
                                   "resources": [r.describe() for r in self.registry.served()]}))
        if aggregator.handles(req):
            return aggregator.serve(self, req, reply)  # metrics.k8s.io: metrics-server's
        res = self.registry.lookup(req.get("group", ""), req.get("resource", ""))
        if res is None:
            review = reviews.lookup(req.get("group", ""), req.get("resource", ""))
            if review is not None and req.get("verb") == "create" and not req.get("subresource"):
                return reply(reviews.create(review, req, self.timestamp(), self))  # create-only, never stored
            return reply(_err(st.status(404, "NotFound", "the server could not find the requested resource")))
        sub = req.get("subresource")
        if sub and sub not in res.subresources:
            return reply(_err(st.status(404, "NotFound", "the server could not find the requested resource")))
        verb = req.get("verb")
        if verb in ("get", "list") and not (req.get("query") or {}).get("resourceVersion") \
                and not (verb == "list" and (req.get("query") or {}).get("continue")) and not req.get("_consistent"):
            # resourceVersion unset: a consistent read.  As with ConsistentListFromCache, ask
            # etcd for its current revision through a quorum (ReadIndex), wait for the watch
            # cache to reach it, then serve from the cache.  Without a quorum: a timeout.  A
            # continued list is not one: its token names the resourceVersion it reads at.
            return self.consistent_read(lambda: self.handle(dict(req, _consistent=True), reply), reply)
        table = TableRequest.from_json(req.get("as"))
        if table is not None and not sub and verb in ("get", "list"):
            reply = self._as_table(res, req, table, reply)  # rows printed from the stored form
        else:
            reply = _converting(res, req, reply)
        handler = SUBRESOURCE_HANDLERS.get(sub)
        if handler is not None and verb in handler[0]:
            return handler[1](self, res, req, reply)
        if sub and (sub not in res.strategy.update_subresources or verb not in ("get", "update", "patch")):
            return reply(_err(st.method_not_allowed()))
        try:
            if verb == "get":
                return self.do_get(res, req, reply)
            if verb == "list":
                return self.do_list(res, req, reply)
            if verb == "watch":
                return self.do_watch_poll(res, req, reply)
            if verb == "create" and not sub:
                return self.do_create(res, req, reply)
            if verb in ("update", "patch"):
                return self.do_update(res, req, reply)
            if verb == "delete":
                return self.do_delete(res, req, reply)
            if verb == "deletecollection":
                return self.do_delete_collection(res, req, reply)
        except SelectorError as e:
            return reply(_err(st.bad_request(str(e))))
        return reply(_err(st.method_not_allowed()))

    def _as_table(self, res: Resource, req: dict, table: TableRequest, reply: Reply) -> Reply:
        """Answers a successful get or list as a meta.k8s.io Table (the client's Accept asked
        for one), built here as kube-apiserver's response writer does, so that only the rows
        leave the apiserver."""
        def wrapped(resp: dict) -> None:
            if resp.get("code", 500) < 300 and isinstance(resp.get("body"), dict):
                resp = dict(resp, body=to_table(res, resp["body"], is_list=req.get("verb") == "list",
                                                now=self.now + self.kernel.epoch_offset,
                                                api_version=_requested_api_version(res, req), table=table))
            reply(resp)
        return wrapped

    def _get_cached(self, res: Resource, namespace: str | None, name: str) -> dict | None:
        return self.cache.objects(res.gr).get((namespace or "" if res.namespaced else "", name))

    def _get_corrupt(self, res: Resource, namespace: str | None, name: str) -> storage.CorruptObject | None:
        corrupt = self.cache.corrupt(res.gr)
        return corrupt.get((namespace or "" if res.namespaced else "", name)) if corrupt else None

    def do_get(self, res: Resource, req: dict, reply: Reply) -> None:
        obj = self._get_cached(res, req.get("namespace"), req.get("name", ""))
        if obj is None:
            corrupt = self._get_corrupt(res, req.get("namespace"), req.get("name", ""))
            if corrupt is not None:
                return reply(_err(st.internal(corrupt.storage_error())))
            return reply(_err(st.not_found(res.name, req.get("name", ""), res.group)))
        reply(_ok(200, obj))

    def _corrupt_in_scope(self, res: Resource, req: dict) -> list[storage.CorruptObject]:
        """The corrupt objects a list of `req`'s scope would have held (any labels: a value
        that does not decode has none to select on)."""
        corrupt = self.cache.corrupt(res.gr)
        if not corrupt:
            return []
        ns = req.get("namespace") if res.namespaced else None
        return [c for k, c in sorted(corrupt.items()) if not ns or k[0] == ns]

    def _scope(self, res: Resource, req: dict) -> tuple[list[tuple[str, str]], int, int]:
        """The kind's keys in order, and the range [lo, hi) of them the request's namespace
        holds (all of them for a cluster-wide list): etcd's range over the namespace's prefix."""
        keys = self.cache.sorted_keys(res.gr)
        ns = req.get("namespace") if res.namespaced else None
        if not ns:
            return keys, 0, len(keys)
        # (ns,) sorts before every (ns, name); (ns + NUL,) after them and before any other namespace.
        return keys, bisect.bisect_left(keys, (ns,)), bisect.bisect_left(keys, (ns + "\x00",))

    def _filtered(self, res: Resource, req: dict) -> list[dict]:
        q = req.get("query") or {}
        ns = req.get("namespace") if res.namespaced else None
        match = make_filter(res, ns, q.get("labelSelector"), q.get("fieldSelector"))
        objs = self.cache.objects(res.gr)
        keys, lo, hi = self._scope(res, req)
        return [objs[k] for k in keys[lo:hi] if match(objs[k])]

    def do_list(self, res: Resource, req: dict, reply: Reply) -> None:
        """A list from the watch cache, in key order, a page of `limit` at a time (the cacher's
        list: upstream's storage/cacher serves paginated lists from memory since 1.33)."""
        q = req.get("query") or {}
        ns = req.get("namespace") if res.namespaced else None
        try:
            limit = int(q.get("limit") or 0)
        except ValueError:
            return reply(_err(st.bad_request(f"invalid limit {q.get('limit')!r}")))
        rv = self.cache.rv
        keys, lo, hi = self._scope(res, req)
        start = lo
        if q.get("continue"):
            if q.get("resourceVersion") not in (None, "", "0"):
                return reply(_err(st.bad_request("specifying resource version is not allowed when using continue")))
            try:
                key, after, rv = continuetoken.decode(q["continue"], res.namespaced)
            except continuetoken.InvalidContinue as e:
                return reply(_err(st.bad_request(str(e))))
            start = max(lo, (bisect.bisect_right if after else bisect.bisect_left)(keys, key))
            # The pages after the first are served from the cache as it is now, not as of the
            # first page's resourceVersion (no snapshots are kept); they report that
            # resourceVersion, so a watch started from it misses nothing.
        match = make_filter(res, ns, q.get("labelSelector"), q.get("fieldSelector"))
        selects = bool(q.get("labelSelector") or q.get("fieldSelector"))
        objs = self.cache.objects(res.gr)
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        items: list[dict] = []
        i = start
        while i < hi:
            obj = objs[keys[i]]
            i += 1
            if match(obj):
                items.append(obj)
                if limit > 0 and len(items) == limit:
                    break
        if limit > 0 and len(items) == limit and any(match(objs[keys[j]]) for j in range(i, hi)):
            meta["continue"] = continuetoken.encode(keys[i - 1], rv)
            if not selects:
                # Counted only when nothing is filtered, as etcd's count of the keys left is.
                meta["remainingItemCount"] = hi - i
        resp = _ok(200, {"kind": f"{res.kind}List", "apiVersion": res.api_version, "metadata": meta,
                         "items": items})
        corrupt = self._corrupt_in_scope(res, req)
        if corrupt:
            # The list serves what decodes and names what does not, as the storage layer's
            # list does when told to skip corrupt objects (a Warning per object), so that the
            # rest of the cluster keeps working while a user finds and deletes them.
            resp["warnings"] = [c.warning() for c in corrupt]
        reply(resp)

    def do_watch_poll(self, res: Resource, req: dict, reply: Reply) -> None:
        q = req.get("query") or {}
        ns = req.get("namespace") if res.namespaced else None
        match = make_filter(res, ns, q.get("labelSelector"), q.get("fieldSelector"))
        rv_text = q.get("resourceVersion") or "0"
        try:
            rv = int(rv_text)
        except ValueError:
            return reply(_err(st.bad_request(f'invalid resource version "{rv_text}"')))
        if rv == 0:
            events = self.cache.initial_events(res.gr, match)
        else:
            events = self.cache.events_since(res.gr, rv, match)
            if events is None:
                oldest = self.cache.oldest_rv(res.gr)
                return reply(_err(st.gone(f"too old resource version: {rv} ({oldest})")))
        reply({"code": 200, "events": events, "resourceVersion": str(self.cache.rv)})

    # -- field validation --------------------------------------------------------------
    @staticmethod
    def decode(res: Resource, req: dict, obj: Any) -> tuple[Any, list[str], dict | None]:
        """Drop the fields the kind does not declare, as decoding into Go types does.  Returns
        (object, warnings, error Status): Strict fails on unknown fields, Warn (the default)
        reports them as warnings, Ignore drops them silently."""
        mode = (req.get("query") or {}).get("fieldValidation") or "Warn"
        if mode not in FIELD_VALIDATION:
            return obj, [], st.bad_request(f"fieldValidation parameter unsupported: {mode}")
        if not isinstance(obj, dict):
            return obj, [], None
        api_version = _requested_api_version(res, req)
        version = api_version.rpartition("/")[2]
        wrong = type_meta_error(res.kind, api_version, obj)
        if wrong:
            return obj, [], wrong
        if api_version != res.api_version:
            obj = dict(obj, apiVersion=api_version)  # decoded as the version it is written in
        decoded = res.decode_as(obj, version)
        if decoded.error:
            return obj, [], st.bad_request(decode_error_message(res.kind, version, decoded.error))
        value = decoded.value
        if api_version != res.api_version and isinstance(value, dict):
            value = res.from_version(value, version)  # stored at the storage version
        if not decoded.unknown or mode == "Ignore":
            return value, [], None
        if mode == "Strict":
            return obj, [], st.bad_request(strict_error_message(res.kind, version, decoded.unknown))
        return value, [f'unknown field "{u}"' for u in decoded.unknown], None

    # -- create ------------------------------------------------------------------------
    def do_create(self, res: Resource, req: dict, reply: Reply) -> None:
        body = req.get("body")
        if not isinstance(body, dict) or not isinstance(body.get("metadata", {}), dict):
            return reply(_err(st.bad_request("the body of the request must be a JSON object")))
        error = fieldmanagement.options_error(req)
        if error:
            return reply(_err(error))
        body, warnings, error = self.decode(res, req, body)
        if error:
            return reply(_err(error))
        warnings = list(warnings)
        reply = _with_warnings(reply, warnings)
        obj = deep_copy(body)
        md = obj.setdefault("metadata", {})
        ns = req.get("namespace")
        if res.namespaced:
            if md.get("namespace") and ns and md["namespace"] != ns:
                return reply(_err(st.bad_request("the namespace of the provided object does not match the namespace sent on the request")))
            ns = ns or md.get("namespace") or "default"
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        for k in ("resourceVersion", "uid", "creationTimestamp", "deletionTimestamp",
                  "deletionGracePeriodSeconds", "selfLink"):
            md.pop(k, None)
        refused = res.strategy.check_create(res, obj, self)
        if refused:
            return reply(_err(refused))
        obj = res.strategy.default(obj, self)
        if not req.get("_applied"):  # an apply that creates has set them
            obj = fieldmanagement.track(self, res, req, None, obj)
        # Mutating admission, then (BeforeCreate) the generated name, validation, validating
        # admission: a plugin refusing a generateName object names it by its generateName.
        attempt = req.get("_admission_attempt", 0)
        attrs = Attributes(CREATE, res.group, res.name, None, ns if res.namespaced else None,
                           md.get("name") or "", obj, dry_run=_dry_run(req),
                           attempt=attempt)
        try:
            rejected = self.admission.admit(attrs)
        except Wait as w:
            # A plugin blocks the request while it looks again: admit it anew after the delay.
            serving = self._serving
            self.call_later(w.delay, lambda: self._within(
                serving, lambda: self.do_create(res, dict(req, _admission_attempt=attempt + 1), reply)))
            return
        if rejected:
            return reply(_err(rejected))
        obj = attrs.obj
        md = obj["metadata"]
        generated = not md.get("name") and bool(md.get("generateName"))
        if generated:
            md["name"] = md["generateName"] + random_suffix(self.rng)
        # rest.FillObjectMetaSystemFields before BeforeCreate's PrepareForCreate: a strategy may
        # read the uid (a Job's generated selector names it).
        md["uid"] = new_uid(self.rng)
        md["creationTimestamp"] = self.timestamp()
        res.strategy.prepare_for_create(res, obj, self)
        res.strategy.record_requester(obj, req.get("_user"))
        md = obj["metadata"]
        errs = res.strategy.begin(res, obj, None, self) or res.strategy.validate(obj)
        if errs:
            return reply(_err(_invalid(res.kind, md.get("name") or "", errs, res.group)))
        attrs.name = md["name"]
        rejected = self.admission.validate(attrs) or \
            res.strategy.authorize_write(res, obj, None, authfilter.acting_user(req), self)
        if rejected:
            return reply(_err(rejected))
        warnings.extend(res.strategy.warnings_on_create(obj))
        dry_run = bool((req.get("query") or {}).get("dryRun"))
        # What the kind allocates for the object (a Service's ClusterIP and node ports), after
        # validation and before the write; a dry run fills it in and reserves nothing.
        res.strategy.allocate(res, obj, None, self, dry_run,
                              lambda errors: self._create_allocated(res, obj, errors, dry_run, generated, reply))

    def _create_allocated(self, res: Resource, obj: dict, errors: Any, dry_run: bool, generated: bool,
                          reply: Reply) -> None:
        md = obj["metadata"]
        if errors:
            if isinstance(errors, list):
                return reply(_err(_invalid(res.kind, md.get("name") or "", errors, res.group)))
            return reply(_err(errors))
        if dry_run:
            return reply(_ok(201, obj))
        attempts = [1]

        def done(r: dict) -> None:
            if r.get("type") == "timeout":
                return reply(_err(st.timeout()))
            if not r["succeeded"]:
                if generated and attempts[0] < MAX_NAME_GENERATION_CREATE_ATTEMPTS:
                    # RetryGenerateName (GA in 1.32): a generated name that is taken is drawn
                    # again, up to 8 attempts, instead of a 409 for a name the client never chose.
                    attempts[0] += 1
                    md["name"] = md["generateName"] + random_suffix(self.rng)
                    return write()
                res.strategy.release(res, obj, None, self)
                return reply(_err(st.already_exists(res.name, md["name"], res.group)))
            res.strategy.after_create(obj, self)
            reply(_ok(201, with_rv(obj, r["revision"])))

        def write() -> None:
            stored = _stored_form(obj)
            value = json.dumps(stored, separators=(",", ":"))
            if len(value) > ETCD_MAX_REQUEST_BYTES:
                res.strategy.release(res, obj, None, self)
                return reply(_err(_request_too_large()))
            key = res.key(md.get("namespace"), md["name"])
            self.remember_write(res, key, value, stored)
            self.etcd_call({"type": "etcd.txn", "key": key, "compare": "create",
                            "target": 0, "value": value}, done)
        write()

    # -- guaranteed update -------------------------------------------------------------
    def guaranteed_update(self, res: Resource, namespace: str | None, name: str,
                          mutate: Callable[[dict], tuple[str, dict]], reply: Reply,
                          precondition_rv: str | None = None, ok_code: int = 200, dry_run: bool = False,
                          fresh: bool = False) -> None:
        """Read-modify-write with optimistic concurrency.  `mutate(current)` returns
        ("update", new) / ("delete", last) / ("noop", current) / ("error", Status).  A dry run
        (dryRun=All) answers what would be written, and writes nothing (the registry's
        DryRunnableStorage skips the etcd transaction)."""
        key = res.key(namespace if res.namespaced else None, name)
        cur = self._get_cached(res, namespace, name)
        if cur is None:
            corrupt = self._get_corrupt(res, namespace, name)
            if corrupt is not None:
                return reply(_err(st.internal(corrupt.storage_error())))
            return reply(_err(st.not_found(res.name, name, res.group)))

        def attempt(cur: dict, tries: int) -> None:
            cur_rv = cur["metadata"]["resourceVersion"]
            if precondition_rv and precondition_rv != cur_rv:
                if not fresh and tries == 0:
                    # The cache may be behind the write the client read the precondition from
                    # (upstream's store reads the current state from etcd): catch up through a
                    # consistent read, then judge again.
                    return self.consistent_read(lambda: self.guaranteed_update(
                        res, namespace, name, mutate, reply, precondition_rv, ok_code, dry_run, fresh=True), reply)
                return reply(_err(st.conflict(res.name, name, res.group)))
            action, new = mutate(cur)
            if action == "error":
                return reply(_err(new))
            if action == "noop":
                return reply(_ok(ok_code, cur))
            if action == "update":
                # What the kind allocates for the new object (a Service changed to NodePort).
                return res.strategy.allocate(res, new, cur, self, dry_run,
                                             lambda errors: allocated(cur, new, tries, errors))
            write(cur, action, new, tries)

        def allocated(cur: dict, new: dict, tries: int, errors: Any) -> None:
            if errors:
                if isinstance(errors, list):
                    return reply(_err(_invalid(res.kind, name, errors, res.group)))
                return reply(_err(errors))
            write(cur, "update", new, tries)

        def write(cur: dict, action: str, new: dict, tries: int) -> None:
            cur_rv = cur["metadata"]["resourceVersion"]
            if dry_run:
                return reply(_ok(200 if action == "delete" else ok_code, new))

            def done(r: dict) -> None:
                if r.get("type") == "timeout":
                    return reply(_err(st.timeout()))
                if r["succeeded"]:
                    # What the old object held and the new one does not is free again.
                    res.strategy.release(res, cur if action == "update" else new,
                                         new if action == "update" else None, self)
                    if action == "delete":
                        return reply(_ok(200, new))
                    return reply(_ok(ok_code, with_rv(new, r["revision"])))
                if action == "update":
                    res.strategy.release(res, new, cur, self)
                current = r.get("current")
                if current is None:
                    return reply(_err(st.not_found(res.name, name, res.group)))
                if precondition_rv or tries >= MAX_UPDATE_RETRIES:
                    return reply(_err(st.conflict(res.name, name, res.group)))
                obj, error = storage.decode(res, (namespace or "" if res.namespaced else "", name), current["value"])
                if error:
                    corrupt = storage.CorruptObject(key, current["mod_revision"], error)
                    return reply(_err(st.internal(corrupt.storage_error())))
                attempt(with_rv(obj, current["mod_revision"]), tries + 1)

            if action == "delete":
                value = None
            else:
                stored = _stored_form(new)
                value = json.dumps(stored, separators=(",", ":"))
                if len(value) > ETCD_MAX_REQUEST_BYTES:
                    return reply(_err(_request_too_large()))
                self.remember_write(res, key, value, stored)
            self.etcd_call({"type": "etcd.txn", "key": key, "compare": "mod", "target": int(cur_rv),
                            "value": value}, done)

        attempt(cur, 0)

    def _prepare_update(self, res: Resource, cur: dict, candidate: dict, sub: str | None,
                        req: dict | None = None,
                        fields: Callable[[dict, dict], dict] | None = None) -> tuple[str, dict]:
        """Apply the resource strategy's PrepareForUpdate + validation to a candidate object.
        `fields(cur, new)` sets the prepared object's managedFields; by default, with the
        request `req`, they are brought up to date for its manager (fieldmanagement.track)."""
        if not isinstance(candidate, dict) or not isinstance(candidate.get("metadata"), dict):
            return "error", st.bad_request("the body of the request must be a JSON object")
        cmd = cur["metadata"]
        if sub:
            new = res.strategy.prepare_for_subresource_update(res, sub, candidate, cur, self)
        else:
            name = candidate["metadata"].get("name")
            if name and name != cmd["name"]:
                return "error", st.bad_request(f"the name of the object ({name}) does not match the name on the URL ({cmd['name']})")
            new = res.strategy.prepare_for_update(res, candidate, cur, self)
        new["metadata"]["resourceVersion"] = cmd["resourceVersion"]
        if fields is None and req is not None:
            fields = fieldmanagement.tracker(self, res, req, req.get("subresource") or "")
        if fields is not None:
            new = fields(cur, new)
        attrs = Attributes(UPDATE, res.group, res.name, sub, cmd.get("namespace"), cmd["name"], new, cur)
        rejected = self.admission.admit(attrs)
        if rejected:
            return "error", rejected
        errs = (res.strategy.validate_subresource_update(sub, new, cur) if sub
                else res.strategy.begin(res, new, cur, self) or res.strategy.validate_update(new, cur))
        if errs:
            return "error", _invalid(res.kind, cmd["name"], errs, res.group)
        rejected = self.admission.validate(attrs) or (
            None if req is None else res.strategy.authorize_write(res, new, cur, authfilter.acting_user(req), self,
                                                                  sub or None))
        if rejected:
            return "error", rejected
        if new == cur:
            return "noop", cur
        if res.strategy.deletes_on_update(new):
            return "delete", cur
        return "update", new

    def do_update(self, res: Resource, req: dict, reply: Reply) -> None:
        name = req.get("name", "")
        ns = req.get("namespace")
        sub = req.get("subresource")
        body = req.get("body")
        warnings: list[str] = []
        error = fieldmanagement.options_error(req)
        if error:
            return reply(_err(error))
        if req["verb"] == "patch" and req.get("patch_type") == fieldmanagement.APPLY_PATCH:
            return fieldmanagement.serve_apply(self, res, req, reply)
        if req["verb"] == "update":
            if not isinstance(body, dict):
                return reply(_err(st.bad_request("the body of the request must be a JSON object")))
            body, warnings, error = self.decode(res, req, body)
            if error:
                return reply(_err(error))
            pre = _precondition_rv(body)

            def mutate(cur: dict) -> tuple[str, dict]:
                return self._prepare_update(res, cur, body, sub, req)
        else:
            ptype = req.get("patch_type") or "application/merge-patch+json"
            if ptype not in ("application/merge-patch+json", "application/strategic-merge-patch+json",
                             "application/json-patch+json"):
                return reply(_err(st.unsupported_media_type(ptype)))
            if ptype == "application/strategic-merge-patch+json" and not res.strategic_merge_patch:
                return reply(_err(st.unsupported_media_type(ptype)))
            pre = _precondition_rv(body) if isinstance(body, dict) else None

            version = _requested_version(res, req)

            def mutate(cur: dict) -> tuple[str, dict]:
                # The patch applies to the object as served at the version it was sent to.
                served = res.to_version(cur, version)
                try:
                    if ptype == "application/json-patch+json":
                        patched = json_patch(served, body)
                    elif ptype == "application/strategic-merge-patch+json":
                        if not isinstance(body, dict):
                            raise PatchError("a strategic merge patch must be a JSON object")
                        patched = strategic_merge_patch(served, body)
                    else:
                        if not isinstance(body, dict):
                            raise PatchError("a merge patch must be a JSON object")
                        patched = merge_patch(served, body)
                except PatchTooLarge as e:
                    return "error", st.status(413, "RequestEntityTooLarge", str(e))
                except PatchError as e:
                    return "error", st.status(422 if ptype == "application/json-patch+json" else 400,
                                              "Invalid" if ptype == "application/json-patch+json" else "BadRequest", str(e))
                patched, found, error = self.decode(res, req, patched)
                if error:
                    return "error", error
                warnings[:] = found
                return self._prepare_update(res, cur, patched, sub, req)

        def done(resp: dict) -> None:
            if warnings and resp["code"] < 400:
                resp = dict(resp, warnings=list(warnings))
            reply(resp)

        self.guaranteed_update(res, ns, name, mutate, done, pre, dry_run=_dry_run(req))

    # -- delete ------------------------------------------------------------------------
    def do_delete(self, res: Resource, req: dict, reply: Reply) -> None:
        name = req.get("name", "")
        ns = req.get("namespace")
        corrupt = self._get_corrupt(res, ns, name)
        if corrupt is not None and self._get_cached(res, ns, name) is None:
            return self.delete_corrupt(res, req, corrupt, reply)
        q = req.get("query") or {}
        body = req.get("body") if isinstance(req.get("body"), dict) else {}
        decoded = go_decode(body, DELETE_OPTIONS)
        if decoded.error:
            # Upstream's delete handler passes this decoding error on undressed (a 500 there);
            # a body that does not decode is the client's fault: a 400.
            return reply(_err(st.bad_request(decoded.error)))
        body = decoded.value
        grace_text = q.get("gracePeriodSeconds", body.get("gracePeriodSeconds"))
        try:
            grace_text = None if grace_text is None else int(grace_text)
        except (TypeError, ValueError):
            return reply(_err(st.bad_request(f'strconv.ParseInt: parsing "{grace_text}": invalid syntax')))
        pre = (body.get("preconditions") or {}).get("resourceVersion")
        pre_uid = (body.get("preconditions") or {}).get("uid")
        refused = res.strategy.check_delete(res, name, req, self)
        if refused:
            return reply(_err(refused))

        orphan_opt = q.get("orphanDependents", body.get("orphanDependents"))
        if isinstance(orphan_opt, str):
            orphan_opt = orphan_opt.lower() == "true"
        policy = q.get("propagationPolicy", body.get("propagationPolicy"))
        if orphan_opt is not None and policy is not None:
            # apimachinery/pkg/api/validation ValidateDeleteOptions
            return reply(_err(st.invalid("DeleteOptions", "", [validation_invalid(
                "propagationPolicy", policy, "orphanDependents and deletionPropagation cannot be both set")])))
        if policy is not None and policy not in PROPAGATION_POLICIES:
            return reply(_err(st.invalid("DeleteOptions", "", [not_supported(
                "propagationPolicy", policy, list(PROPAGATION_POLICIES))])))

        def mutate(cur: dict) -> tuple[str, dict]:
            md = cur["metadata"]
            if pre_uid and pre_uid != md.get("uid"):
                return "error", st.conflict(res.name, name, res.group,
                                            f"Precondition failed: UID in precondition: {pre_uid}, UID in object meta: {md.get('uid')}")
            fins = res.strategy.gc_finalizers(res, md, orphan_opt, policy)
            return res.strategy.delete_action(res, cur, fins, grace_text, self)

        if not req.get("_collection") and not res.strategy.returns_deleted_object:
            reply = _deleted_as_status(res, reply)
        warnings = res.strategy.delete_warnings(res, orphan_opt, policy)
        if warnings:
            reply = _with_warnings(reply, warnings)
        self.guaranteed_update(res, ns, name, mutate, reply, pre, dry_run=_dry_run(req))

    def delete_corrupt(self, res: Resource, req: dict, corrupt: storage.CorruptObject, reply: Reply) -> None:
        """The unsafe deletion of a corrupt object (AllowUnsafeMalformedObjectDeletion): with
        DeleteOptions ignoreStoreReadErrorWithClusterBreakingPotential=true the key is deleted
        from etcd unread - no finalizers, no preconditions, no graceful deletion; without it,
        the storage error, as the ordinary delete flow (which must read the object) fails."""
        body = req.get("body") if isinstance(req.get("body"), dict) else {}
        opt = (req.get("query") or {}).get(storage.UNSAFE_DELETE_OPTION, body.get(storage.UNSAFE_DELETE_OPTION))
        if opt not in (True, "true", "True", "1"):
            return reply(_err(st.internal(corrupt.storage_error())))
        name = req.get("name", "")

        def done(r: dict) -> None:
            if r.get("type") == "timeout":
                return reply(_err(st.timeout()))
            details = {"name": name, "kind": res.name}
            if res.group:
                details["group"] = res.group
            reply(_ok(200, st.success(details)))

        self.action(f"kube-apiserver unsafe-deletes corrupt object {corrupt.key}")
        self.etcd_call({"type": "etcd.txn", "key": corrupt.key, "compare": "none", "value": None}, done)

    def do_delete_collection(self, res: Resource, req: dict, reply: Reply) -> None:
        items = self._filtered(res, req)
        deleted: list[dict] = []
        remaining = [len(items)]

        def one_done(resp: dict) -> None:
            if resp["code"] < 400 and resp.get("body", {}).get("kind") == res.kind:
                deleted.append(resp["body"])
            remaining[0] -= 1
            if remaining[0] == 0:
                reply(_ok(200, {"kind": f"{res.kind}List", "apiVersion": res.api_version,
                                "metadata": {"resourceVersion": str(self.cache.rv)}, "items": deleted}))

        if not items:
            return reply(_ok(200, {"kind": f"{res.kind}List", "apiVersion": res.api_version,
                                   "metadata": {"resourceVersion": str(self.cache.rv)}, "items": []}))
        for obj in items:
            md = obj["metadata"]
            self.do_delete(res, dict(req, verb="delete", name=md["name"], namespace=md.get("namespace"),
                                     _collection=True), one_done)

"""client-go for simulated components: requests to the API server and informers.

An `Informer` lists, then watches from the list's resourceVersion, keeps a local cache (never
mutate what it hands you: copy first), and relists when the watch fails (410 Gone) or a watch
message was lost (a gap in the watch's sequence numbers), as client-go's Reflector does.

Requests are rate limited as client-go's are (sim/flowcontrol.py): each client has a token bucket
of its component's --kube-api-qps / --kube-api-burst, and a request that finds it empty is sent
later in virtual time.  `APIClient.client_for(name)` is another client of the same process with
a bucket of its own, as kube-controller-manager gives each controller its own clientset and
leader election its own client.  Watches are long-running and not throttled here.
"""
from __future__ import annotations

from collections import deque
from typing import Any, Callable

from sim.api.meta import EPOCH, random_suffix
from sim.flowcontrol import TokenBucketRateLimiter, new_limiter
from sim.record import EventCorrelator

# A request unanswered this long counts the connection as dead: client-go's HTTP/2 health check
# pings after 30 s without reads (and gives up 15 s later); here the client then fails over to
# the next apiserver endpoint, as it would through the control-plane load balancer.
REQUEST_TIMEOUT = 30.0
# The release in the components' User-Agents (kube-apiserver's /version, cluster/api/discovery.py
# KUBERNETES_VERSION, and the kubelet's nodeInfo name the same one).
KUBE_VERSION, KUBE_COMMIT = "v1.36.4", "0000000"


class _Verbs:
    """The typed verbs over `request` (clientset methods), shared by a component's clients."""

    def request(self, req: dict, callback=None, label: str | None = None, timeout: float = REQUEST_TIMEOUT) -> None:
        raise NotImplementedError

    def create(self, resource: str, obj: dict, cb=None, group: str = "", namespace: str | None = None,
               label: str | None = None) -> None:
        ns = namespace or (obj.get("metadata") or {}).get("namespace")
        self.request({"verb": "create", "group": group, "resource": resource, "namespace": ns, "body": obj}, cb, label)

    def update(self, resource: str, obj: dict, cb=None, group: str = "", subresource: str | None = None) -> None:
        md = obj["metadata"]
        self.request({"verb": "update", "group": group, "resource": resource, "namespace": md.get("namespace"),
                      "name": md["name"], "subresource": subresource, "body": obj}, cb)

    def patch(self, resource: str, namespace: str | None, name: str, patch: dict, cb=None, group: str = "",
              subresource: str | None = None, patch_type: str = "application/merge-patch+json",
              timeout: float = REQUEST_TIMEOUT) -> None:
        self.request({"verb": "patch", "group": group, "resource": resource, "namespace": namespace, "name": name,
                      "subresource": subresource, "body": patch, "patch_type": patch_type}, cb, timeout=timeout)

    def delete(self, resource: str, namespace: str | None, name: str, cb=None, group: str = "",
               grace: int | None = None, precondition_uid: str | None = None) -> None:
        q = {} if grace is None else {"gracePeriodSeconds": str(grace)}
        body = {"preconditions": {"uid": precondition_uid}} if precondition_uid else None
        self.request({"verb": "delete", "group": group, "resource": resource, "namespace": namespace,
                      "name": name, "query": q, "body": body}, cb)

    def discover(self, callback) -> None:
        """The served kinds (sim.discovery.APIResource list, None on failure), as the discovery
        client's ServerPreferredResources."""
        from sim.discovery import parse_discovery
        self.request({"verb": "discovery", "resource": ""}, lambda resp: callback(parse_discovery(resp)),
                     "discovery")

    def event(self, involved: dict, reason: str, message: str, component: str, host: str | None = None,
              type_: str = "Normal") -> None:
        """Record a core/v1 Event (client-go's EventRecorder)."""
        md = involved["metadata"]
        ns = md.get("namespace") or "default"
        ev = {"apiVersion": "v1", "kind": "Event",
              "metadata": {"name": f"{md['name']}.{self._event_nanos():x}", "namespace": ns},
              "involvedObject": {"kind": involved.get("kind"), "namespace": md.get("namespace"),
                                 "name": md["name"], "uid": md.get("uid"),
                                 "apiVersion": involved.get("apiVersion"),
                                 "resourceVersion": md.get("resourceVersion")},
              "reason": reason, "message": message, "type": type_,
              "source": {"component": component, **({"host": host} if host else {})},
              "firstTimestamp": self.c.timestamp(), "lastTimestamp": self.c.timestamp(), "count": 1,
              "eventTime": None, "reportingComponent": component,
              "reportingInstance": host or ""}
        if not md.get("namespace"):
            ev["involvedObject"].pop("namespace")
        correlated = self.correlator.correlate(ev, self.c.now)
        if correlated is None:
            return  # over its source's budget for this object (sim/record.py)
        ev, seen_before = correlated
        if not seen_before:
            self.create("events", ev, label="create events")
            return

        def patched(resp: dict) -> None:
            # recordEvent: the Event may have gone (its TTL) since: create it afresh.
            if resp.get("code") == 404:
                self.correlator.forget(ev)
                self.create("events", dict(ev, metadata={k: v for k, v in ev["metadata"].items()
                                                         if k != "resourceVersion"}), label="create events")

        # The two-way merge patch upstream computes between the Event with count 0, no
        # lastTimestamp and no message, and the Event itself.
        self.patch("events", ns, ev["metadata"]["name"],
                   {"count": ev["count"], "lastTimestamp": ev["lastTimestamp"], "message": ev["message"]},
                   patched, patch_type="application/strategic-merge-patch+json")


class APIClient(_Verbs):
    def __init__(self, component, apiserver: str | list[str], qps: float | None = None, burst: int | None = None):
        self.c = component
        self.endpoints = [apiserver] if isinstance(apiserver, str) else list(apiserver)
        self.apiserver = self.endpoints[0]
        self.pending: dict[int, Callable[[dict], None] | None] = {}
        self.next_id = 0
        self.watch_handlers: dict[Any, "Informer"] = {}
        self.last_event_nanos = 0
        self.correlator = EventCorrelator()
        self.qps, self.burst = qps, burst
        self.limiter = self.new_limiter()
        self.user_agent = f"{component.component}/{KUBE_VERSION} (linux/amd64) kubernetes/{KUBE_COMMIT}"
        # In-flight requests' timeouts, one queue per timeout length (see _expire_later).
        self.timeouts: dict[float, deque] = {}

    def new_limiter(self) -> TokenBucketRateLimiter | None:
        """A fresh bucket with this component's qps and burst (None: not rate limited)."""
        return new_limiter(self.qps, self.burst, self.c.kernel.now if self.c.kernel else 0.0)

    def client_for(self, name: str, qps: float | None = None, burst: int | None = None) -> "Clientset":
        """Another client of this process with its own token bucket (a controller's clientset);
        `qps`/`burst` default to the component's (a negative qps: no limit)."""
        return Clientset(self, name, qps, burst)

    def reset(self) -> None:
        self.pending.clear()
        self.watch_handlers.clear()
        self.limiter = self.new_limiter()  # a new process: a full bucket, a new recorder
        self.correlator = EventCorrelator()

    def request(self, req: dict, callback: Callable[[dict], None] | None = None, label: str | None = None,
                timeout: float = REQUEST_TIMEOUT, limiter: TokenBucketRateLimiter | None = None) -> None:
        """Send `req` once a token of `limiter` (default: the client's own bucket) allows."""
        limiter = limiter or self.limiter
        delay = limiter.reserve(self.c.now) if limiter is not None else 0.0
        if delay > 0:
            self.c.call_later(delay, lambda: self._send(req, callback, label, timeout))
        else:
            self._send(req, callback, label, timeout)

    def _send(self, req: dict, callback: Callable[[dict], None] | None, label: str | None, timeout: float) -> None:
        # The timeout counts from the send: it stands for the connection's health check, which
        # only in-flight requests are subject to (a throttled one waits in client-go, not on the wire).
        self.next_id += 1
        rid = self.next_id
        self.pending[rid] = callback
        if "user_agent" not in req:
            # client-go's default User-Agent (rest.DefaultKubernetesUserAgent), which names the
            # writer in managedFields ("kubelet", "kube-controller-manager", ...).
            req["user_agent"] = self.user_agent
        self.c.send(self.apiserver, {"type": "api", "id": rid, "req": req}, label or request_label(req))

        self._expire_later(rid, timeout)

    def _expire_later(self, rid: int, timeout: float) -> None:
        """Time request `rid` out after `timeout` unless answered by then (and this incarnation
        of the component still runs).  Nearly every request is answered in milliseconds, so a
        timer each (a closure and a heap entry held 30 s, then an event that finds nothing to
        do: 1.8 of a node's 18 events per Lease renewal) is mostly waste.  The timeouts of one
        length fall due in the order they were set, so they wait in a queue of their own and
        only its head is in the kernel's heap; each keeps the sequence number its timer would
        have had (Kernel.reserve), so a timeout still fires exactly where it did, and answered
        ones are dropped when the head moves past them."""
        kernel = self.c.kernel
        seq = kernel.reserve()
        deadline = kernel.now + max(0.0, timeout)  # as Kernel.call_later computes it
        q = self.timeouts.get(timeout)
        if q is None:
            q = self.timeouts[timeout] = deque()
        q.append((deadline, seq, rid, self.apiserver, self.c.incarnation))
        if len(q) == 1:
            kernel.call_reserved(deadline, seq, lambda: self._expire_head(q))

    def _expire_head(self, q: deque) -> None:
        _deadline, _seq, rid, endpoint, incarnation = q.popleft()
        c = self.c
        pending = self.pending
        live = c.running and c.incarnation
        # What would never fire or find nothing to do goes: answered (a request id is never
        # pending again), or set by an earlier incarnation of the component.
        while q and (q[0][2] not in pending or q[0][4] != live):
            q.popleft()
        if q:
            c.kernel.call_reserved(q[0][0], q[0][1], lambda: self._expire_head(q))
        if not c.running or c.incarnation != incarnation or rid not in pending:
            return
        try:
            cb = pending.pop(rid)
            if endpoint == self.apiserver:
                self.fail_over()
            if cb is not None:
                cb({"code": 504, "body": {"kind": "Status", "code": 504, "reason": "Timeout",
                                          "message": "request timed out"}})
        except Exception as e:  # noqa: BLE001 - as Component.call_later: this component's failure
            c.kernel.handle_crash(e, c.address)

    def fail_over(self) -> None:
        """Reconnect through the control-plane load balancer, which only hands out apiservers
        that pass its health checks (/readyz); watches start again with a relist."""
        if len(self.endpoints) < 2:
            return
        i = self.endpoints.index(self.apiserver)
        candidates = self.endpoints[i + 1:] + self.endpoints[:i + 1]
        self.apiserver = next((e for e in candidates if self._healthy(e)), candidates[0])
        self.c.action(f"{self.c.component} on {self.c.host} switched to {self.apiserver}")
        for inf in list(self.watch_handlers.values()):
            self.watch_handlers.pop(inf.wid, None)
            inf.start()

    def _healthy(self, endpoint: str) -> bool:
        # The load balancer's view: the apiserver process answers and its host is reachable.
        kernel = self.c.kernel
        target = kernel.components.get(endpoint)
        return bool(target and target.running and kernel.network.reachable(self.c.host, target.host))

    def _event_nanos(self) -> int:
        """record.EventRecorder names events `<object>.<hex UnixNano>`, so their names sort
        in time order; two events of one client in the same nanosecond get consecutive ones."""
        nanos = int(round((self.c.now + self.c.kernel.epoch_offset + EPOCH.timestamp()) * 1e9))
        self.last_event_nanos = max(nanos, self.last_event_nanos + 1)
        return self.last_event_nanos

    # Messages ------------------------------------------------------------------------
    def handle(self, msg: dict) -> bool:
        """Route an API reply or watch message; False if `msg` is not for the client."""
        t = msg.get("type")
        if t == "api.reply":
            cb = self.pending.pop(msg["id"], None)
            if cb is not None:
                cb(msg["resp"])
            return True
        if t in ("watch.event", "watch.error", "watch.closed"):
            inf = self.watch_handlers.get(msg["wid"])
            if inf is not None:
                inf.on_watch_message(msg)
            return True
        return False


class Informer:
    """A shared informer for one resource (with optional selectors)."""

    def __init__(self, client: APIClient, resource: str, group: str = "", namespace: str | None = None,
                 label_selector: str | None = None, field_selector: str | None = None,
                 on_add=None, on_update=None, on_delete=None, on_synced=None, credentials: dict | None = None):
        self.client = client
        # What its list authenticates with (a kubeconfig's token: a bootstrapping kubelet's
        # bootstrap token); None for the in-cluster components' usual in-process requests.
        self.credentials = credentials
        self.resource, self.group, self.namespace = resource, group, namespace
        self.label_selector, self.field_selector = label_selector, field_selector
        self.on_add, self.on_update, self.on_delete, self.on_synced = on_add, on_update, on_delete, on_synced
        self.store: dict[tuple[str, str], dict] = {}
        self.synced = False
        self.rv = "0"
        self.wid = None
        self.seq = 0
        self.generation = 0

    @staticmethod
    def key(obj: dict) -> tuple[str, str]:
        md = obj["metadata"]
        return md.get("namespace") or "", md["name"]

    def get(self, namespace: str | None, name: str) -> dict | None:
        return self.store.get((namespace or "", name))

    def list(self) -> list[dict]:
        return list(self.store.values())

    def start(self) -> None:
        self.generation += 1
        gen = self.generation
        q = {}
        if self.label_selector:
            q["labelSelector"] = self.label_selector
        if self.field_selector:
            q["fieldSelector"] = self.field_selector
        req = {"verb": "list", "group": self.group, "resource": self.resource, "namespace": self.namespace, "query": q}
        if self.credentials is not None:
            req["credentials"] = self.credentials
        self.client.request(req, lambda resp: self._listed(resp, gen), f"list {self.resource}")

    def _listed(self, resp: dict, gen: int) -> None:
        if gen != self.generation:
            return
        if resp["code"] != 200:
            # Back off and relist, as the Reflector does.
            self.client.c.call_later(1.0, self.start)
            return
        body = resp["body"]
        new = {self.key(o): o for o in body["items"]}
        old = self.store
        self.store = new
        for k, o in new.items():
            if k not in old:
                self._notify(self.on_add, o)
            elif old[k]["metadata"].get("resourceVersion") != o["metadata"].get("resourceVersion"):
                self._notify(self.on_update, old[k], o)
        for k, o in old.items():
            if k not in new:
                self._notify(self.on_delete, o)
        self.rv = body["metadata"]["resourceVersion"]
        self._watch()
        if not self.synced:
            self.synced = True
            self.on_synced and self.on_synced()

    def _notify(self, handler, *objs) -> None:
        """Call one event handler for one object: its failure is recovered (Kernel.handle_crash)
        and the informer goes on with the other objects, its resourceVersion and its watch."""
        if handler is None:
            return
        try:
            handler(*objs)
        except Exception as e:  # noqa: BLE001 - one object's handler failing is that object's
            self.client.c.kernel.handle_crash(e, self.client.c.address)

    def stop(self) -> None:
        """Stop listing and watching (the kind is no longer served); the store is kept."""
        self.generation += 1  # a list in flight is ignored when it comes back
        if self.wid is not None:
            self.client.watch_handlers.pop(self.wid, None)
            self.client.c.send(self.client.apiserver, {"type": "watch.stop", "wid": self.wid}, "watch stop")
            self.wid = None

    def _watch(self) -> None:
        if self.wid is not None:
            self.client.watch_handlers.pop(self.wid, None)
            self.client.c.send(self.client.apiserver, {"type": "watch.stop", "wid": self.wid}, "watch stop")
        c = self.client.c
        self.wid = f"{self.resource}-{c.incarnation}-{self.generation}-{random_suffix(c.rng, 4)}"
        self.seq = 0
        self.client.watch_handlers[self.wid] = self
        c.send(self.client.apiserver, {"type": "watch", "wid": self.wid, "req": {
            "resource": self.resource, "group": self.group, "namespace": self.namespace,
            "labelSelector": self.label_selector, "fieldSelector": self.field_selector,
            "resourceVersion": self.rv}}, f"watch {self.resource}")

    def on_watch_message(self, msg: dict) -> None:
        if msg["type"] == "watch.closed":
            self._watch()  # the server ended the watch: resume from the last revision seen
            return
        if msg["type"] == "watch.error" or msg["seq"] != self.seq + 1:
            # 410 Gone, or messages were lost: relist, as the Reflector does.
            self.client.watch_handlers.pop(self.wid, None)
            self.start()
            return
        self.seq = msg["seq"]
        for ev in msg["events"]:
            obj = ev["object"]
            if ev["type"] == "BOOKMARK":
                self.rv = obj["metadata"]["resourceVersion"]
                continue
            k = self.key(obj)
            if ev["type"] == "DELETED":
                old = self.store.pop(k, None)
                self._notify(self.on_delete, old or obj)
            else:
                old = self.store.get(k)
                self.store[k] = obj
                if old is None:
                    self._notify(self.on_add, obj)
                else:
                    self._notify(self.on_update, old, obj)
            self.rv = obj["metadata"].get("resourceVersion", self.rv)


class Clientset(_Verbs):
    """One named client of a component (kube-controller-manager's ClientBuilder.ClientOrDie(name)):
    the component's connection, ids and failover, a token bucket of its own."""

    def __init__(self, base: APIClient, name: str, qps: float | None = None, burst: int | None = None):
        self.base, self.name = base, name
        self.c = base.c
        self.limiter = new_limiter(base.qps if qps is None else qps, base.burst if burst is None else burst,
                                   self.c.kernel.now if self.c.kernel else 0.0)

    def request(self, req: dict, callback=None, label: str | None = None, timeout: float = REQUEST_TIMEOUT) -> None:
        self.base.request(req, callback, label, timeout, limiter=self.limiter)

    def _event_nanos(self) -> int:
        return self.base._event_nanos()

    @property
    def correlator(self) -> EventCorrelator:
        return self.base.correlator


__all__ = ["APIClient", "Clientset", "Informer"]


from sim.component import Component, request_label  # noqa: E402  (kept below: client.py is imported by components)


class ClientComponent(Component):
    """A component that talks to the API server (everything but etcd and the apiserver).
    `kube_api_qps` / `kube_api_burst`: its client's rate limit (None: none), sim/flowcontrol.py."""

    kube_api_qps: float | None = None
    kube_api_burst: int | None = None

    def __init__(self, host: str, apiserver: str, kube_api_qps: float | None = None,
                 kube_api_burst: int | None = None):
        super().__init__(host)
        if kube_api_qps is not None:
            self.kube_api_qps = kube_api_qps
        if kube_api_burst is not None:
            self.kube_api_burst = kube_api_burst
        self.api = APIClient(self, apiserver, self.kube_api_qps, self.kube_api_burst)

    def start(self) -> None:
        self.api.reset()
        super().start()

    def deliver(self, src: str, msg: dict) -> None:
        if self.running and not self.api.handle(msg):
            self.on_message(src, msg)

    def informer(self, resource: str, **kw) -> Informer:
        return Informer(self.api, resource, **kw)

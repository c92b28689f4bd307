"""A load generator outside the cluster: HTTP requests at a set total rate to the ready pods of
one workload, spread over them round-robin, as a Service in front of them would spread its
clients' connections (kube-proxy's IPVS rr; Services themselves arrive in a later issue).

It is what the HorizontalPodAutoscaler walkthrough's `kubectl run load-generator ... wget`
loop does to php-apache: each pod serves total / ready-pods requests a second, each request
costs its program CPU (sim/runtime/faults.py served_request: registry.k8s.io/hpa-example
computes a million square roots, 0.1 CPU-second; any other program a small default), so the
pods' CPU use follows the rate and the replica count, and the HPA converges where upstream's
formula says: desired = ceil(replicas x usage / target).

A component (`load-generator@client`, beside the outside world's kubectl): it watches pods and
nodes through the API server like any client and sends one message a tick to each targeted
pod's node's container runtime ("net.http": `count` requests to the pod's port), so a dead node
or a partition stops its share of the traffic where they would.  Its informers run only while
some load is set.  Loads live in its memory: a restart of Pilothouse clears them.
"""
from __future__ import annotations

import math

from sim.api.selectors import labels_match, selector_from_label_selector
from sim.api.podutil import is_deleting, is_pod_ready
from sim.client import ClientComponent

TICK = 1.0                     # requests are sent in one batch per pod per tick
MAX_REQUESTS_PER_SECOND = 10_000.0
SELECTOR_REFRESH = 5.0         # the workload's selector is read again this often
REQUEST_TIMEOUT = 10.0         # requests unanswered this long count as failed (a hung program, a dead node)
DEFAULT_PORT = 80


def runtime_address(node: dict) -> str:
    """The container runtime of a Node (its status.nodeInfo.containerRuntimeVersion names it)."""
    from sim.kubelet.runtime import COMPONENT_OF
    version = ((node.get("status") or {}).get("nodeInfo") or {}).get("containerRuntimeVersion") or ""
    kind = version.partition("://")[0] or "containerd"
    return f"{COMPONENT_OF.get(kind, 'containerd')}@{node['metadata']['name']}"


def workload_selector(obj: dict) -> list | None:
    """The pods a workload selects: its spec.selector, a LabelSelector (apps/v1, batch/v1) or a
    plain map (ReplicationController); None when it has none."""
    sel = (obj.get("spec") or {}).get("selector")
    if not isinstance(sel, dict) or not sel:
        return None
    if "matchLabels" in sel or "matchExpressions" in sel:
        return selector_from_label_selector(sel)
    return selector_from_label_selector({"matchLabels": sel})


def pod_port(pod: dict) -> int:
    """The port requests go to: the first declared containerPort, else 80."""
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if isinstance(p.get("containerPort"), int):
                return p["containerPort"]
    return DEFAULT_PORT


class LoadGenerator(ClientComponent):
    component = "load-generator"

    def on_start(self) -> None:
        self.loads: dict[tuple[str, str, str, str], dict] = {}   # (namespace, group, resource, name) -> load
        self.pods = self.nodes = None
        self.next_id = 0
        self.in_flight: dict[int, tuple] = {}
        self.ticking = False

    def on_stop(self) -> None:
        self.pods = self.nodes = None
        self.ticking = False

    # -- the control ---------------------------------------------------------------------------
    def set_load(self, namespace: str, group: str, resource: str, kind: str, name: str, rps: float) -> dict:
        key = (namespace, group, resource, name)
        if rps <= 0:
            load = self.loads.pop(key, None)
            if not self.loads:
                self._stop_watching()
            state = self.describe(load) if load else {"namespace": namespace, "kind": kind, "name": name,
                                                      "requestsPerSecond": 0.0}
            state["requestsPerSecond"] = 0.0
            return state
        load = self.loads.get(key)
        if load is None:
            load = self.loads[key] = {"namespace": namespace, "group": group, "resource": resource, "kind": kind,
                                      "name": name, "selector": None, "selector_read": -math.inf, "owed": 0.0,
                                      "next": 0, "sent": 0, "answered": 0, "failed": 0, "pods": 0,
                                      "since": self.now}
        load["rps"] = float(rps)
        self._start_watching()
        return self.describe(load)

    def load_of(self, namespace: str, group: str, resource: str, name: str) -> dict | None:
        load = self.loads.get((namespace, group, resource, name))
        return self.describe(load) if load else None

    def describe(self, load: dict) -> dict:
        return {"namespace": load["namespace"], "kind": load["kind"], "name": load["name"],
                "requestsPerSecond": load.get("rps", 0.0), "pods": load["pods"], "sent": load["sent"],
                "answered": load["answered"], "failed": load["failed"]}

    # -- watching ------------------------------------------------------------------------------
    def _start_watching(self) -> None:
        if self.pods is None:
            self.pods = self.informer("pods")
            self.nodes = self.informer("nodes")
            self.pods.start()
            self.nodes.start()
        if not self.ticking:
            self.ticking = True
            self.call_later(TICK, self.tick)

    def _stop_watching(self) -> None:
        for inf in (self.pods, self.nodes):
            if inf is not None:
                inf.stop()
        self.pods = self.nodes = None

    # -- sending -------------------------------------------------------------------------------
    def tick(self) -> None:
        if not self.loads:
            self.ticking = False
            return
        self.call_later(TICK, self.tick)
        for rid in [rid for rid, (_, at, _) in self.in_flight.items() if at + REQUEST_TIMEOUT <= self.now]:
            key, _, count = self.in_flight.pop(rid)
            if key in self.loads:
                self.loads[key]["failed"] += count
        for key in sorted(self.loads):
            self._send(self.loads[key])

    def _refresh_selector(self, load: dict) -> None:
        if self.now - load["selector_read"] < SELECTOR_REFRESH:
            return
        load["selector_read"] = self.now

        def got(resp: dict) -> None:
            if resp.get("code") == 200:
                load["selector"] = workload_selector(resp["body"])
            elif resp.get("code") == 404:
                load["selector"] = None   # the workload is gone: no pods to send to
        self.api.request({"verb": "get", "group": load["group"], "resource": load["resource"],
                          "namespace": load["namespace"], "name": load["name"]}, got, "get workload")

    def targets(self, load: dict) -> list[dict]:
        """The Ready pods the workload selects that run on a node (a Service's ready endpoints)."""
        reqs = load["selector"]
        if reqs is None or self.pods is None:
            return []
        out = [p for p in self.pods.list()
               if p["metadata"].get("namespace") == load["namespace"] and labels_match(reqs, p["metadata"].get("labels"))
               and not is_deleting(p) and (p.get("status") or {}).get("phase") == "Running" and is_pod_ready(p)
               and p["spec"].get("nodeName") and (p.get("status") or {}).get("podIP")]
        return sorted(out, key=lambda p: p["metadata"]["name"])

    def _send(self, load: dict) -> None:
        self._refresh_selector(load)
        if load["selector"] is None:
            return   # not read yet (or the workload is gone): nowhere to send to
        pods = self.targets(load)
        load["pods"] = len(pods)
        load["owed"] += load["rps"] * TICK
        total = int(load["owed"])
        load["owed"] -= total
        if not pods or total <= 0:
            load["failed"] += total if not pods else 0
            return
        # round-robin: each pod gets total // n, the remainder goes to the next ones in turn
        n = len(pods)
        share, extra = divmod(total, n)
        start = load["next"] % n
        load["next"] = (start + extra) % n
        for i, pod in enumerate(pods):
            count = share + (1 if (i - start) % n < extra else 0)
            if count <= 0:
                continue
            node = self.nodes.get(None, pod["spec"]["nodeName"]) if self.nodes is not None else None
            if node is None:
                load["failed"] += count
                continue
            self.next_id += 1
            self.in_flight[self.next_id] = ((load["namespace"], load["group"], load["resource"], load["name"]),
                                            self.now, count)
            load["sent"] += count
            self.send(runtime_address(node), {"type": "net.http", "id": self.next_id, "pod_uid": pod["metadata"]["uid"],
                                              "port": pod_port(pod), "path": "/", "count": count},
                      f"GET http://{pod['status']['podIP']}:{pod_port(pod)}/ x{count}")

    def on_message(self, src: str, msg: dict) -> None:
        if msg.get("type") != "net.http.reply":
            return
        key = (self.in_flight.pop(msg.get("id"), None) or (None,))[0]
        load = self.loads.get(key) if key else None
        if load is not None:
            load["answered"] += int(msg.get("ok") or 0)
            load["failed"] += int(msg.get("failed") or 0)

"""metrics-server (kubernetes-sigs/metrics-server): scrapes every node's kubelet
(/metrics/resource) each metric-resolution (15 s) and serves the resource metrics API,
metrics.k8s.io/v1beta1, which kube-apiserver's aggregator proxies to it (sim/api/metricsapi.py).

As upstream's storage does, it keeps each node's last two scrapes: CPU use is the rate between
them of the containers' cumulative CPU seconds (so a pod has metrics from its second scrape on,
and `window` is the time between the two), memory the last working set.  A pod is listed only
when every one of its containers has a rate (a container that restarted in between has none
yet).  Node usage is its root cgroup's: its pods' and its own daemons' (the kubelet's
/metrics/resource node figures).

One replica, on the first control-plane node (upstream a Deployment in kube-system); when its
node is down the aggregated API answers 503.
"""
from __future__ import annotations

from sim.api import status as st
from sim.api.gofmt import go_duration
from sim.api.metricsapi import API_VERSION, cpu_quantity, memory_quantity
from sim.api.selectors import SelectorError, labels_match, parse_label_selector
from sim.client import ClientComponent

METRIC_RESOLUTION = 15.0   # --metric-resolution
SCRAPE_TIMEOUT = 10.0      # a kubelet that does not answer in time is skipped this round


class MetricsServer(ClientComponent):
    component = "metrics-server"

    def on_start(self) -> None:
        self.scrapes: dict[str, list[dict]] = {}   # node -> [previous, latest]
        # request id -> (node, the virtual time past which its reply no longer counts)
        self.pending: dict[int, tuple[str, float]] = {}
        self.next_id = 0
        self.nodes = self.informer("nodes")
        self.nodes.start()
        self.call_later(METRIC_RESOLUTION, self.scrape)

    # -- scraping -----------------------------------------------------------------------
    def scrape(self) -> None:
        self.call_later(METRIC_RESOLUTION, self.scrape)
        names = {n["metadata"]["name"] for n in self.nodes.list()}
        for gone in set(self.scrapes) - names:
            del self.scrapes[gone]
        now = self.now
        # A request's timeout is a deadline kept beside it rather than a timer per request (one
        # per node every 15 s): a reply counts only before it, as one the timer had dropped did
        # not; requests whose deadline passed unanswered are forgotten here.
        for rid in [rid for rid, (_, deadline) in self.pending.items() if deadline <= now]:
            del self.pending[rid]
        deadline = now + SCRAPE_TIMEOUT
        for name in sorted(names):
            self.next_id += 1
            self.pending[self.next_id] = (name, deadline)
            self.send(f"kubelet@{name}", {"type": "kubelet.resourceMetrics", "id": self.next_id},
                      "GET /metrics/resource")

    def on_message(self, src: str, msg: dict) -> None:
        if msg.get("type") == "kubelet.reply":
            pending = self.pending.pop(msg.get("id"), None)
            if pending is not None and self.now < pending[1] and msg.get("code") == 200:
                # The kubelet's own sample time, not the arrival's (the rate is over the samples).
                # The reply is kept as it came (sim/kubelet/resourcemetrics.py: its pods are the
                # kubelet's, shared between scrapes, and never changed): the API's objects are
                # made from it when asked for.
                at = float(msg.get("time", self.now))
                point = {"time": at, "timestamp": None, "pods": msg.get("pods") or (),
                         "container_cpu_seconds": msg.get("container_cpu_seconds") or (),
                         "container_memory": msg.get("container_memory") or (),
                         "memory": msg.get("memory", 0), "cpu_seconds": msg.get("cpu_seconds", 0.0)}
                node = pending[0]
                previous = self.scrapes.get(node)
                self.scrapes[node] = [previous[-1], point] if previous else [point]
        elif msg.get("type") == "metrics.request":
            self.send(src, {"type": "metrics.reply", "id": msg.get("id"), **self.serve(msg.get("req") or {})},
                      "metrics reply")

    # -- the figures ----------------------------------------------------------------------
    def _timestamp(self, point: dict) -> str:
        """The scrape's time as the API writes it (made once, when first asked for)."""
        if point["timestamp"] is None:
            point["timestamp"] = self.timestamp(point["time"])
        return point["timestamp"]

    def _pod_metrics(self, node: str) -> list[dict]:
        points = self.scrapes.get(node) or []
        if len(points) < 2:
            return []
        prev, cur = points
        dt = cur["time"] - prev["time"]
        cpu_before, cpu_now = prev["container_cpu_seconds"], cur["container_cpu_seconds"]
        memory = cur["container_memory"]
        if prev["pods"] is cur["pods"]:
            # The same pods and containers (the kubelet's layout did not change): a container's
            # previous figure is at its own index.
            before = None
        else:
            before = {cid: cpu_before[i] for p in prev["pods"] for _, cid, i in p[4]}
        out = []
        timestamp = window = None
        for namespace, name, _uid, labels, entries in cur["pods"]:
            containers = []
            for cname, cid, i in entries:
                if dt <= 0:
                    break
                if before is None:
                    previous = cpu_before[i]
                elif cid in before:
                    previous = before[cid]
                else:
                    break
                rate = max(0.0, (cpu_now[i] - previous) / dt)
                containers.append({"name": cname, "cpu": rate, "memory": memory[i]})
            else:
                if timestamp is None:
                    timestamp, window = self._timestamp(cur), go_duration(round(dt, 3))
                out.append({"namespace": namespace, "name": name, "labels": labels or {},
                            "timestamp": timestamp, "window": window, "containers": containers})
        return out

    def _node_metrics(self, node: dict) -> dict | None:
        name = node["metadata"]["name"]
        points = self.scrapes.get(name) or []
        if len(points) < 2:
            return None
        prev, cur = points[0], points[-1]
        dt = cur["time"] - prev["time"]
        cpu = max(0.0, (cur["cpu_seconds"] - prev["cpu_seconds"]) / dt) if dt > 0 else 0.0
        return {"kind": "NodeMetrics", "apiVersion": API_VERSION,
                "metadata": {"name": name, "creationTimestamp": self.timestamp(),
                             "labels": dict(node["metadata"].get("labels") or {})},
                "timestamp": self._timestamp(cur), "window": go_duration(round(cur["time"] - points[0]["time"], 3)),
                "usage": {"cpu": cpu_quantity(cpu),
                          "memory": memory_quantity(cur["memory"])}}

    def _pod_object(self, p: dict) -> dict:
        return {"kind": "PodMetrics", "apiVersion": API_VERSION,
                "metadata": {"name": p["name"], "namespace": p["namespace"], "creationTimestamp": self.timestamp(),
                             "labels": p["labels"]},
                "timestamp": p["timestamp"], "window": p["window"],
                "containers": [{"name": c["name"], "usage": {"cpu": cpu_quantity(c["cpu"]),
                                                              "memory": memory_quantity(c["memory"])}}
                               for c in p["containers"]]}

    # -- the API ---------------------------------------------------------------------------
    def serve(self, req: dict) -> dict:
        verb, resource = req.get("verb"), req.get("resource")
        query = req.get("query") or {}
        try:
            selector = parse_label_selector(query.get("labelSelector") or None)
        except SelectorError as e:
            return {"code": 400, "body": st.bad_request(str(e))}
        if resource == "nodes":
            items = [m for n in sorted(self.nodes.list(), key=lambda n: n["metadata"]["name"])
                     if (m := self._node_metrics(n)) is not None]
            kind, gr = "NodeMetricsList", "nodemetrics.metrics.k8s.io"
        else:
            ns = req.get("namespace")
            items = [self._pod_object(p) for node in sorted(self.scrapes) for p in self._pod_metrics(node)
                     if not ns or p["namespace"] == ns]
            items.sort(key=lambda m: (m["metadata"]["namespace"], m["metadata"]["name"]))
            kind, gr = "PodMetricsList", "podmetrics.metrics.k8s.io"
        if verb == "get":
            name = req.get("name", "")
            for m in items:
                if m["metadata"]["name"] == name:
                    return {"code": 200, "body": m}
            return {"code": 404, "body": st.status(404, "NotFound", f'{gr} "{name}" not found',
                                                   {"name": name, "group": "metrics.k8s.io",
                                                    "kind": gr.split(".")[0]})}
        if verb != "list":
            return {"code": 405, "body": st.method_not_allowed()}
        items = [m for m in items if labels_match(selector, m["metadata"].get("labels"))]
        return {"code": 200, "body": {"kind": kind, "apiVersion": API_VERSION, "metadata": {}, "items": items}}

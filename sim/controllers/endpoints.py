"""The Endpoints controller (pkg/controller/endpoint/endpoints_controller.go): the legacy
core/v1 Endpoints object of every Service with a selector (not ExternalName), named after it,
with the Service's labels (plus service.kubernetes.io/headless for a headless Service).

Each selected pod with an IP, not terminal, and not terminating (unless the Service publishes
not-ready addresses: ShouldPodBeInEndpoints(pod, publishNotReadyAddresses)) is an address
(ip, nodeName, targetRef, hostname when the pod names this Service as its subdomain) for every
Service port it resolves (podutil.FindPort, as the EndpointSlice controller): in `addresses`
when the pod is Ready (or publishNotReadyAddresses), else in `notReadyAddresses`
(addEndpointSubset); then RepackSubsets groups addresses offering the same ports into one
subset.  A headless Service without ports gets its addresses in a subset without ports.

An unchanged Endpoints object is not written.  A written one carries
endpoints.kubernetes.io/last-change-trigger-time (the earliest change not yet synced:
TriggerTimeTracker, shared with the EndpointSlice controller), and beyond 1000 addresses is
truncated with endpoints.kubernetes.io/over-capacity: truncated.  A deleted Service's Endpoints
object is deleted.  Failed writes (a stale cache's conflict) are retried with the queue's backoff.
"""
from __future__ import annotations

import ipaddress

from sim.api.meta import deep_copy
from sim.api.podutil import is_pod_ready
from sim.controllers.endpointslice import (ServicesByNamespace, SyncsServicesOnPodChanges, TriggerTimeTracker,
                                           PodIndex, address_types, find_port, is_headless, manages, pod_ips, selected_pods,
                                           should_pod_be_in_endpoints, should_set_hostname)
from sim.registry.core.endpoints import LAST_CHANGE_TRIGGER_TIME, MAX_CAPACITY, OVER_CAPACITY
from sim.registry.discovery.endpointslices import IPV6, LABEL_HEADLESS
from sim.workqueue import WorkQueue


def _ip_sort_key(addr: dict):
    try:
        ip = ipaddress.ip_address(addr.get("ip", ""))
        return (ip.version, int(ip), (addr.get("targetRef") or {}).get("uid", ""))
    except ValueError:
        return (9, 0, addr.get("ip", ""))


def repack_subsets(subsets: list[dict]) -> list[dict]:
    """endpoints.RepackSubsets: one subset per set of addresses sharing the same ports; an
    address ready for a port in one subset is ready for it (ready wins); sorted
    (SortSubsets: addresses by IP, ports by name and number, subsets by their first address)."""
    all_addrs: dict[tuple, dict] = {}
    port_to_addrs: dict[tuple, dict[tuple, bool]] = {}
    for ss in subsets:
        ports = ss.get("ports") or [None]   # no ports: a sentinel keeps the addresses
        for port in ports:
            pk = tuple(sorted(port.items())) if port else ()
            ready_map = port_to_addrs.setdefault(pk, {})
            for ready, field in ((True, "addresses"), (False, "notReadyAddresses")):
                for addr in ss.get(field) or []:
                    k = (addr.get("ip"), (addr.get("targetRef") or {}).get("uid", ""))
                    all_addrs.setdefault(k, addr)
                    if ready or k not in ready_map:
                        ready_map[k] = ready_map.get(k, False) or ready
    by_addrs: dict[tuple, tuple[dict, list]] = {}
    for pk, ready_map in port_to_addrs.items():
        ak = tuple(sorted(ready_map.items()))
        entry = by_addrs.setdefault(ak, (ready_map, []))
        if pk:
            entry[1].append(dict(pk))
    final = []
    for ready_map, ports in by_addrs.values():
        ready = sorted((all_addrs[k] for k, r in ready_map.items() if r), key=_ip_sort_key)
        not_ready = sorted((all_addrs[k] for k, r in ready_map.items() if not r), key=_ip_sort_key)
        ss = {}
        if ready:
            ss["addresses"] = ready
        if not_ready:
            ss["notReadyAddresses"] = not_ready
        if ports:
            ss["ports"] = sorted(ports, key=lambda p: (p.get("name", ""), p.get("port", 0), p.get("protocol", "")))
        final.append(ss)
    return sorted(final, key=lambda ss: _ip_sort_key(((ss.get("addresses") or ss.get("notReadyAddresses")) or [{}])[0]))


def truncate(subsets: list[dict]) -> bool:
    """truncateEndpoints: at most MAX_CAPACITY addresses, ready ones kept first."""
    total = sum(len(ss.get("addresses") or []) + len(ss.get("notReadyAddresses") or []) for ss in subsets)
    if total <= MAX_CAPACITY:
        return False
    room = MAX_CAPACITY
    for field in ("addresses", "notReadyAddresses"):
        for ss in subsets:
            if field in ss:
                ss[field] = ss[field][:room]
                room -= len(ss[field])
                if not ss[field]:
                    del ss[field]
    subsets[:] = [ss for ss in subsets if ss.get("addresses") or ss.get("notReadyAddresses")]
    return True


class EndpointsController(SyncsServicesOnPodChanges):
    name = "endpoints-controller"
    # --endpoint-updates-batch-period (0: a pod change syncs its Services at once)
    endpoint_updates_batch_period = 0.0

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.queue = WorkQueue(cm, self.reconcile)
        self.services = cm.shared_informer("services")
        self.endpoints = cm.shared_informer("endpoints")
        self.trigger_times = TriggerTimeTracker()
        self.pods = PodIndex()
        self.services_by_ns = ServicesByNamespace()

    def start(self) -> None:
        self.services.handlers(add=self._service_changed, update=lambda o, n: self._service_changed(n),
                               delete=lambda o: self._service_changed(o, removed=True))
        self.endpoints.handlers(delete=self._enqueue)   # onEndpointsDelete: put it back
        self.cm.pods.handlers(add=self._pod_changed, update=lambda o, n: self._pod_changed(n, o),
                              delete=lambda o: self._pod_changed(o, removed=True))

    @staticmethod
    def _key(obj: dict) -> tuple[str, str]:
        return obj["metadata"]["namespace"], obj["metadata"]["name"]

    def _enqueue(self, obj: dict) -> None:
        self.queue.add(self._key(obj))

    def _service_changed(self, svc: dict, removed: bool = False) -> None:
        self.services_by_ns.set(svc, remove=removed)
        self._enqueue(svc)

    def reconcile(self, key) -> None:
        svc = self.services.get(*key)
        if svc is None:
            # The Service is gone: so is its Endpoints object (a 404 is fine).
            self.trigger_times.delete(key)
            if self.endpoints.get(*key) is not None:
                self.api.delete("endpoints", key[0], key[1])
            return
        if not manages(svc):
            return
        spec = svc["spec"]
        publish = bool(spec.get("publishNotReadyAddresses"))
        family = 6 if address_types(svc)[0] == IPV6 else 4
        pods = selected_pods(svc, self.pods)
        trigger = self.trigger_times.compute(key, svc, pods)
        subsets = []
        for pod in pods:
            if not should_pod_be_in_endpoints(pod, publish):
                continue
            ips = pod_ips(pod, family)
            if not ips:
                continue
            epa = {"ip": ips[0]}
            if should_set_hostname(pod, svc):
                epa["hostname"] = pod["spec"]["hostname"]
            epa["nodeName"] = pod["spec"].get("nodeName", "")
            epa["targetRef"] = {"kind": "Pod", "namespace": pod["metadata"]["namespace"],
                                "name": pod["metadata"]["name"], "uid": pod["metadata"].get("uid", "")}
            field = "addresses" if publish or is_pod_ready(pod) else "notReadyAddresses"
            if not spec.get("ports"):
                if is_headless(svc):   # a headless Service may have no ports
                    subsets.append({field: [epa]})
                continue
            for sp in spec["ports"]:
                num = find_port(pod, sp)
                if num is None:
                    continue
                epp = {"port": num, "protocol": sp.get("protocol") or "TCP"}
                if sp.get("name"):
                    epp = {"name": sp["name"], **epp}   # name has omitempty
                if sp.get("appProtocol") is not None:
                    epp["appProtocol"] = sp["appProtocol"]
                subsets.append({field: [epa], "ports": [epp]})
        subsets = repack_subsets(subsets)
        over = truncate(subsets)
        cur = self.endpoints.get(*key)
        labels = dict(svc["metadata"].get("labels") or {})
        if cur is not None:
            cur_labels = {k: v for k, v in (cur["metadata"].get("labels") or {}).items() if k != LABEL_HEADLESS}
            ann = cur["metadata"].get("annotations") or {}
            if (_without_rv(cur.get("subsets") or []) == _without_rv(subsets) and cur_labels == labels
                    and (ann.get(OVER_CAPACITY) == "truncated") == over):
                return
        new = deep_copy(cur) if cur is not None else {
            "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": key[1], "namespace": key[0]}}
        new["subsets"] = subsets
        ann = new["metadata"].setdefault("annotations", {})
        if trigger:
            ann[LAST_CHANGE_TRIGGER_TIME] = trigger
        else:
            ann.pop(LAST_CHANGE_TRIGGER_TIME, None)
        if over:
            ann[OVER_CAPACITY] = "truncated"
        else:
            ann.pop(OVER_CAPACITY, None)
        if not ann:
            new["metadata"].pop("annotations")
        if is_headless(svc):
            labels[LABEL_HEADLESS] = ""
        new["metadata"]["labels"] = labels
        if not labels:
            new["metadata"].pop("labels")
        done = self.queue.defer(key)

        def written(resp: dict) -> None:
            done()
            if resp["code"] >= 400:
                self.queue.add_rate_limited(key)
            else:
                self.queue.forget(key)

        if cur is None:
            self.api.create("endpoints", new, written)
        else:
            self.api.update("endpoints", new, written)


def _without_rv(subsets: list[dict]) -> list[dict]:
    """endpointSubsetsEqualIgnoreResourceVersion: targetRefs compared without resourceVersion."""
    out = deep_copy(subsets)
    for ss in out:
        for field in ("addresses", "notReadyAddresses"):
            for a in ss.get(field) or []:
                (a.get("targetRef") or {}).pop("resourceVersion", None)
    return out

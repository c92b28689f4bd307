"""The EndpointSlice controller (pkg/controller/endpointslice: endpointslice_controller.go,
reconciler.go, utils.go, and staging/src/k8s.io/endpointslice).

For every Service with a selector (not ExternalName), the pods it selects in its namespace
become endpoints of discovery.k8s.io/v1 EndpointSlices owned by the Service, labelled
kubernetes.io/service-name=<service> and endpointslice.kubernetes.io/managed-by=
endpointslice-controller.k8s.io, named by the API server from generateName "<service>-".

An endpoint (podToEndpoint): the pod's IPs of the slice's address family; conditions
ready = publishNotReadyAddresses or (pod Ready and not terminating), serving = pod Ready (also
while terminating), terminating = deletionTimestamp set; nodeName, the node's
topology.kubernetes.io/zone, a hostname when the pod's hostname/subdomain name this Service, a
targetRef to the pod.  Pods without an IP and terminal pods (Succeeded, Failed) are left out
(ShouldPodBeInEndpoints with includeTerminating).

Ports are resolved per pod (getEndpointPorts / podutil.FindPort): a named targetPort is the
pod's container port of that name and protocol (a pod without it gets no such port), so pods
resolving to different port numbers land in different slices (one set of slices per port
mapping).  Each slice holds at most maxEndpointsPerSlice (100) endpoints.

reconcileByPortMapping, as upstream: (1) existing slices keep their still-desired endpoints
(updated where they changed) and lose the rest, a slice left empty is deleted; (2) slices being
updated anyway are filled up with the new endpoints; (3) what is left goes into the fullest
unchanged slice that can take all of it, or into new slices of up to 100; finally a pair of
delete + create becomes one update of the slice to delete.  A Service with no endpoints keeps
one placeholder slice (no ports, no endpoints).

Writes are checked against the informer (the endpointSliceTracker): a sync that finds its own
earlier writes not yet in the cache is stale and is retried after the queue's backoff
(defaultSyncBackOff 1 s, doubling, at most 1000 s), so a slow watch never makes a duplicate
slice.  --endpoint-updates-batch-period is 0 by default: a pod change queues its Services at
once.  Every written slice carries endpoints.kubernetes.io/last-change-trigger-time
(TriggerTimeTracker, shared with the Endpoints controller).
"""
from __future__ import annotations

import ipaddress

from sim.api.meta import deep_copy
from sim.api.podutil import condition, is_pod_ready, is_terminal
from sim.api.selectors import labels_match, selector_from_set
from sim.controllers.controllerref import owner_reference
from sim.registry.core.endpoints import LAST_CHANGE_TRIGGER_TIME
from sim.registry.discovery.endpointslices import (CONTROLLER_NAME, GROUP, IPV4, IPV6, LABEL_HEADLESS,
                                                   LABEL_MANAGED_BY, LABEL_SERVICE_NAME)
from sim.workqueue import WorkQueue

MAX_ENDPOINTS_PER_SLICE = 100     # --max-endpoints-per-slice
DEFAULT_SYNC_BACKOFF = 1.0        # defaultSyncBackOff
MAX_SYNC_BACKOFF = 1000.0         # maxSyncBackOff
LABEL_ZONE = "topology.kubernetes.io/zone"
_DELETED = -1


# -- shared helpers (pkg/api/v1/pod FindPort, endpointutil, endpointsliceutil) ----------------
def service_selector(svc: dict) -> dict | None:
    """spec.selector, or None: a Service without one gets no endpoints from the controllers."""
    sel = (svc.get("spec") or {}).get("selector")
    return sel or None


def manages(svc: dict) -> bool:
    """syncService's early returns: ExternalName Services and Services without a selector."""
    spec = svc.get("spec") or {}
    return spec.get("type") != "ExternalName" and service_selector(svc) is not None


def is_headless(svc: dict) -> bool:
    return (svc.get("spec") or {}).get("clusterIP") == "None"


class PodIndex:
    """The pod informer's cache by namespace, indexed by label (key, value): a Service's
    selector (a map: every pair must match) is answered from its rarest pair's pods instead of a
    scan of the namespace (at 10,000 pods and 1,000 Services the scan was the controllers' cost)."""

    def __init__(self):
        self.by_ns: dict[str, dict[str, dict]] = {}
        self.by_label: dict[tuple[str, str, str], set[str]] = {}

    def put(self, pod: dict) -> None:
        ns, name = pod["metadata"].get("namespace") or "", pod["metadata"]["name"]
        self.remove(ns, name)
        self.by_ns.setdefault(ns, {})[name] = pod
        for k, v in (pod["metadata"].get("labels") or {}).items():
            self.by_label.setdefault((ns, k, v), set()).add(name)

    def remove(self, ns: str, name: str) -> None:
        old = self.by_ns.get(ns, {}).pop(name, None)
        for k, v in ((old or {}).get("metadata", {}).get("labels") or {}).items():
            names = self.by_label.get((ns, k, v))
            if names is not None:
                names.discard(name)
                if not names:
                    del self.by_label[(ns, k, v)]

    def selected(self, ns: str, selector: dict) -> list[dict]:
        """The pods of `ns` whose labels include every pair of `selector`, by name."""
        pods = self.by_ns.get(ns, {})
        if not selector:
            names = pods
        else:
            names = min((self.by_label.get((ns, k, v), set()) for k, v in selector.items()), key=len)
        reqs = list(selector_from_set(selector))
        return [pods[n] for n in sorted(names) if labels_match(reqs, pods[n]["metadata"].get("labels"))]


def selected_pods(svc: dict, pods: PodIndex) -> list[dict]:
    """The pods (of the Service's namespace) its selector matches, by name."""
    return pods.selected(svc["metadata"].get("namespace") or "", service_selector(svc) or {})


def should_pod_be_in_endpoints(pod: dict, include_terminating: bool) -> bool:
    """endpointsliceutil.ShouldPodBeInEndpoints."""
    if is_terminal(pod):
        return False
    st = pod.get("status") or {}
    if not st.get("podIP") and not st.get("podIPs"):
        return False
    if not include_terminating and pod["metadata"].get("deletionTimestamp"):
        return False
    return True


def find_port(pod: dict, service_port: dict) -> int | None:
    """podutil.FindPort: a named targetPort is the pod's container port of that name and the
    Service port's protocol; a number is itself.  None: the pod has no such port."""
    target = service_port.get("targetPort")
    if target is None or target == "":
        target = service_port.get("port")
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol") or "TCP"
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target and (p.get("protocol") or "TCP") == protocol:
                return p.get("containerPort")
    return None


def pod_ips(pod: dict, family: int) -> list[str]:
    """The pod's IPs of one family (status.podIPs, else status.podIP)."""
    st = pod.get("status") or {}
    ips = [p.get("ip") for p in st.get("podIPs") or [] if p.get("ip")] or ([st["podIP"]] if st.get("podIP") else [])
    out = []
    for ip in ips:
        try:
            if ipaddress.ip_address(ip).version == family:
                out.append(ip)
        except ValueError:
            continue
    return out[:1]


def should_set_hostname(pod: dict, svc: dict) -> bool:
    """endpointutil.ShouldSetHostname."""
    spec = pod.get("spec") or {}
    return bool(spec.get("hostname")) and spec.get("subdomain") == svc["metadata"]["name"] \
        and pod["metadata"].get("namespace") == svc["metadata"]["namespace"]


def address_types(svc: dict) -> list[str]:
    """getAddressTypesForService: the Service's ipFamilies; without them, its ClusterIP's family
    (IPv4 for a headless Service that names none)."""
    spec = svc.get("spec") or {}
    families = spec.get("ipFamilies") or []
    if families:
        return [IPV6 if f == "IPv6" else IPV4 for f in families]
    ip = spec.get("clusterIP")
    if ip and ip != "None":
        try:
            return [IPV6 if ipaddress.ip_address(ip).version == 6 else IPV4]
        except ValueError:
            pass
    return [IPV4]


class ServicesByNamespace:
    """The Services informer's objects by namespace, with their selectors parsed once: a pod
    event looks only at its own namespace's Services (GetPodServiceMemberships)."""

    def __init__(self):
        self.by_ns: dict[str, dict[str, tuple[dict, list | None]]] = {}
        # Each Service with a selector under one of its (key, value) pairs: a pod can only be
        # selected by the Services filed under one of its own labels.
        self.by_pair: dict[tuple[str, str, str], set[str]] = {}

    def set(self, svc: dict, remove: bool = False) -> None:
        ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        old = self.by_ns.get(ns, {}).pop(name, None)
        if old is not None and old[1] is not None:
            pair = (ns, *min(service_selector(old[0]).items()))
            self.by_pair.get(pair, set()).discard(name)
        if remove:
            return
        sel = service_selector(svc)
        self.by_ns.setdefault(ns, {})[name] = (svc, list(selector_from_set(sel)) if sel is not None else None)
        if sel is not None:
            self.by_pair.setdefault((ns, *min(sel.items())), set()).add(name)

    def selecting(self, pod: dict, old: dict | None = None) -> list[tuple[str, str]]:
        """The keys of the Services that select the pod by its labels now or before."""
        ns = pod["metadata"].get("namespace") or ""
        labels = [pod["metadata"].get("labels")] + ([old["metadata"].get("labels")] if old is not None else [])
        services = self.by_ns.get(ns, {})
        names = {n for lb in labels for k, v in (lb or {}).items() for n in self.by_pair.get((ns, k, v), ())}
        return [(ns, name) for name in sorted(names) if name in services
                and any(labels_match(services[name][1], lb) for lb in labels)]


class SyncsServicesOnPodChanges:
    """What the EndpointSlice and Endpoints controllers both do with their pod informer: keep
    the pods by namespace, and sync the Services that select a pod when it changes.  The
    controller has `pods` (a PodIndex), `services_by_ns` (ServicesByNamespace), `queue` and
    `endpoint_updates_batch_period`."""

    def _pod_changed(self, pod: dict, old: dict | None = None, removed: bool = False) -> None:
        """addPod/updatePod/deletePod: the Services of the pod's namespace that select it (by
        its old or new labels) are synced (after the batch period, 0 by default)."""
        ns, name = pod["metadata"].get("namespace") or "", pod["metadata"]["name"]
        if removed:
            self.pods.remove(ns, name)
        else:
            self.pods.put(pod)
        for key in self.services_by_ns.selecting(pod, old):
            if self.endpoint_updates_batch_period > 0:
                self.queue.add_after(key, self.endpoint_updates_batch_period)
            else:
                self.queue.add(key)


class TriggerTimeTracker:
    """endpointutil.TriggerTimeTracker: the time of the earliest change (a pod's Ready condition
    transition, the Service's creation) not yet reflected by a sync of the Service; "" if none."""

    def __init__(self):
        self.state: dict[tuple, tuple[dict, str]] = {}

    def compute(self, key, svc: dict, pods: list[dict]) -> str:
        last_pods, last_svc = self.state.get(key, ({}, ""))
        changed: list[str] = []
        pod_times = {}
        for pod in pods:
            c = condition(pod, "Ready")
            t = (c or {}).get("lastTransitionTime") or ""
            pod_times[pod["metadata"]["name"]] = t
            if t and t > last_pods.get(pod["metadata"]["name"], ""):
                changed.append(t)
        svc_time = svc["metadata"].get("creationTimestamp") or ""
        if svc_time and svc_time > last_svc:
            changed.append(svc_time)
        self.state[key] = (pod_times, svc_time)
        return min(changed) if changed else ""

    def delete(self, key) -> None:
        self.state.pop(key, None)


class EndpointSliceController(SyncsServicesOnPodChanges):
    name = "endpointslice-controller"
    max_endpoints_per_slice = MAX_ENDPOINTS_PER_SLICE
    # --endpoint-updates-batch-period (0: a pod change syncs its Services at once)
    endpoint_updates_batch_period = 0.0

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.queue = WorkQueue(cm, self.reconcile)
        self.services = cm.shared_informer("services")
        self.slices = cm.shared_informer("endpointslices", group=GROUP)
        self.trigger_times = TriggerTimeTracker()
        # endpointSliceTracker: the generation this controller last wrote to each slice of a
        # Service (_DELETED for a delete), until the informer has caught up with it.
        self.expected: dict[tuple, dict[str, int]] = {}
        self.failures: dict[tuple, int] = {}
        self.by_service: dict[tuple, dict[str, dict]] = {}   # managed slices by (ns, service)
        self.pods = PodIndex()
        self.services_by_ns = ServicesByNamespace()

    def start(self) -> None:
        self.services.handlers(add=self._service_changed, update=lambda o, n: self._service_changed(n),
                               delete=self._service_deleted)
        self.slices.handlers(add=self._slice_changed, update=lambda o, n: self._slice_changed(n, o),
                             delete=lambda o: self._slice_changed(o, removed=True))
        self.cm.pods.handlers(add=self._pod_changed, update=lambda o, n: self._pod_changed(n, o),
                              delete=lambda o: self._pod_changed(o, removed=True))

    @staticmethod
    def _key(obj: dict) -> tuple[str, str]:
        return obj["metadata"]["namespace"], obj["metadata"]["name"]

    def _enqueue(self, svc: dict) -> None:
        self.queue.add(self._key(svc))

    def _service_changed(self, svc: dict) -> None:
        self.services_by_ns.set(svc)
        self._enqueue(svc)

    def _service_deleted(self, svc: dict) -> None:
        self.services_by_ns.set(svc, remove=True)
        key = self._key(svc)
        self.trigger_times.delete(key)
        self.expected.pop(key, None)
        self.failures.pop(key, None)

    @staticmethod
    def _managed_service(es: dict) -> tuple[str, str] | None:
        labels = es["metadata"].get("labels") or {}
        if labels.get(LABEL_MANAGED_BY) != CONTROLLER_NAME or not labels.get(LABEL_SERVICE_NAME):
            return None
        return es["metadata"]["namespace"], labels[LABEL_SERVICE_NAME]

    def _slice_changed(self, es: dict, old: dict | None = None, removed: bool = False) -> None:
        """onEndpointSliceAdd/Update/Delete: keep the per-Service index, and sync the Service
        when a slice changed in a way it did not write (ShouldSync)."""
        name = es["metadata"]["name"]
        for prev in ([old] if old is not None else []):
            k = self._managed_service(prev)
            if k is not None:
                self.by_service.get(k, {}).pop(name, None)
                if k != self._managed_service(es):
                    self.queue.add(k)
        key = self._managed_service(es)
        if key is None:
            return
        if removed:
            self.by_service.get(key, {}).pop(name, None)
        else:
            self.by_service.setdefault(key, {})[name] = es
        expected = self.expected.get(key, {})
        want = expected.get(name)
        if removed:
            # HandleDeletion: an expected deletion is seen; an unexpected one is forgotten
            # (it will never show the generation expected) and the Service synced again.
            expected.pop(name, None)
            if want != _DELETED:
                self.queue.add(key)
        elif want is None or (es["metadata"].get("generation") or 0) > want:
            self.queue.add(key)       # written by someone else

    # -- sync ------------------------------------------------------------------------------
    def _stale(self, key) -> bool:
        """endpointSliceTracker.StaleSlices: a slice this controller wrote that the informer
        does not show yet (or shows deleted after a create, present after a delete)."""
        want = self.expected.get(key)
        if not want:
            return False
        have = self.by_service.get(key, {})
        stale = False
        for name, gen in list(want.items()):
            es = have.get(name)
            if gen == _DELETED:
                if es is None:
                    del want[name]
                else:
                    stale = True
            elif es is None or (es["metadata"].get("generation") or 0) < gen:
                stale = True
            else:
                del want[name]
        return stale

    def _retry(self, key) -> None:
        n = self.failures.get(key, 0)
        self.failures[key] = n + 1
        self.queue.add_after(key, min(DEFAULT_SYNC_BACKOFF * 2 ** min(n, 20), MAX_SYNC_BACKOFF))

    def reconcile(self, key) -> None:
        svc = self.services.get(*key)
        if svc is None:
            return   # its slices go with it: they are owned by it (the garbage collector)
        if not manages(svc):
            return
        if self._stale(key):
            return self._retry(key)
        pods = selected_pods(svc, self.pods)
        trigger = self.trigger_times.compute(key, svc, pods)
        existing = sorted(self.by_service.get(key, {}).values(), key=lambda s: s["metadata"]["name"])
        # Only slices owned by this Service are this sync's (a slice labelled for it by hand is not).
        uid = svc["metadata"].get("uid")
        existing = [s for s in existing if any(r.get("uid") == uid and r.get("controller")
                                               for r in s["metadata"].get("ownerReferences") or [])]
        creates, updates, deletes = [], [], []
        types = address_types(svc)
        for at in types:
            desired = self._desired(svc, pods, at)
            c, u, d = self._reconcile_address_type(svc, at, desired, [s for s in existing if s.get("addressType") == at])
            creates += c
            updates += u
            deletes += d
        deletes += [s for s in existing if s.get("addressType") not in types]
        self._finalize(svc, key, creates, updates, deletes, trigger)

    def _desired(self, svc: dict, pods: list[dict], address_type: str) -> dict[tuple, tuple[list, dict]]:
        """{ports key: (the ports, {endpoint key: endpoint})}."""
        out: dict[tuple, tuple[list, dict]] = {}
        publish = bool(svc["spec"].get("publishNotReadyAddresses"))
        family = 6 if address_type == IPV6 else 4
        for pod in pods:
            if not should_pod_be_in_endpoints(pod, True):
                continue
            addresses = pod_ips(pod, family)
            if not addresses:
                continue
            ports = self.endpoint_ports(svc, pod)
            ep = self.pod_to_endpoint(pod, svc, addresses, publish)
            out.setdefault(_ports_key(ports), (ports, {}))[1][_endpoint_key(ep)] = ep
        return out

    @staticmethod
    def endpoint_ports(svc: dict, pod: dict) -> list[dict]:
        """getEndpointPorts: the Service's ports resolved for this pod (unresolvable ones left out)."""
        ports = []
        for sp in svc["spec"].get("ports") or []:
            num = find_port(pod, sp)
            if num is None:
                continue
            port = {"name": sp.get("name") or "", "protocol": sp.get("protocol") or "TCP", "port": num}
            if sp.get("appProtocol") is not None:
                port["appProtocol"] = sp["appProtocol"]
            ports.append(port)
        return ports

    def pod_to_endpoint(self, pod: dict, svc: dict, addresses: list[str], publish: bool) -> dict:
        """podToEndpoint."""
        serving = is_pod_ready(pod)
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        # "ready" is never true for a terminating pod, unless publishNotReadyAddresses.
        ready = publish or (serving and not terminating)
        ep = {"addresses": list(addresses),
              "conditions": {"ready": ready, "serving": serving, "terminating": terminating}}
        if should_set_hostname(pod, svc):
            ep["hostname"] = pod["spec"]["hostname"]
        ep["targetRef"] = {"kind": "Pod", "namespace": pod["metadata"]["namespace"],
                           "name": pod["metadata"]["name"], "uid": pod["metadata"].get("uid", "")}
        node_name = (pod.get("spec") or {}).get("nodeName")
        if node_name:
            ep["nodeName"] = node_name
            node = self.cm.nodes.get(None, node_name)
            zone = ((node or {}).get("metadata", {}).get("labels") or {}).get(LABEL_ZONE)
            if zone:
                ep["zone"] = zone
        return ep

    def _new_slice(self, svc: dict, address_type: str, ports: list[dict]) -> dict:
        """newEndpointSlice: generateName "<service>-", owned by the Service, its labels
        (setEndpointSliceLabels: the Service's own, then service-name and managed-by, and
        service.kubernetes.io/headless for a headless Service)."""
        md = svc["metadata"]
        labels = dict(md.get("labels") or {})
        labels[LABEL_SERVICE_NAME] = md["name"]
        labels[LABEL_MANAGED_BY] = CONTROLLER_NAME
        if is_headless(svc):
            labels[LABEL_HEADLESS] = ""
        return {"apiVersion": f"{GROUP}/v1", "kind": "EndpointSlice",
                "metadata": {"generateName": f"{md['name']}-", "namespace": md["namespace"],
                             "ownerReferences": [owner_reference(svc, "v1", "Service")], "labels": labels},
                "addressType": address_type, "endpoints": [], "ports": deep_copy(ports)}

    def _reconcile_address_type(self, svc: dict, at: str, desired: dict, existing: list[dict]):
        """reconcileByAddressType / reconcileByPortMapping."""
        creates, updates, deletes = [], [], []
        by_ports: dict[tuple, list[dict]] = {}
        for es in existing:
            by_ports.setdefault(_ports_key(es.get("ports") or []), []).append(es)
        for pk, (ports, eps) in desired.items():
            c, u, d = self._reconcile_port_mapping(svc, at, ports, eps, by_ports.get(pk, []))
            creates += c
            updates += u
            deletes += d
        for pk, slices in by_ports.items():
            if pk not in desired:
                deletes += slices
        # A Service with no endpoints keeps one placeholder slice.
        if len(existing) == len(deletes) and not creates:
            placeholder = self._new_slice(svc, at, [])
            if len(deletes) == 1 and _same_placeholder(deletes[0], placeholder):
                deletes = []
            else:
                creates.append(placeholder)
        return creates, updates, deletes

    def _reconcile_port_mapping(self, svc, at, ports: list[dict], desired: dict[str, dict], slices: list[dict]):
        cap = self.max_endpoints_per_slice
        remaining = dict(desired)
        updates, deletes, unchanged = {}, [], {}
        # 1. existing slices: keep (and refresh) the desired endpoints, drop the rest
        for es in slices:
            new_eps, changed = [], False
            for ep in es.get("endpoints") or []:
                k = _endpoint_key(ep)
                want = remaining.pop(k, None)
                if want is None:
                    changed = True
                    continue
                if want != ep:
                    changed = True
                new_eps.append(want)
            if changed:
                if not new_eps:
                    deletes.append(es)
                else:
                    upd = deep_copy(es)
                    upd["endpoints"] = new_eps
                    updates[es["metadata"]["name"]] = upd
            else:
                unchanged[es["metadata"]["name"]] = es
        todo = [remaining[k] for k in sorted(remaining)]
        # 2. fill the slices being updated anyway
        for name in sorted(updates):
            upd = updates[name]
            while todo and len(upd["endpoints"]) < cap:
                upd["endpoints"].append(todo.pop(0))
        # 3. the rest: into the fullest unchanged slice that takes it all, else new slices
        creates = []
        while todo:
            fill = None
            if len(todo) < cap and unchanged:
                fits = [s for s in unchanged.values() if cap - len(s.get("endpoints") or []) >= len(todo)]
                if fits:
                    best = max(fits, key=lambda s: (len(s.get("endpoints") or []), s["metadata"]["name"]))
                    fill = deep_copy(best)
                    del unchanged[best["metadata"]["name"]]
                    updates[fill["metadata"]["name"]] = fill
            if fill is None:
                fill = self._new_slice(svc, at, ports)
                creates.append(fill)
            while todo and len(fill["endpoints"]) < cap:
                fill["endpoints"].append(todo.pop(0))
        return creates, list(updates.values()), deletes

    def _finalize(self, svc: dict, key, creates: list, updates: list, deletes: list, trigger: str) -> None:
        """finalize: a delete and a create of the same address type become one update; then
        write, the trigger time annotated on every slice written."""
        deletes = list(deletes)
        i = 0
        while i < len(deletes) and creates:
            old, new = deletes[i], creates[-1]
            if old.get("addressType") == new.get("addressType"):
                creates.pop()
                new = deep_copy(new)
                md = new["metadata"]
                for f in ("name", "uid", "resourceVersion", "creationTimestamp", "generation"):
                    if old["metadata"].get(f) is not None:
                        md[f] = old["metadata"][f]
                updates.append(new)
                deletes.pop(i)
            else:
                i += 1
        if not (creates or updates or deletes):
            self.failures.pop(key, None)
            return
        for es in creates + updates:
            ann = es["metadata"].setdefault("annotations", {})
            if trigger:
                ann[LAST_CHANGE_TRIGGER_TIME] = trigger   # RFC3339Nano of a whole-second time
            else:
                ann.pop(LAST_CHANGE_TRIGGER_TIME, None)
            if not ann:
                es["metadata"].pop("annotations")
        pending = {"n": len(creates) + len(updates) + len(deletes), "errors": 0}
        done = self.queue.defer(key)
        want = self.expected.setdefault(key, {})

        def answered(resp: dict, name: str | None, deleted: bool = False) -> None:
            if resp["code"] >= 400 and not (deleted and resp["code"] == 404):
                pending["errors"] += 1
            elif deleted:
                want[name] = _DELETED
            else:
                body = resp["body"]
                want[body["metadata"]["name"]] = body["metadata"].get("generation") or 1
            pending["n"] -= 1
            if pending["n"]:
                return
            done()
            if pending["errors"]:
                self._retry(key)
            else:
                self.failures.pop(key, None)

        ns = key[0]
        for es in creates:
            self.api.create("endpointslices", es, lambda r: answered(r, None), group=GROUP)
        for es in updates:
            self.api.update("endpointslices", es, lambda r: answered(r, None), group=GROUP)
        for es in deletes:
            name = es["metadata"]["name"]
            self.api.delete("endpointslices", ns, name, lambda r, name=name: answered(r, name, True), group=GROUP)
        self.cm.emit("endpointslice-sync", component=self.cm.address, service=f"{key[0]}/{key[1]}",
                     created=len(creates), updated=len(updates), deleted=len(deletes))


def _ports_key(ports: list[dict]) -> tuple:
    """The port mapping's identity (endpointutil.NewPortMapKey: a hash of the sorted ports)."""
    return tuple(sorted(tuple(sorted((k, v) for k, v in p.items() if v is not None)) for p in ports))


def _endpoint_key(ep: dict) -> str:
    """An endpoint's identity across syncs: its pod, else its first address."""
    ref = ep.get("targetRef") or {}
    if ref.get("name"):
        return f"{ref.get('namespace', '')}/{ref['name']}"
    return ",".join(ep.get("addresses") or [])


def _same_placeholder(es: dict, placeholder: dict) -> bool:
    """placeholderSliceCompare: no endpoints, no ports, the same address type and labels."""
    return (not es.get("endpoints") and not es.get("ports") and es.get("addressType") == placeholder["addressType"]
            and (es["metadata"].get("labels") or {}) == placeholder["metadata"]["labels"])

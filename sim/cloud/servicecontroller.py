"""cloud-controller-manager's service controller (k8s.io/cloud-provider/controllers/service/
controller.go): keeps a cloud load balancer for every Service that wants one.

- Which Services: `wantsLoadBalancer` (type LoadBalancer and no spec.loadBalancerClass: a
  class names another implementation, which this controller leaves alone), and those that
  `needsCleanup` (they hold the finalizer service.kubernetes.io/load-balancer-cleanup but are
  being deleted or no longer of type LoadBalancer).  The informer handlers enqueue an added
  Service that wants one or needs cleanup, and an updated one when `needsUpdate` (type, source
  ranges, ports, affinity, loadBalancerIP, external IPs, annotations, UID,
  externalTrafficPolicy, healthCheckNodePort, IP families changed) or it needs cleanup.
- syncLoadBalancerIfNeeded: to delete, if the cloud has one ("DeletingLoadBalancer"), delete
  it, remove the finalizer, "DeletedLoadBalancer", and clear status.loadBalancer; to ensure,
  "EnsuringLoadBalancer", add the finalizer first (so the Service cannot go before its load
  balancer), EnsureLoadBalancer with the nodes of stableNodeSetPredicates ("UnAvailableLoadBalancer"
  when there are none), "EnsuredLoadBalancer", and patch status.loadBalancer when it changed.
  A failure is "SyncLoadBalancerFailed" (Warning, "Error syncing load balancer: ...") and a
  retry after the queue's backoff, 5 s doubling up to 300 s (minRetryDelay, maxRetryDelay).
  The finalizer and the status are patched through the status subresource, as
  servicehelper.PatchService does (a strategic merge patch).
- The node set (stableNodeSetPredicates, KEP-3458): every node not being deleted, without the
  node.kubernetes.io/exclude-from-external-load-balancers label (kubeadm puts it on
  control-plane nodes) and without the cluster autoscaler's ToBeDeletedByClusterAutoscaler taint.
  Readiness and cordoning do not matter: the load balancer's health checks take a node that
  cannot serve out of rotation.  Node adds and deletes, and changes of the exclusion label,
  queue a node sync (shouldSyncUpdatedNode), which calls UpdateLoadBalancer
  ("UpdatedLoadBalancer") for each Service whose last synced node set differs.

Upstream's periodic resyncs (services 30 s, nodes 100 s) only re-deliver unchanged objects,
which the handlers above ignore; they are left out.
"""
from __future__ import annotations

from sim.api.meta import deep_copy
from sim.workqueue import WorkQueue

LOAD_BALANCER_CLEANUP_FINALIZER = "service.kubernetes.io/load-balancer-cleanup"
LABEL_EXCLUDE_BALANCERS = "node.kubernetes.io/exclude-from-external-load-balancers"
TO_BE_DELETED_TAINT = "ToBeDeletedByClusterAutoscaler"
MIN_RETRY_DELAY, MAX_RETRY_DELAY = 5.0, 300.0
NODE_KEY = "node-sync"


def wants_load_balancer(svc: dict) -> bool:
    spec = svc.get("spec") or {}
    return spec.get("type") == "LoadBalancer" and spec.get("loadBalancerClass") is None


def has_lb_finalizer(svc: dict) -> bool:
    return LOAD_BALANCER_CLEANUP_FINALIZER in ((svc.get("metadata") or {}).get("finalizers") or [])


def needs_cleanup(svc: dict) -> bool:
    if not has_lb_finalizer(svc):
        return False
    return bool(svc["metadata"].get("deletionTimestamp")) or (svc.get("spec") or {}).get("type") != "LoadBalancer"


_LB_PORT_FIELDS = ("name", "protocol", "port", "nodePort", "targetPort", "appProtocol")


def needs_update(old: dict, new: dict) -> bool:
    """controller.go needsUpdate."""
    if not wants_load_balancer(old) and not wants_load_balancer(new):
        return False
    if wants_load_balancer(old) != wants_load_balancer(new):
        return True
    os_, ns = old.get("spec") or {}, new.get("spec") or {}
    if os_.get("loadBalancerSourceRanges") != ns.get("loadBalancerSourceRanges"):
        return True
    ports = [[tuple(p.get(f) for f in _LB_PORT_FIELDS) for p in s.get("ports") or []] for s in (os_, ns)]
    if ports[0] != ports[1]:
        return True
    for f in ("sessionAffinity", "sessionAffinityConfig", "loadBalancerIP", "externalTrafficPolicy",
              "healthCheckNodePort"):
        if os_.get(f) != ns.get(f):
            return True
    if (os_.get("externalIPs") or []) != (ns.get("externalIPs") or []):
        return True
    if (old["metadata"].get("annotations") or {}) != (new["metadata"].get("annotations") or {}):
        return True
    if old["metadata"].get("uid") != new["metadata"].get("uid"):
        return True
    return len(os_.get("ipFamilies") or []) != len(ns.get("ipFamilies") or [])


def node_included(node: dict) -> bool:
    return LABEL_EXCLUDE_BALANCERS not in ((node.get("metadata") or {}).get("labels") or {})


def stable_node_set(node: dict) -> bool:
    """stableNodeSetPredicates: nodeNotDeletedPredicate, nodeIncludedPredicate,
    nodeUnTaintedPredicate."""
    if (node.get("metadata") or {}).get("deletionTimestamp"):
        return False
    if not node_included(node):
        return False
    return not any(t.get("key") == TO_BE_DELETED_TAINT for t in (node.get("spec") or {}).get("taints") or [])


def should_sync_updated_node(old: dict, new: dict) -> bool:
    return node_included(old) != node_included(new) or \
        (old.get("spec") or {}).get("providerID") != (new.get("spec") or {}).get("providerID")


def node_address(node: dict) -> dict:
    """What the cloud knows of a node: its name and InternalIP."""
    ip = next((a.get("address") for a in (node.get("status") or {}).get("addresses") or []
               if a.get("type") == "InternalIP"), None)
    return {"name": node["metadata"]["name"], "ip": ip}


def lb_status_equal(a: dict | None, b: dict | None) -> bool:
    """servicehelper.LoadBalancerStatusEqual."""
    def ingress(s):
        return [(i.get("ip") or "", i.get("hostname") or "", i.get("ipMode"), i.get("ports") or [])
                for i in (s or {}).get("ingress") or []]
    return ingress(a) == ingress(b)


class ServiceController:
    name = "service-controller"

    def __init__(self, ccm):
        self.ccm = ccm
        self.api = ccm.api.client_for(self.name)
        self.services = ccm.shared_informer("services")
        self.nodes = ccm.shared_informer("nodes")
        self.service_queue = WorkQueue(ccm, self.sync_service, base_delay=MIN_RETRY_DELAY, max_delay=MAX_RETRY_DELAY)
        self.node_queue = WorkQueue(ccm, self.sync_nodes, base_delay=MIN_RETRY_DELAY, max_delay=MAX_RETRY_DELAY)
        self.cache: dict[tuple[str, str], dict] = {}           # serviceCache: the last state synced
        self.last_synced_nodes: dict[tuple[str, str], list[dict]] = {}

    def start(self) -> None:
        self.services.handlers(
            add=lambda s: (wants_load_balancer(s) or needs_cleanup(s)) and self.service_queue.add(self._key(s)),
            update=lambda o, n: (needs_update(o, n) or needs_cleanup(n)) and self.service_queue.add(self._key(n)))
        self.nodes.handlers(add=lambda n: self.node_queue.add(NODE_KEY),
                            update=lambda o, n: should_sync_updated_node(o, n) and self.node_queue.add(NODE_KEY),
                            delete=lambda n: self.node_queue.add(NODE_KEY))

    @staticmethod
    def _key(svc: dict) -> tuple[str, str]:
        return svc["metadata"]["namespace"], svc["metadata"]["name"]

    def _synced(self) -> bool:
        return self.services.informer.synced and self.nodes.informer.synced

    def _event(self, svc: dict, reason: str, message: str, warning: bool = False) -> None:
        involved = dict(svc, kind="Service", apiVersion="v1")
        self.api.event(involved, reason, message, self.name, type_="Warning" if warning else "Normal")

    def _nodes(self) -> list[dict]:
        return [self.nodes.store[k] for k in sorted(self.nodes.store) if stable_node_set(self.nodes.store[k])]

    # -- the service worker -------------------------------------------------------------------
    def sync_service(self, key: tuple[str, str]) -> None:
        if not self._synced():   # WaitForNamedCacheSync before the workers run
            self.service_queue.add_after(key, 1.0)
            return
        done = self.service_queue.defer(key)

        def finish(err: str | None = None) -> None:
            if err:
                self.service_queue.add_rate_limited(key)
            else:
                self.service_queue.forget(key)
            done()

        svc = self.services.get(*key)
        if svc is None:
            cached = self.cache.get(key)
            if cached is None:
                return finish()

            def deleted(err: str | None) -> None:
                if not err:
                    self.cache.pop(key, None)
                finish(err)
            return self._process_load_balancer_delete(cached, deleted)
        self._process_create_or_update(deep_copy(svc), key, finish)

    def _process_create_or_update(self, svc: dict, key, finish) -> None:
        cached = self.cache.get(key)

        def synced(op: str, err: str | None) -> None:
            if err:
                self._event(svc, "SyncLoadBalancerFailed", f"Error syncing load balancer: {err}", warning=True)
            elif op == "delete":
                self.cache.pop(key, None)
            finish(err)

        def go(err: str | None = None) -> None:
            if err:
                return finish(err)
            self.cache[key] = svc
            self._sync_load_balancer_if_needed(svc, key, synced)

        if cached is not None and cached["metadata"].get("uid") != svc["metadata"].get("uid"):
            # Deleted and created again before the finalizer path could run: the old one's load
            # balancer goes first.
            return self._process_load_balancer_delete(cached, go)
        go()

    def _process_load_balancer_delete(self, svc: dict, then) -> None:
        if not wants_load_balancer(svc):
            return then(None)
        self._event(svc, "DeletingLoadBalancer", "Deleting load balancer")

        def deleted(reply: dict) -> None:
            if "error" in reply:
                self._event(svc, "DeleteLoadBalancerFailed", f"Error deleting load balancer: {reply['error']}", warning=True)
                return then(reply["error"])
            self._event(svc, "DeletedLoadBalancer", "Deleted load balancer")
            then(None)
        self.ccm.cloud_call("EnsureLoadBalancerDeleted", svc, [], deleted)

    def _sync_load_balancer_if_needed(self, svc: dict, key, cb) -> None:
        previous = deep_copy((svc.get("status") or {}).get("loadBalancer") or {})
        if not wants_load_balancer(svc) or needs_cleanup(svc):
            def removed(err: str | None) -> None:
                if err:
                    return cb("delete", f"failed to remove load balancer cleanup finalizer: {err}")
                self._event(svc, "DeletedLoadBalancer", "Deleted load balancer")
                self._patch_status(svc, previous, {}, lambda e: cb("delete", e))

            def deleted(reply: dict) -> None:
                if "error" in reply:
                    return cb("delete", f"failed to delete load balancer: {reply['error']}")
                self._patch_finalizers(svc, add=False, then=removed)

            def got(reply: dict) -> None:
                if "error" in reply:
                    return cb("delete", f"failed to check if load balancer exists before cleanup: {reply['error']}")
                if reply["result"].get("exists"):
                    self._event(svc, "DeletingLoadBalancer", "Deleting load balancer")
                    return self.ccm.cloud_call("EnsureLoadBalancerDeleted", svc, [], deleted)
                self._patch_finalizers(svc, add=False, then=removed)
            return self.ccm.cloud_call("GetLoadBalancer", svc, [], got)

        self._event(svc, "EnsuringLoadBalancer", "Ensuring load balancer")

        def ensured(reply: dict) -> None:
            if "error" in reply:
                return cb("ensure", f"failed to ensure load balancer: {reply['error']}")
            self._event(svc, "EnsuredLoadBalancer", "Ensured load balancer")
            self._patch_status(svc, previous, reply["result"] or {}, lambda e: cb("ensure", e))

        def finalized(err: str | None) -> None:
            if err:
                return cb("ensure", f"failed to add load balancer cleanup finalizer: {err}")
            nodes = self._nodes()
            if not nodes:
                self._event(svc, "UnAvailableLoadBalancer", "There are no available nodes for LoadBalancer", warning=True)
            self.last_synced_nodes[key] = nodes
            self.ccm.cloud_call("EnsureLoadBalancer", svc, [node_address(n) for n in nodes], ensured)
        self._patch_finalizers(svc, add=True, then=finalized)

    def _patch_finalizers(self, svc: dict, add: bool, then) -> None:
        """addFinalizer / removeFinalizer: PatchService, a strategic merge patch of the status
        subresource."""
        md = svc["metadata"]
        present = has_lb_finalizer(svc)
        if present == add:
            return then(None)
        if add:
            order = list(md.get("finalizers") or []) + [LOAD_BALANCER_CLEANUP_FINALIZER]
            patch = {"metadata": {"$setElementOrder/finalizers": order, "finalizers": [LOAD_BALANCER_CLEANUP_FINALIZER]}}
        else:
            patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": [LOAD_BALANCER_CLEANUP_FINALIZER]}}

        def answered(resp: dict) -> None:
            if resp["code"] >= 400:
                return then((resp.get("body") or {}).get("message") or f"HTTP {resp['code']}")
            svc["metadata"] = deep_copy(resp["body"]["metadata"])
            then(None)
        self.api.patch("services", md["namespace"], md["name"], patch, answered, subresource="status",
                       patch_type="application/strategic-merge-patch+json")

    def _patch_status(self, svc: dict, previous: dict, new: dict, then) -> None:
        """patchStatus: only when the status changed; a Service gone meanwhile is no error."""
        if lb_status_equal(previous, new):
            return then(None)
        md = svc["metadata"]

        def answered(resp: dict) -> None:
            if resp["code"] >= 400 and resp["code"] != 404:
                return then("failed to update load balancer status: "
                            + ((resp.get("body") or {}).get("message") or f"HTTP {resp['code']}"))
            then(None)
        self.api.patch("services", md["namespace"], md["name"], {"status": {"loadBalancer": {"ingress": new.get("ingress")}}},
                       answered, subresource="status", patch_type="application/strategic-merge-patch+json")

    # -- the node worker ---------------------------------------------------------------------
    def sync_nodes(self, key) -> None:
        """syncNodes: every cached Service's load balancer gets the current node set if it
        differs from the last one synced; those that fail are retried by the service worker."""
        if not self._synced():
            self.node_queue.add_after(key, 1.0)
            return
        done = self.node_queue.defer(key)
        nodes = self._nodes()
        todo = [self.cache[k] for k in sorted(self.cache) if wants_load_balancer(self.cache[k])]
        pending = [len(todo)]

        def one_done(svc: dict, failed: bool) -> None:
            if failed:
                self.service_queue.add(self._key(svc))
            pending[0] -= 1
            if pending[0] == 0:
                done()
        if not todo:
            return done()
        for svc in todo:
            self._node_sync_service(svc, nodes, one_done)

    def _node_sync_service(self, svc: dict, nodes: list[dict], cb) -> None:
        key = self._key(svc)
        old = [n for n in self.last_synced_nodes.get(key, []) if stable_node_set(n)]
        self.last_synced_nodes[key] = nodes
        if sorted((n["metadata"]["name"], (n.get("spec") or {}).get("providerID")) for n in old) == \
                sorted((n["metadata"]["name"], (n.get("spec") or {}).get("providerID")) for n in nodes):
            return cb(svc, False)

        def updated(reply: dict) -> None:
            if "error" not in reply:
                if nodes:
                    self._event(svc, "UpdatedLoadBalancer", "Updated load balancer with new hosts")
                else:
                    self._event(svc, "UnAvailableLoadBalancer", "There are no available nodes for LoadBalancer", warning=True)
                return cb(svc, False)

            def exists(r: dict) -> None:   # only an error if the load balancer still exists
                if "error" not in r and not r["result"].get("exists"):
                    return cb(svc, False)
                names = [n["metadata"]["name"] for n in nodes]
                self._event(svc, "UpdateLoadBalancerFailed",
                            f"Error updating load balancer with new hosts {names[:20]} [node names limited, total "
                            f"number of nodes: {len(names)}], error: {reply['error']}", warning=True)
                cb(svc, True)
            self.ccm.cloud_call("GetLoadBalancer", svc, [], exists)
        self.ccm.cloud_call("UpdateLoadBalancer", svc, [node_address(n) for n in nodes], updated)

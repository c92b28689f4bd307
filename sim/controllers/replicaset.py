"""The ReplicaSet controller (pkg/controller/replicaset/replica_set.go).

reconcile(key): claim pods (adopt matching orphans, release owned pods that stopped matching),
count the active ones, create or delete the difference, write status.  Expectations (the
creates and deletes it has asked for but not yet seen through its informer) keep it from
acting twice on a stale cache, as upstream's ControllerExpectations do.

Creates go out in upstream's slow start (slowStartBatch): at most `burst_replicas` (500) per sync,
in batches of 1, 2, 4, ... each sent once the previous batch has been answered; the first batch
with an error ends it, and the creates never attempted are taken off the expectations, so the
next sync tries again.  A quota or admission error therefore costs one request, not 500; and
with the controller's client limited to 20 requests per second (sim/flowcontrol.py), a
ReplicaSet of any size fills at a bounded rate.
"""
from __future__ import annotations

from sim.api.podutil import controller_ref, is_deleting, is_pod_available, is_pod_ready, is_terminal
from sim.api.selectors import labels_match, selector_from_label_selector
from sim.controllers.controllerref import ControllerRefManager, OwnedIndex
from sim.controllers.expectations import ControllerExpectations
from sim.controllers.podtemplate import pod_from_template
from sim.workqueue import WorkQueue

BURST_REPLICAS = 500             # replicaset.BurstReplicas: creates or deletes per sync
SLOW_START_INITIAL_BATCH_SIZE = 1  # controller.SlowStartInitialBatchSize


class ReplicaSetController:
    name = "replicaset-controller"
    # What it controls; the ReplicationManager (sim/controllers/replication.py) is this
    # controller over core/v1 ReplicationControllers, as upstream's is (NewReplicationManager
    # builds a replicaset.ReplicaSetController through conversion adapters).
    resource, group, api_version, kind = "replicasets", "apps", "apps/v1", "ReplicaSet"
    reports_terminating = True  # ReplicaSetStatus.terminatingReplicas (RC status has none)

    def __init__(self, cm):
        self.cm = cm
        self.owners = cm.shared_informer(self.resource, group=self.group)
        self.api = cm.api.client_for(self.name)  # each controller its own clientset
        self.queue = WorkQueue(cm, self.reconcile)
        self.expectations = ControllerExpectations(lambda: cm.now)
        self.pods = OwnedIndex()  # the pod informer's pods by controlling owner, and orphans

    def start(self) -> None:
        self.owners.handlers(add=self._rs_changed, update=lambda o, n: self._rs_changed(n),
                                     delete=self._rs_deleted)
        self.cm.pods.handlers(add=self._pod_added, update=self._pod_updated, delete=self._pod_deleted)

    @staticmethod
    def selector(rs: dict):
        """The pods it selects: a ReplicaSet's spec.selector is a LabelSelector."""
        return selector_from_label_selector(rs["spec"].get("selector"))

    @staticmethod
    def _key(obj: dict) -> tuple[str, str]:
        return obj["metadata"]["namespace"], obj["metadata"]["name"]

    def _rs_changed(self, rs: dict) -> None:
        self.queue.add(self._key(rs))

    def _rs_deleted(self, rs: dict) -> None:
        self.expectations.delete(self._key(rs))

    def _owner_key(self, pod: dict) -> tuple[str, str] | None:
        ref = controller_ref(pod)
        if ref and ref.get("kind") == self.kind:
            rs = self.owners.get(pod["metadata"]["namespace"], ref["name"])
            if rs is not None and rs["metadata"]["uid"] == ref.get("uid"):
                return self._key(rs)
        return None

    def _matching_rs(self, pod: dict) -> list[tuple[str, str]]:
        out = []
        ns = pod["metadata"]["namespace"]
        for rs in self.owners.list():
            if rs["metadata"]["namespace"] != ns:
                continue
            reqs = self.selector(rs)
            if reqs and labels_match(reqs, pod["metadata"].get("labels")):
                out.append(self._key(rs))
        return out

    def _pod_added(self, pod: dict) -> None:
        self.pods.set(pod)
        key = self._owner_key(pod)
        if key:
            self.expectations.creation_observed(key)
            self.queue.add(key)
        elif not controller_ref(pod):
            for key in self._matching_rs(pod):
                self.queue.add(key)

    def _pod_updated(self, old: dict, new: dict) -> None:
        self.pods.set(new)
        keys = set()
        for p in (old, new):
            k = self._owner_key(p)
            if k:
                keys.add(k)
            elif not controller_ref(p):
                keys.update(self._matching_rs(p))
        if is_deleting(new) and not is_deleting(old):
            k = self._owner_key(new)
            if k:
                self.expectations.deletion_observed(k)
        for k in keys:
            self.queue.add(k)
        # A pod just ready becomes available minReadySeconds later: look again then (plus a
        # second against the timestamps' whole seconds, as upstream's updatePod).
        k = self._owner_key(new)
        if k and not is_pod_ready(old) and is_pod_ready(new):
            min_ready = (self.owners.get(*k)["spec"].get("minReadySeconds") or 0)
            if min_ready > 0:
                self.queue.add_after(k, min_ready + 1.0)

    def _pod_deleted(self, pod: dict) -> None:
        self.pods.set(pod, remove=True)
        key = self._owner_key(pod)
        if key:
            if not is_deleting(pod):
                self.expectations.deletion_observed(key)
            self.queue.add(key)

    # -- reconcile --------------------------------------------------------------------
    def reconcile(self, key) -> None:
        rs = self.owners.get(*key)
        if rs is None:
            self.expectations.delete(key)
            return
        reqs = self.selector(rs) or []
        claims = ControllerRefManager(rs, self.api_version, self.kind, reqs, self._patch_pod)
        owned = claims.claim(self.pods.candidates(rs))
        active = [p for p in owned if not is_deleting(p) and not is_terminal(p)]
        if self.expectations.satisfied(key) and not is_deleting(rs):
            self.manage_replicas(rs, key, active)
        status = self.update_status(rs, owned, active)
        # The last line of defence (syncReplicaSet): all ready, not all available yet.
        min_ready = rs["spec"].get("minReadySeconds") or 0
        want = rs["spec"].get("replicas", 1)
        if min_ready > 0 and status["readyReplicas"] == want and status["availableReplicas"] != want:
            self.queue.add_after(key, float(min_ready))

    def _patch_pod(self, pod: dict, patch: dict) -> None:
        md = pod["metadata"]
        self.api.patch("pods", md["namespace"], md["name"], patch)

    def manage_replicas(self, rs: dict, key, active: list[dict]) -> None:
        diff = len(active) - rs["spec"].get("replicas", 1)
        if diff < 0:
            n = min(-diff, BURST_REPLICAS)
            self.expectations.expect_creations(key, n)
            self.slow_start_batch(rs, key, n)
        elif diff > 0:
            n = min(diff, BURST_REPLICAS)
            victims = sorted(active, key=self._deletion_rank)[:n]
            self.expectations.expect_deletions(key, n)
            for pod in victims:
                md = pod["metadata"]
                self.api.delete("pods", md["namespace"], md["name"],
                                lambda resp, pod=pod, rs=rs, key=key: self._deleted(rs, key, pod, resp))

    def _new_pod(self, rs: dict, key) -> dict:
        return pod_from_template(rs["spec"]["template"], key[0], rs, self.api_version, self.kind,
                                 f"{rs['metadata']['name']}-")

    def slow_start_batch(self, rs: dict, key, count: int) -> None:
        """slowStartBatch(count, SlowStartInitialBatchSize, createPod), as a state machine: send a
        batch, wait for all its answers, double the next one; stop after a batch with an
        error, and lower the expectations by the creates that did not happen (failed or
        skipped: the informer will never see them)."""
        state = {"remaining": count, "successes": 0}
        done = self.queue.defer(key)  # the sync holds its key until the last batch is answered

        def batch(size: int) -> None:
            self.cm.emit("slow-start", component=self.cm.address, replicaset=f"{key[0]}/{key[1]}", batch=size)
            answered = {"n": 0, "errors": 0}

            def created(resp: dict) -> None:
                self._created(rs, key, resp)
                answered["n"] += 1
                if resp["code"] >= 400:
                    answered["errors"] += 1
                else:
                    state["successes"] += 1
                if answered["n"] < size:
                    return
                state["remaining"] -= size
                if answered["errors"] or state["remaining"] <= 0:
                    return finish()
                batch(min(2 * size, state["remaining"]))

            for _ in range(size):
                self.api.create("pods", self._new_pod(rs, key), created)

        def finish() -> None:
            done()
            skipped = count - state["successes"]
            if skipped <= 0:
                return self.queue.forget(key)
            self.expectations.lower(key, skipped, 0)  # creates that will never be seen
            # The sync failed: requeue with the queue's backoff, not at once (no hot loop).
            self.queue.add_rate_limited(key)

        batch(min(count, SLOW_START_INITIAL_BATCH_SIZE))

    @staticmethod
    def _deletion_rank(pod: dict):
        """controller.ActivePods ordering: unassigned < assigned, Pending < Unknown < Running,
        not ready < ready, then the newest first."""
        phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}.get(pod["status"].get("phase"), 0)
        return (1 if pod["spec"].get("nodeName") else 0, phase_rank, 1 if is_pod_ready(pod) else 0,
                # newer pods first: negate creation order by sorting on the timestamp descending
                "".join(chr(0x10FFFF - ord(ch)) for ch in pod["metadata"].get("creationTimestamp", "")))

    def _created(self, rs: dict, key, resp: dict) -> None:
        if resp["code"] >= 400:
            self.api.event(rs, "FailedCreate", f"Error creating: {resp['body'].get('message')}", self.name, type_="Warning")
            return
        pod = resp["body"]
        self.cm.action(f"{self.name} created pod {key[0]}/{pod['metadata']['name']}")
        self.api.event(rs, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}", self.name)

    def _deleted(self, rs: dict, key, pod: dict, resp: dict) -> None:
        if resp["code"] >= 400:
            self.expectations.deletion_observed(key)
            return
        self.cm.action(f"{self.name} deleted pod {key[0]}/{pod['metadata']['name']}")
        self.api.event(rs, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}", self.name)

    def update_status(self, rs: dict, owned: list[dict], active: list[dict]) -> dict:
        labels = (rs["spec"]["template"].get("metadata") or {}).get("labels") or {}
        ready = [p for p in active if is_pod_ready(p)]
        # podutil.IsPodAvailable: ready for at least minReadySeconds (on the API's clock).
        min_ready = rs["spec"].get("minReadySeconds") or 0
        now = self.cm.api_now
        available = sum(1 for p in ready if is_pod_available(p, min_ready, now))
        status = {"replicas": len(active),
                  "fullyLabeledReplicas": sum(1 for p in active
                                              if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in labels.items())),
                  "readyReplicas": len(ready), "availableReplicas": available,
                  "observedGeneration": rs["metadata"].get("generation", 1)}
        if self.reports_terminating:
            # DeploymentReplicaSetTerminatingReplicas (beta, on by default since 1.35)
            status["terminatingReplicas"] = sum(1 for p in owned if is_deleting(p))
        old = rs.get("status") or {}
        if all(old.get(k, 0) == v for k, v in status.items()):
            return status
        self.api.patch(self.resource, rs["metadata"]["namespace"], rs["metadata"]["name"], {"status": status},
                       group=self.group, subresource="status")
        return status

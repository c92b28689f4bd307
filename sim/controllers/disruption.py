"""The disruption controller (pkg/controller/disruption/disruption.go): keeps every
PodDisruptionBudget's status current.

For a budget: its pods are the namespace's pods its selector matches (in policy/v1 an empty
selector matches them all); expectedPods and desiredHealthy come from getExpectedPodCount: with
maxUnavailable, or a percentage minAvailable, the expected count is the sum of the scales of the
pods' controllers (getExpectedScale: a ReplicaSet's spec.replicas; a controller of another kind
through its /scale subresource), percentages rounded up; an integer minAvailable expects the pods
there are.  currentHealthy counts the ready pods not being deleted and not recorded in
status.disruptedPods (by an eviction) less than two minutes ago (DeletionTimeout);
disruptionsAllowed = currentHealthy - desiredHealthy, never below 0, and 0 while no pod is
expected.  The DisruptionAllowed condition says SufficientPods / InsufficientPods, or SyncFailed
(with the error, and 0 disruptions allowed: failSafe) when the expected count cannot be computed
(a pod whose controller is not found).  A budget with disruptedPods is looked at again when its
oldest entry expires.
"""
from __future__ import annotations

from sim.api.meta import deep_copy
from sim.api.podutil import controller_ref, is_pod_ready
from sim.api.selectors import SelectorError, label_selector_as_selector, selector_matches
from sim.registry.policy.poddisruptionbudgets import (DISRUPTION_ALLOWED_CONDITION, SYNC_FAILED_REASON,
                                                      IntOrPercentError, conditions_are_up_to_date, scaled_value,
                                                      set_status_condition, update_disruption_allowed_condition)
from sim.workqueue import WorkQueue

GROUP = "policy"
DELETION_TIMEOUT = 120.0  # DeletionTimeout: 2 minutes


class SyncError(Exception):
    pass


class DisruptionController:
    name = "disruption-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.queue = WorkQueue(cm, self.reconcile)
        self.pdbs = cm.shared_informer("poddisruptionbudgets", group=GROUP)
        # Scales read through the /scale subresource for controllers of kinds this controller
        # has no informer of: {(namespace, apiVersion, kind, name): (uid, replicas)}.
        self.scales: dict[tuple, tuple[str, int]] = {}

    def start(self) -> None:
        self.pdbs.handlers(add=self._enqueue, update=lambda o, n: self._enqueue(n), delete=lambda o: None)
        self.cm.pods.handlers(add=self._pod_changed, update=lambda o, n: self._pod_changed(n),
                              delete=self._pod_changed)

    @staticmethod
    def _key(obj: dict) -> tuple[str, str]:
        return obj["metadata"]["namespace"], obj["metadata"]["name"]

    def _enqueue(self, pdb: dict) -> None:
        self.queue.add(self._key(pdb))

    def _pod_changed(self, pod: dict) -> None:
        """getPdbForPod: the first budget (by name) whose selector matches the pod."""
        ns, labels = pod["metadata"].get("namespace"), pod["metadata"].get("labels") or {}
        for pdb in sorted(self.pdbs.list(), key=lambda p: p["metadata"]["name"]):
            if pdb["metadata"]["namespace"] != ns:
                continue
            try:
                selector = label_selector_as_selector((pdb.get("spec") or {}).get("selector"))
            except SelectorError:
                continue
            if selector_matches(selector, labels):
                self.queue.add(self._key(pdb))
                return

    # -- sync ----------------------------------------------------------------------------
    def pods_for(self, pdb: dict) -> list[dict]:
        selector = label_selector_as_selector((pdb.get("spec") or {}).get("selector"))
        ns = pdb["metadata"]["namespace"]
        return sorted((p for p in self.cm.pods.list()
                       if p["metadata"].get("namespace") == ns and selector_matches(selector, p["metadata"].get("labels"))),
                      key=lambda p: p["metadata"]["name"])

    def reconcile(self, key) -> None:
        pdb = self.pdbs.get(*key)
        if pdb is None:
            return
        done = self.queue.defer(key)
        try:
            pods = self.pods_for(pdb)
        except SelectorError as e:
            return self._fail_safe(pdb, str(e), done, key)
        if not pods:
            self.api.event(pdb, "NoPods", "No matching pods found", self.name)
        self._expected_pod_count(pdb, pods, lambda result: self._try_sync(pdb, pods, result, done, key))

    def _try_sync(self, pdb: dict, pods: list[dict], result, done, key) -> None:
        if isinstance(result, str):
            self.api.event(pdb, "CalculateExpectedPodCountFailed",
                           f"Failed to calculate the number of expected pods: {result}", self.name, type_="Warning")
            return self._fail_safe(pdb, result, done, key)
        expected, desired, unmanaged = result
        if unmanaged:
            self.api.event(pdb, "UnmanagedPods",
                           f"Pods selected by this PodDisruptionBudget (selector: {_go_selector(pdb)}) were found to "
                           f"be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which "
                           f"may result in undefined behavior. To account for these pods please set "
                           f"\".spec.minAvailable\" field of the PDB to an integer value.", self.name, type_="Warning")
        now = self.cm.now
        disrupted, recheck = self._disrupted_pod_map(pods, pdb, now)
        healthy = sum(1 for p in pods if not p["metadata"].get("deletionTimestamp")
                      and not (p["metadata"]["name"] in disrupted
                               and (self.cm.parse_time(disrupted[p["metadata"]["name"]]) or 0.0) + DELETION_TIMEOUT > now)
                      and is_pod_ready(p))

        def written(ok: bool) -> None:
            if ok and recheck is not None:
                self.queue.add_after(key, max(recheck - now, 0.0))

        self._update_status(pdb, healthy, desired, expected, disrupted, done, key, written)

    def _disrupted_pod_map(self, pods: list[dict], pdb: dict, now: float) -> tuple[dict, float | None]:
        """buildDisruptedPodMap: the entries still expected to be deleted, and when the first
        of them expires."""
        recorded = (pdb.get("status") or {}).get("disruptedPods")
        result, recheck = {}, None
        if not recorded:
            return result, recheck
        for pod in pods:
            name = pod["metadata"]["name"]
            if pod["metadata"].get("deletionTimestamp") or name not in recorded:
                continue
            at = self.cm.parse_time(recorded[name])
            expected_deletion = (at or 0.0) + DELETION_TIMEOUT
            if expected_deletion < now:
                self.api.event(pod, "NotDeleted", f"Pod was expected by PDB {pdb['metadata']['namespace']}/"
                                                  f"{pdb['metadata']['name']} to be deleted but it wasn't",
                               self.name, type_="Warning")
            else:
                if recheck is None or expected_deletion < recheck:
                    recheck = expected_deletion
                result[name] = recorded[name]
        return result, recheck

    # -- getExpectedPodCount / getExpectedScale ---------------------------------------------
    def _expected_pod_count(self, pdb: dict, pods: list[dict], then) -> None:
        """then((expectedCount, desiredHealthy, unmanaged pod names)) or then(error text)."""
        spec = pdb.get("spec") or {}
        max_unavailable, min_available = spec.get("maxUnavailable"), spec.get("minAvailable")
        if max_unavailable is None and min_available is None:
            return then((0, 0, []))
        if max_unavailable is None and isinstance(min_available, int):
            return then((len(pods), min_available, []))

        def scaled(result) -> None:
            if isinstance(result, str):
                return then(result)
            expected, unmanaged = result
            try:
                if max_unavailable is not None:
                    desired = max(expected - scaled_value(max_unavailable, expected, True), 0)
                else:
                    desired = scaled_value(min_available, expected, True)
            except IntOrPercentError as e:
                return then(str(e))
            then((expected, desired, unmanaged))

        self._expected_scale(pods, scaled)

    def _expected_scale(self, pods: list[dict], then) -> None:
        """The sum of the scales of the pods' controllers (each counted once); a pod without a
        controller is unmanaged; a controller that is not found is an error."""
        scales: dict[str, int] = {}
        unmanaged: list[str] = []
        remote: list[tuple[dict, dict]] = []
        for pod in pods:
            ref = controller_ref(pod)
            if ref is None:
                unmanaged.append(pod["metadata"]["name"])
                continue
            if ref.get("uid") in scales:
                continue
            found = self._local_scale(ref, pod["metadata"]["namespace"])
            if isinstance(found, dict):
                # getPodDeployment: a ReplicaSet controlled by a Deployment counts as the
                # Deployment (its old and new ReplicaSets are one controller, of its scale).
                if found.get("uid") not in scales and all(r.get("uid") != found.get("uid") for r, _ in remote):
                    remote.append((found, pod))
            elif found is None:
                remote.append((ref, pod))
            elif found is False:
                return then(f'found no controllers for pod "{pod["metadata"]["name"]}"')
            else:
                scales[found[0]] = found[1]
        if not remote:
            return then((sum(scales.values()), unmanaged))
        self._remote_scales(remote, scales, unmanaged, then)

    def _local_scale(self, ref: dict, ns: str):
        """getPodReplicaSet from the informer: (uid, replicas); False for a ReplicaSet that is
        gone or another of the same name; the Deployment's reference for a ReplicaSet a
        Deployment controls (its /scale is read); None for a controller of another kind."""
        group = (ref.get("apiVersion") or "").rpartition("/")[0]
        if ref.get("kind") == "ReplicaSet" and group in ("apps", "extensions"):
            rs = self.cm.replicasets.get(ns, ref.get("name"))
            if rs is None or rs["metadata"]["uid"] != ref.get("uid"):
                return False
            owner = controller_ref(rs)
            if owner is not None and owner.get("kind") == "Deployment":
                return owner  # getPodReplicaSet skips it; getPodDeployment finds the Deployment
            return rs["metadata"]["uid"], (rs.get("spec") or {}).get("replicas", 1)
        return None

    def _remote_scales(self, remote: list, scales: dict, unmanaged: list, then) -> None:
        """getScaleController: GET <controller>/scale through the API (a kind served with a
        scale subresource, e.g. a custom resource's); not found, or another object: no
        controller."""
        pending = {"n": len(remote), "error": None}

        def one(ref: dict, pod: dict, resp: dict) -> None:
            if resp["code"] < 400:
                body = resp["body"]
                if body.get("metadata", {}).get("uid") == ref.get("uid"):
                    scales[ref["uid"]] = (body.get("spec") or {}).get("replicas") or 0
                elif pending["error"] is None:
                    pending["error"] = f'found no controllers for pod "{pod["metadata"]["name"]}"'
            elif pending["error"] is None:
                pending["error"] = f'found no controllers for pod "{pod["metadata"]["name"]}"'
            pending["n"] -= 1
            if pending["n"] == 0:
                then(pending["error"] or (sum(scales.values()), unmanaged))

        def mapped(served) -> None:
            # The REST mapper: the served kind of each controller, with a scale subresource.
            kinds = {(r.group, r.kind): r for r in served or [] if "scale" in r.subresources}
            for ref, pod in remote:
                group = (ref.get("apiVersion") or "").rpartition("/")[0]
                res = kinds.get((group, ref.get("kind")))
                if res is None:
                    one(ref, pod, {"code": 404, "body": {}})
                    continue
                self.api.request({"verb": "get", "group": group, "resource": res.name,
                                  "namespace": pod["metadata"]["namespace"], "name": ref.get("name"),
                                  "subresource": "scale"}, lambda resp, ref=ref, pod=pod: one(ref, pod, resp))

        self.api.discover(mapped)

    # -- writes --------------------------------------------------------------------------
    def _update_status(self, pdb: dict, healthy: int, desired: int, expected: int, disrupted: dict, done, key,
                       after) -> None:
        """updatePdbStatus: nothing when it is all as stored, else one status update."""
        allowed = healthy - desired
        if expected <= 0 or allowed <= 0:
            allowed = 0
        st = pdb.get("status") or {}
        generation = pdb["metadata"].get("generation", 0)
        if (st.get("currentHealthy", 0), st.get("desiredHealthy", 0), st.get("expectedPods", 0),
                st.get("disruptionsAllowed", 0), st.get("disruptedPods") or {}, st.get("observedGeneration", 0)) == \
                (healthy, desired, expected, allowed, disrupted, generation) and conditions_are_up_to_date(pdb):
            done()
            self.queue.forget(key)
            return after(True)
        new = deep_copy(pdb)
        new["status"] = {"currentHealthy": healthy, "desiredHealthy": desired, "expectedPods": expected,
                         "disruptionsAllowed": allowed, "observedGeneration": generation,
                         "conditions": deep_copy(st.get("conditions") or [])}
        if disrupted:
            new["status"]["disruptedPods"] = disrupted
        update_disruption_allowed_condition(new, self.cm.timestamp())
        self._write(new, done, key, after)

    def _fail_safe(self, pdb: dict, error: str, done, key) -> None:
        """failSafe: no disruption allowed, the condition says why."""
        new = deep_copy(pdb)
        st = new.setdefault("status", {})
        st["disruptionsAllowed"] = 0
        set_status_condition(st.setdefault("conditions", []),
                             {"type": DISRUPTION_ALLOWED_CONDITION, "status": "False", "reason": SYNC_FAILED_REASON,
                              "message": error, "observedGeneration": st.get("observedGeneration", 0)},
                             self.cm.timestamp())
        if new == pdb:
            done()
            return self.queue.add_rate_limited(key)
        self._write(new, done, key, lambda ok: self.queue.add_rate_limited(key))

    def _write(self, new: dict, done, key, after) -> None:
        def written(resp: dict) -> None:
            done()
            if resp["code"] >= 400:
                # A conflict (or anything else): try again after the queue's backoff.
                self.queue.add_rate_limited(key)
                return after(False)
            self.queue.forget(key)
            after(True)

        self.api.update("poddisruptionbudgets", new, written, group=GROUP, subresource="status")


def _go_selector(pdb: dict) -> str:
    """%v of a *metav1.LabelSelector, as the UnmanagedPods event prints it."""
    sel = (pdb.get("spec") or {}).get("selector")
    if sel is None:
        return "nil"
    labels = " ".join(f"{k}:{v}" for k, v in sorted((sel.get("matchLabels") or {}).items()))
    exprs = ",".join(f"&LabelSelectorRequirement{{Key:{e.get('key')},Operator:{e.get('operator')},"
                     f"Values:[{' '.join(e.get('values') or [])}],}}" for e in sel.get("matchExpressions") or [])
    return f"&LabelSelector{{MatchLabels:map[string]string{{{labels}}},MatchExpressions:[]LabelSelectorRequirement{{{exprs}}},}}"

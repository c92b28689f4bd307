"""The PersistentVolume binder (pkg/controller/volume/persistentvolume/pv_controller.go):
binds claims to volumes and keeps both phases, one claim and one volume at a time, level
triggered, with a full resync every 15 s (--pvclaimbinder-sync-period).

An unbound claim (syncUnboundClaim) is bound to the smallest Available volume that fits it
(findBestMatchForClaim: same class, enough capacity, every access mode asked for, the same
volumeMode, the claim's selector; a volume pre-bound to it by claimRef first), or to the
volume its spec.volumeName names.  Without one: a class with volumeBindingMode
WaitForFirstConsumer waits for the scheduler to pick a node (the claim's
volume.kubernetes.io/selected-node), a class with a provisioner gets the
volume.kubernetes.io/storage-provisioner annotation its external provisioner watches for
(ExternalProvisioning), and a claim with no class is `FailedBinding`.  Binding writes the
volume's claimRef, the volume's phase Bound, the claim's volumeName and annotations and the
claim's phase Bound, in that order, as upstream's bind() does.

A volume whose claim is gone is Released and reclaimed by its persistentVolumeReclaimPolicy:
Retain leaves it Released for an administrator; Delete on a dynamically provisioned volume is
its external provisioner's job (sim/csi/provisioner.py); Delete on any other volume needs a
deleter plugin this controller has not (hostPath's needs --enable-hostpath-provisioner), so
the volume goes Failed with VolumeFailedDelete, as upstream's does.
"""
from __future__ import annotations

from sim.api import storage as stg
from sim.api.meta import deep_copy
from sim.api.selectors import label_selector_as_selector, selector_matches
from sim.workqueue import WorkQueue

SYNC_PERIOD = 15.0  # --pvclaimbinder-sync-period
IN_TREE_PROVISIONER_PREFIX = "kubernetes.io/"


class PersistentVolumeController:
    name = "persistent-volume-binder"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.volumes = cm.shared_informer("persistentvolumes")
        self.claims = cm.shared_informer("persistentvolumeclaims")
        self.classes = cm.shared_informer("storageclasses", group=stg.STORAGE_GROUP)
        self.claim_queue = WorkQueue(cm, self.sync_claim)
        self.volume_queue = WorkQueue(cm, self.sync_volume)
        self.last_event: dict[str, tuple[str, str]] = {}   # object uid -> its last event

    def start(self) -> None:
        self.claims.handlers(add=self._claim_changed, update=lambda o, n: self._claim_changed(n),
                             delete=self._claim_deleted)
        self.volumes.handlers(add=self._volume_changed, update=lambda o, n: self._volume_changed(n),
                              delete=self._volume_deleted)
        self.cm.call_later(SYNC_PERIOD, self.resync)

    def resync(self) -> None:
        for pvc in self.claims.list():
            self.claim_queue.add(stg.claim_key(pvc))
        for pv in self.volumes.list():
            self.volume_queue.add(pv["metadata"]["name"])
        self.cm.call_later(SYNC_PERIOD, self.resync)

    # -- events ---------------------------------------------------------------------------
    def _claim_changed(self, pvc: dict) -> None:
        self.claim_queue.add(stg.claim_key(pvc))

    def _claim_deleted(self, pvc: dict) -> None:
        """deleteClaim: the volume it was bound to is synced at once (it is Released now)."""
        self.last_event.pop(pvc["metadata"].get("uid"), None)
        name = (pvc.get("spec") or {}).get("volumeName")
        if name:
            self.volume_queue.add(name)
        for pv in self.volumes.list():
            if stg.claim_ref_key(pv) == stg.claim_key(pvc):
                self.volume_queue.add(pv["metadata"]["name"])

    def _volume_changed(self, pv: dict) -> None:
        self.volume_queue.add(pv["metadata"]["name"])
        ref = stg.claim_ref_key(pv)
        if ref:
            self.claim_queue.add(ref)

    def _volume_deleted(self, pv: dict) -> None:
        self.last_event.pop(pv["metadata"].get("uid"), None)
        ref = stg.claim_ref_key(pv)
        if ref:
            self.claim_queue.add(ref)

    # -- helpers --------------------------------------------------------------------------
    def _class(self, name: str) -> dict | None:
        return self.classes.get(None, name) if name else None

    def _delay_binding(self, pvc: dict) -> bool:
        """IsDelayBindingMode: the claim's class binds WaitForFirstConsumer."""
        sc = self._class(stg.pvc_class(pvc))
        return sc is not None and sc.get("volumeBindingMode") == stg.WAIT_FOR_FIRST_CONSUMER

    def _event(self, obj: dict, type_: str, reason: str, message: str) -> None:
        """An event, once per object and message: every resync would repeat it, and upstream's
        event correlator folds the repeats into one Event's count, which this recorder does not."""
        uid = obj["metadata"].get("uid")
        if self.last_event.get(uid) == (reason, message):
            return
        self.last_event[uid] = (reason, message)
        self.api.event(obj, reason, message, "persistentvolume-controller", type_=type_)

    def _requeue(self, queue: WorkQueue, key: str):
        def done(resp: dict) -> None:
            if resp["code"] >= 400:
                queue.add_rate_limited(key)
            else:
                queue.forget(key)
        return done

    def _set_claim_phase(self, pvc: dict, phase: str, then=None) -> None:
        status = pvc.get("status") or {}
        if status.get("phase") == phase and then is None:
            return
        new = deep_copy(pvc)
        new["status"] = dict(status, phase=phase)
        if phase == stg.BOUND:
            pv = self.volumes.get(None, pvc["spec"].get("volumeName", ""))
            if pv is not None:
                new["status"]["accessModes"] = list(pv["spec"].get("accessModes") or [])
                new["status"]["capacity"] = dict(pv["spec"].get("capacity") or {})
        self.api.update("persistentvolumeclaims", new, then or self._requeue(self.claim_queue, stg.claim_key(pvc)),
                        subresource="status")

    def _set_volume_phase(self, pv: dict, phase: str, message: str = "", then=None) -> None:
        status = pv.get("status") or {}
        if status.get("phase") == phase and status.get("message", "") == message and then is None:
            return
        new = deep_copy(pv)
        new["status"] = {k: val for k, val in status.items() if k not in ("message", "reason")}
        new["status"]["phase"] = phase
        if message:
            new["status"]["message"] = message
        self.api.update("persistentvolumes", new, then or self._requeue(self.volume_queue, pv["metadata"]["name"]),
                        subresource="status")

    # -- matching (pkg/controller/volume/persistentvolume/util FindMatchingVolume) -----------
    def volume_fits(self, pv: dict, pvc: dict) -> bool:
        spec, cspec = pv.get("spec") or {}, pvc.get("spec") or {}
        if pv["metadata"].get("deletionTimestamp") or (pv.get("status") or {}).get("phase") not in (
                stg.AVAILABLE, stg.PENDING, None):
            return False
        if stg.pv_class(pv) != stg.pvc_class(pvc):
            return False
        if (spec.get("volumeMode") or stg.FILESYSTEM) != (cspec.get("volumeMode") or stg.FILESYSTEM):
            return False
        if stg.pv_capacity(pv) < stg.claim_request(pvc):
            return False
        if not set(cspec.get("accessModes") or []) <= set(spec.get("accessModes") or []):
            return False
        sel = cspec.get("selector")
        if sel is not None and not selector_matches(label_selector_as_selector(sel), pv["metadata"].get("labels") or {}):
            return False
        return True

    def find_best_match(self, pvc: dict, delay_binding: bool) -> dict | None:
        """findBestMatchForClaim: a volume pre-bound to this claim wins; otherwise the smallest
        unbound volume that fits (not for a delayed-binding claim: the scheduler binds those)."""
        best = None
        key, uid = stg.claim_key(pvc), pvc["metadata"].get("uid")
        for pv in sorted(self.volumes.list(), key=lambda p: p["metadata"]["name"]):
            ref = (pv.get("spec") or {}).get("claimRef")
            if isinstance(ref, dict):
                if stg.claim_ref_key(pv) == key and ref.get("uid") in (None, "", uid) and self.volume_fits(pv, pvc):
                    return pv
                continue
            if delay_binding or not self.volume_fits(pv, pvc):
                continue
            if best is None or stg.pv_capacity(pv) < stg.pv_capacity(best):
                best = pv
        return best

    # -- claims ---------------------------------------------------------------------------
    def sync_claim(self, key: str) -> None:
        ns, _, name = key.partition("/")
        pvc = self.claims.get(ns, name)
        if pvc is None:
            return
        ann = pvc["metadata"].get("annotations") or {}
        if ann.get(stg.ANN_BIND_COMPLETED) != "yes":
            self._sync_unbound_claim(pvc)
        else:
            self._sync_bound_claim(pvc)

    def _sync_unbound_claim(self, pvc: dict) -> None:
        volume_name = pvc["spec"].get("volumeName")
        if not volume_name:
            delay = self._delay_binding(pvc)
            pv = self.find_best_match(pvc, delay)
            if pv is not None:
                return self.bind(pv, pvc)
            ann = pvc["metadata"].get("annotations") or {}
            cls = stg.pvc_class(pvc)
            if delay and stg.ANN_SELECTED_NODE not in ann:
                self._event(pvc, "Normal", "WaitForFirstConsumer",
                            "waiting for first consumer to be created before binding")
            elif cls:
                self.provision_claim(pvc, cls)
            else:
                self._event(pvc, "Normal", "FailedBinding",
                            "no persistent volumes available for this claim and no storage class is set")
            self._set_claim_phase(pvc, stg.PENDING)
            return
        pv = self.volumes.get(None, volume_name)
        if pv is None:
            self._set_claim_phase(pvc, stg.PENDING)
            return
        ref = (pv.get("spec") or {}).get("claimRef")
        if ref is None or (stg.claim_ref_key(pv) == stg.claim_key(pvc)
                           and ref.get("uid") in (None, "", pvc["metadata"].get("uid"))):
            if ref is None and not self.volume_fits(pv, pvc):
                self._event(pvc, "Warning", "VolumeMismatch", "Cannot bind to requested volume \"%s\": "
                            "requested PV is too small or does not fit the claim" % volume_name)
                self._set_claim_phase(pvc, stg.PENDING)
                return
            return self.bind(pv, pvc)
        self._event(pvc, "Warning", "FailedBinding", f'volume "{volume_name}" already bound to a different claim.')
        self._set_claim_phase(pvc, stg.PENDING)

    def _sync_bound_claim(self, pvc: dict) -> None:
        volume_name = pvc["spec"].get("volumeName")
        if not volume_name:
            self._event(pvc, "Warning", "ClaimLost",
                        "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!")
            return self._set_claim_phase(pvc, stg.LOST)
        pv = self.volumes.get(None, volume_name)
        if pv is None:
            if (pvc.get("status") or {}).get("phase") != stg.LOST:
                self._event(pvc, "Warning", "ClaimLost",
                            "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
            return self._set_claim_phase(pvc, stg.LOST)
        ref = (pv.get("spec") or {}).get("claimRef")
        if ref is None or (stg.claim_ref_key(pv) == stg.claim_key(pvc) and ref.get("uid") == pvc["metadata"].get("uid")):
            return self.bind(pv, pvc)
        self._event(pvc, "Warning", "ClaimMisbound", "Two claims are bound to the same volume, this one is bound incorrectly")
        self._set_claim_phase(pvc, stg.LOST)

    def provision_claim(self, pvc: dict, cls: str) -> None:
        """provisionClaim for an external provisioner: annotate the claim with the class's
        provisioner, which that provisioner watches for, and say so."""
        sc = self._class(cls)
        if sc is None:
            self._event(pvc, "Warning", "ProvisioningFailed", f'storageclass.{stg.STORAGE_GROUP} "{cls}" not found')
            return
        provisioner = sc.get("provisioner", "")
        ann = pvc["metadata"].get("annotations") or {}
        if ann.get(stg.ANN_STORAGE_PROVISIONER) != provisioner:
            new = deep_copy(pvc)
            new["metadata"].setdefault("annotations", {}).update(
                {stg.ANN_STORAGE_PROVISIONER: provisioner, stg.ANN_BETA_STORAGE_PROVISIONER: provisioner})
            self.api.update("persistentvolumeclaims", new, self._requeue(self.claim_queue, stg.claim_key(pvc)))
        self._event(pvc, "Normal", "ExternalProvisioning",
                    f"Waiting for a volume to be created either by the external provisioner '{provisioner}' or "
                    f"manually by the system administrator. If volume creation is delayed, please verify that the "
                    f"provisioner is running and correctly registered.")

    def bind(self, pv: dict, pvc: dict) -> None:
        """bind(): the volume's claimRef, its phase, the claim's volumeName, its phase; each
        written only when not so already, each after the one before succeeded."""
        key = stg.claim_key(pvc)
        failed = self._requeue(self.claim_queue, key)

        def step(resp: dict, next_fn) -> None:
            if resp["code"] >= 400:
                return failed(resp)
            next_fn(resp.get("body"))

        def volume_bound(pv_now: dict) -> None:
            if (pv_now.get("status") or {}).get("phase") != stg.BOUND:
                self._set_volume_phase(pv_now, stg.BOUND, then=lambda r: step(r, lambda _b: claim_to_volume()))
            else:
                claim_to_volume()

        def claim_to_volume() -> None:
            cur = self.claims.get(pvc["metadata"]["namespace"], pvc["metadata"]["name"]) or pvc
            ann = cur["metadata"].get("annotations") or {}
            if cur["spec"].get("volumeName") == pv["metadata"]["name"] and ann.get(stg.ANN_BIND_COMPLETED) == "yes":
                return claim_phase(cur)
            new = deep_copy(cur)
            new_ann = new["metadata"].setdefault("annotations", {})
            if not new["spec"].get("volumeName"):
                new_ann[stg.ANN_BOUND_BY_CONTROLLER] = "yes"
                new["spec"]["volumeName"] = pv["metadata"]["name"]
            new_ann[stg.ANN_BIND_COMPLETED] = "yes"
            self.api.update("persistentvolumeclaims", new, lambda r: step(r, claim_phase))

        def claim_phase(claim_now: dict) -> None:
            if (claim_now.get("status") or {}).get("phase") != stg.BOUND or not (claim_now.get("status") or {}).get("capacity"):
                self._set_claim_phase(claim_now, stg.BOUND, then=lambda r: step(r, lambda _b: self.claim_queue.forget(key)))
            else:
                self.claim_queue.forget(key)

        ref = (pv.get("spec") or {}).get("claimRef")
        md = pvc["metadata"]
        if isinstance(ref, dict) and ref.get("uid") == md.get("uid") and stg.claim_ref_key(pv) == key:
            return volume_bound(pv)
        new = deep_copy(pv)
        new["spec"]["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": md["namespace"], "name": md["name"],
                                   "uid": md.get("uid"), "apiVersion": "v1",
                                   "resourceVersion": md.get("resourceVersion")}
        if ref is None:
            new["metadata"].setdefault("annotations", {})[stg.ANN_BOUND_BY_CONTROLLER] = "yes"
        self.cm.action(f"persistentvolume-controller binding volume {pv['metadata']['name']} to claim {key}")
        self.api.update("persistentvolumes", new, lambda r: step(r, volume_bound))

    # -- volumes --------------------------------------------------------------------------
    def sync_volume(self, name: str) -> None:
        pv = self.volumes.get(None, name)
        if pv is None:
            return
        ref = (pv.get("spec") or {}).get("claimRef")
        phase = (pv.get("status") or {}).get("phase")
        if ref is None:
            if phase not in (stg.AVAILABLE, stg.FAILED):
                self._set_volume_phase(pv, stg.AVAILABLE)
            return
        if not ref.get("uid"):
            # Pre-bound by a user to a claim not bound yet: the claim's sync binds it.
            if phase != stg.AVAILABLE:
                self._set_volume_phase(pv, stg.AVAILABLE)
            self.claim_queue.add(stg.claim_ref_key(pv))
            return
        pvc = self.claims.get(ref.get("namespace"), ref.get("name", ""))
        if pvc is not None and pvc["metadata"].get("uid") != ref.get("uid"):
            pvc = None  # a new claim of the same name: not the one this volume was bound to
        if pvc is None:
            if phase not in (stg.RELEASED, stg.FAILED):
                self._set_volume_phase(pv, stg.RELEASED, then=self._after_release(name))
            elif phase == stg.RELEASED:
                self.reclaim(pv)
            return
        if pvc["spec"].get("volumeName") == name:
            if phase != stg.BOUND:
                self._set_volume_phase(pv, stg.BOUND)
        elif not pvc["spec"].get("volumeName"):
            self.claim_queue.add(stg.claim_key(pvc))  # the claim binds to it on its sync
        elif (pv["metadata"].get("annotations") or {}).get(stg.ANN_BOUND_BY_CONTROLLER) == "yes":
            # The claim went to another volume: unbind this one (unbindVolume).
            new = deep_copy(pv)
            new["spec"].pop("claimRef", None)
            new["metadata"]["annotations"].pop(stg.ANN_BOUND_BY_CONTROLLER, None)
            self.api.update("persistentvolumes", new, self._requeue(self.volume_queue, name))
        elif phase != stg.RELEASED:
            self._set_volume_phase(pv, stg.RELEASED)

    def _after_release(self, name: str):
        def done(resp: dict) -> None:
            if resp["code"] >= 400:
                return self.volume_queue.add_rate_limited(name)
            self.cm.action(f"persistentvolume-controller: volume {name} released")
            self.reclaim(resp["body"])
        return done

    def reclaim(self, pv: dict) -> None:
        """reclaimVolume."""
        policy = pv["spec"].get("persistentVolumeReclaimPolicy")
        name = pv["metadata"]["name"]
        if policy == stg.RETAIN:
            return  # an administrator's to clean up
        if policy == stg.RECYCLE:
            msg = "No recycler plugin found for the volume!"
            self._event(pv, "Warning", "VolumeFailedRecycle", msg)
            return self._set_volume_phase(pv, stg.FAILED, msg)
        provisioned_by = (pv["metadata"].get("annotations") or {}).get(stg.ANN_DYNAMICALLY_PROVISIONED, "")
        if provisioned_by and not provisioned_by.startswith(IN_TREE_PROVISIONER_PREFIX):
            return  # deleteVolumeOperation: an external provisioner deletes what it made
        msg = f'error getting deleter volume plugin for volume "{name}": no deletable volume plugin matched'
        self._event(pv, "Warning", "VolumeFailedDelete", msg)
        self._set_volume_phase(pv, stg.FAILED, msg)

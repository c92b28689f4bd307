"""The external-provisioner sidecar (kubernetes-csi/external-provisioner, over
sig-storage-lib-external-provisioner's ProvisionController) of the simulated driver.

A claim the persistentvolume binder annotated with volume.kubernetes.io/storage-provisioner
naming this driver, and not yet bound, gets a volume: CreateVolume on the backend, then a
PersistentVolume `pvc-<claim uid>` pre-bound to the claim (claimRef with its uid) with the
class's reclaimPolicy and mountOptions, which the binder then binds.  A claim whose class binds
WaitForFirstConsumer is provisioned only once the scheduler has written
volume.kubernetes.io/selected-node.  A volume it provisioned that is Released with reclaim
policy Delete is deleted: DeleteVolume, then the PersistentVolume."""
from __future__ import annotations

from sim.api import storage as stg
from sim.api.meta import deep_copy

# external-provisioner's finalizer on the volumes it makes (HonorPVReclaimPolicy, on by default
# since 1.31): the disk is deleted before the PersistentVolume is gone.
PROVISIONER_FINALIZER = "external-provisioner.volume.kubernetes.io/finalizer"
PROVISION_SECONDS = 1.0   # how long CreateVolume takes on the simulated backend
DELETE_SECONDS = 0.5


class ExternalProvisioner:
    def __init__(self, c, driver: str):
        self.c, self.driver = c, driver
        self.api = c.api.client_for("csi-provisioner")
        self.in_flight: set[str] = set()

    def start(self) -> None:
        self.classes = self.c.informer("storageclasses", group=stg.STORAGE_GROUP)
        self.claims = self.c.informer("persistentvolumeclaims", on_add=self.claim_changed,
                                      on_update=lambda o, n: self.claim_changed(n))
        self.volumes = self.c.informer("persistentvolumes", on_add=self.volume_changed,
                                       on_update=lambda o, n: self.volume_changed(n))
        for inf in (self.classes, self.claims, self.volumes):
            inf.start()

    # -- provisioning -----------------------------------------------------------------------
    def should_provision(self, pvc: dict) -> dict | None:
        """shouldProvision: the claim's class, when this driver is to provision it now."""
        md, spec = pvc["metadata"], pvc.get("spec") or {}
        ann = md.get("annotations") or {}
        if spec.get("volumeName") or md.get("deletionTimestamp"):
            return None
        if ann.get(stg.ANN_STORAGE_PROVISIONER, ann.get(stg.ANN_BETA_STORAGE_PROVISIONER)) != self.driver:
            return None
        sc = self.classes.get(None, stg.pvc_class(pvc))
        if sc is None or sc.get("provisioner") != self.driver:
            return None
        if sc.get("volumeBindingMode") == stg.WAIT_FOR_FIRST_CONSUMER and not ann.get(stg.ANN_SELECTED_NODE):
            return None
        return sc

    def claim_changed(self, pvc: dict) -> None:
        sc = self.should_provision(pvc)
        uid = pvc["metadata"].get("uid", "")
        name = f"pvc-{uid}"
        if sc is None or uid in self.in_flight or self.volumes.get(None, name) is not None:
            return
        self.in_flight.add(uid)
        key = stg.claim_key(pvc)
        self.api.event(pvc, "Provisioning", f'External provisioner is provisioning volume for claim "{key}"',
                       self.driver + "_csi-provisioner", type_="Normal")
        self.c.action(f"csi-provisioner: CreateVolume {name} for claim {key} on the storage backend")
        self.c.call_later(PROVISION_SECONDS, lambda: self._create(pvc, sc, name))

    def _create(self, pvc: dict, sc: dict, name: str) -> None:
        md, spec = pvc["metadata"], pvc.get("spec") or {}
        request = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "0")
        self.c.backend.create_volume(name, stg.claim_request(pvc))
        pv = {"apiVersion": "v1", "kind": "PersistentVolume",
              "metadata": {"name": name, "annotations": {stg.ANN_DYNAMICALLY_PROVISIONED: self.driver},
                           "finalizers": [PROVISIONER_FINALIZER]},
              "spec": {"capacity": {"storage": request}, "accessModes": list(spec.get("accessModes") or []),
                       "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy") or stg.DELETE,
                       "storageClassName": sc["metadata"]["name"],
                       "volumeMode": spec.get("volumeMode") or stg.FILESYSTEM,
                       "claimRef": {"kind": "PersistentVolumeClaim", "namespace": md["namespace"], "name": md["name"],
                                    "uid": md.get("uid"), "apiVersion": "v1",
                                    "resourceVersion": md.get("resourceVersion")},
                       "csi": {"driver": self.driver, "volumeHandle": name, "fsType": "ext4",
                               "volumeAttributes": {"storage.kubernetes.io/csiProvisionerIdentity":
                                                    f"pilothouse-{self.driver}"}}}}
        if sc.get("mountOptions"):
            pv["spec"]["mountOptions"] = list(sc["mountOptions"])

        def created(resp: dict) -> None:
            self.in_flight.discard(md.get("uid", ""))
            if resp["code"] in (201, 409):
                self.api.event(pvc, "ProvisioningSucceeded", f"Successfully provisioned volume {name}",
                               self.driver + "_csi-provisioner", type_="Normal")
            else:
                self.api.event(pvc, "ProvisioningFailed", f"failed to provision volume with StorageClass "
                               f'"{sc["metadata"]["name"]}": {(resp.get("body") or {}).get("message", "")}',
                               self.driver + "_csi-provisioner", type_="Warning")
        self.api.create("persistentvolumes", pv, created)

    # -- deleting ---------------------------------------------------------------------------
    def volume_changed(self, pv: dict) -> None:
        """shouldDelete: a Released volume this driver provisioned, with reclaim policy Delete."""
        md, spec = pv["metadata"], pv.get("spec") or {}
        if (md.get("annotations") or {}).get(stg.ANN_DYNAMICALLY_PROVISIONED) != self.driver:
            return
        handle = (stg.csi_source(pv) or {}).get("volumeHandle", "")
        if handle and handle not in self.c.backend.disks and not md.get("deletionTimestamp"):
            # Pilothouse restarted: etcd kept the volume, the in-memory backend did not; the
            # disk is made again (empty) so that the volume can still be attached and mounted.
            self.c.backend.create_volume(handle, stg.pv_capacity(pv))
        if md.get("deletionTimestamp") and PROVISIONER_FINALIZER in (md.get("finalizers") or []) \
                and md["name"] not in self.in_flight:
            return self._finalize(pv, handle)
        if (pv.get("status") or {}).get("phase") != stg.RELEASED or spec.get("persistentVolumeReclaimPolicy") != stg.DELETE:
            return
        if md.get("deletionTimestamp") or md["name"] in self.in_flight:
            return
        self.in_flight.add(md["name"])
        self.c.action(f"csi-provisioner: DeleteVolume {handle} on the storage backend")

        def deleted_on_backend() -> None:
            self.c.backend.delete_volume(handle)
            self.api.delete("persistentvolumes", None, md["name"], lambda r: self._settled(md["name"]))
        self.c.call_later(DELETE_SECONDS, deleted_on_backend)

    def _finalize(self, pv: dict, handle: str) -> None:
        """A volume it provisioned is being deleted (HonorPVReclaimPolicy): with reclaim policy
        Delete its disk goes too, even when the volume itself was deleted while bound; then the
        provisioner's finalizer is removed."""
        md = pv["metadata"]
        self.in_flight.add(md["name"])
        if pv["spec"].get("persistentVolumeReclaimPolicy") == stg.DELETE and handle in self.c.backend.disks:
            self.c.action(f"csi-provisioner: DeleteVolume {handle} on the storage backend")
            self.c.backend.delete_volume(handle)
        new = deep_copy(pv)
        new["metadata"]["finalizers"] = [f for f in md.get("finalizers") or [] if f != PROVISIONER_FINALIZER]
        self.api.update("persistentvolumes", new, lambda r: self._settled(md["name"]))

    def _settled(self, name: str) -> None:
        """A write answered: look at the volume again (its watch event may have come first)."""
        self.in_flight.discard(name)
        pv = self.volumes.get(None, name)
        if pv is not None:
            self.volume_changed(pv)

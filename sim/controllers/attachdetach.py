"""The attach-detach controller (pkg/controller/volume/attachdetach): CSI volumes are attached
to the nodes whose pods use them, by VolumeAttachment objects the driver's external-attacher
acts on (sim/csi/attacher.py), and detached when no pod on that node uses them any more.

Its desired state of the world is every scheduled, not yet terminated pod's persistentVolumeClaim
volumes whose claim is bound to a CSI PersistentVolume (a driver whose CSIDriver says
attachRequired: false needs no attachment); its actual state is the VolumeAttachments.  The
reconciler (per node here) creates the VolumeAttachment named as the CSI attacher names it
(csi-<sha256>) for each desired attachment and deletes the ones no longer desired.  A
ReadWriteOnce volume still attached to another node is not attached to a second one: the pod
gets upstream's `FailedAttachVolume` "Multi-Attach error" event and waits until the old
attachment is gone (its pod deleted: detached).
"""
from __future__ import annotations

from sim.api import storage as stg
from sim.workqueue import WorkQueue

TERMINAL = ("Succeeded", "Failed")


class AttachDetachController:
    name = "attachdetach-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.claims = cm.shared_informer("persistentvolumeclaims")
        self.volumes = cm.shared_informer("persistentvolumes")
        self.attachments = cm.shared_informer("volumeattachments", group=stg.STORAGE_GROUP)
        self.drivers = cm.shared_informer("csidrivers", group=stg.STORAGE_GROUP)
        self.queue = WorkQueue(cm, self.reconcile)
        self.pods_by_node: dict[str, set] = {}   # node -> keys of its pods with claims
        self.multi_attach_reported: set = set()
        self.attach_errors_reported: set = set()

    def start(self) -> None:
        self.cm.pods.handlers(add=self._pod_changed, update=lambda o, n: self._pod_changed(n),
                              delete=self._pod_deleted)
        self.attachments.handlers(add=self._va_changed, update=lambda o, n: self._va_changed(n),
                                  delete=self._va_deleted)
        self.claims.handlers(add=self._claim_changed, update=lambda o, n: self._claim_changed(n))
        self.volumes.handlers(add=lambda pv: self._all_nodes(), update=lambda o, n: self._all_nodes())

    # -- events ---------------------------------------------------------------------------
    @staticmethod
    def _key(pod: dict) -> tuple[str, str]:
        return pod["metadata"].get("namespace", ""), pod["metadata"]["name"]

    def _pod_changed(self, pod: dict) -> None:
        node = (pod.get("spec") or {}).get("nodeName")
        if node and stg.pod_claim_names(pod):
            self.pods_by_node.setdefault(node, set()).add(self._key(pod))
            self.queue.add(node)

    def _pod_deleted(self, pod: dict) -> None:
        node = (pod.get("spec") or {}).get("nodeName")
        if node and node in self.pods_by_node:
            self.pods_by_node[node].discard(self._key(pod))
            self.queue.add(node)

    def _va_changed(self, va: dict) -> None:
        node = (va.get("spec") or {}).get("nodeName", "")
        self.queue.add(node)
        error = ((va.get("status") or {}).get("attachError") or {})
        key = (va["metadata"]["name"], error.get("time"))
        if error and key not in self.attach_errors_reported:
            # The operation executor's AttachVolume.Attach failure, told to the pods waiting.
            self.attach_errors_reported.add(key)
            pv_name = ((va.get("spec") or {}).get("source") or {}).get("persistentVolumeName", "")
            for pv, pods in self.desired(node).values():
                if pv["metadata"]["name"] == pv_name:
                    for pod in pods:
                        self.api.event(pod, "FailedAttachVolume", f'AttachVolume.Attach failed for volume '
                                       f'"{pv_name}" : {error.get("message", "")}', "attachdetach-controller",
                                       type_="Warning")

    def _va_deleted(self, va: dict) -> None:
        # A detach frees a ReadWriteOnce volume for the pods waiting on other nodes.
        self._all_nodes()

    def _claim_changed(self, pvc: dict) -> None:
        ns, name = pvc["metadata"].get("namespace", ""), pvc["metadata"]["name"]
        for node, keys in self.pods_by_node.items():
            if any(k[0] == ns for k in keys):
                self.queue.add(node)

    def _all_nodes(self) -> None:
        for node in self.pods_by_node:
            self.queue.add(node)

    # -- desired and actual state ---------------------------------------------------------
    def _csi_volume(self, pod: dict, claim_name: str) -> dict | None:
        """The bound CSI PersistentVolume a pod's claim stands for, when it needs attaching."""
        pvc = self.claims.get(pod["metadata"].get("namespace", ""), claim_name)
        if pvc is None or not (pvc.get("spec") or {}).get("volumeName"):
            return None
        pv = self.volumes.get(None, pvc["spec"]["volumeName"])
        src = stg.csi_source(pv) if pv is not None else None
        if src is None:
            return None
        driver = self.drivers.get(None, src.get("driver", ""))
        if driver is not None and (driver.get("spec") or {}).get("attachRequired") is False:
            return None
        return pv

    def desired(self, node: str) -> dict[str, tuple[dict, list[dict]]]:
        """VolumeAttachment name -> (the PV, the pods on `node` that need it)."""
        out: dict[str, tuple[dict, list[dict]]] = {}
        for key in sorted(self.pods_by_node.get(node, ())):
            pod = self.cm.pods.get(*key)
            if pod is None or (pod.get("spec") or {}).get("nodeName") != node or \
                    (pod.get("status") or {}).get("phase") in TERMINAL:
                continue
            for claim in stg.pod_claim_names(pod):
                pv = self._csi_volume(pod, claim)
                if pv is None:
                    continue
                src = stg.csi_source(pv)
                name = stg.attachment_name(src.get("volumeHandle", ""), src.get("driver", ""), node)
                out.setdefault(name, (pv, []))[1].append(pod)
        return out

    def reconcile(self, node: str) -> None:
        want = self.desired(node)
        have = {va["metadata"]["name"]: va for va in self.attachments.list()
                if (va.get("spec") or {}).get("nodeName") == node}
        for name, va in have.items():
            if name not in want and not va["metadata"].get("deletionTimestamp"):
                pv_name = ((va.get("spec") or {}).get("source") or {}).get("persistentVolumeName", "")
                self.cm.action(f"attachdetach-controller detaching volume {pv_name} from node {node}")
                self.api.delete("volumeattachments", None, name, self._done(node), group=stg.STORAGE_GROUP)
        for name, (pv, pods) in want.items():
            if name in have:
                continue
            pv_name = pv["metadata"]["name"]
            elsewhere = [va for va in self.attachments.list()
                         if ((va.get("spec") or {}).get("source") or {}).get("persistentVolumeName") == pv_name
                         and (va.get("spec") or {}).get("nodeName") != node]
            if elsewhere and not ({stg.RWX, stg.ROX} & set(pv["spec"].get("accessModes") or [])):
                for pod in pods:
                    key = (pod["metadata"].get("uid"), name)
                    if key in self.multi_attach_reported:
                        continue
                    self.multi_attach_reported.add(key)
                    self.api.event(pod, "FailedAttachVolume",
                                   f'Multi-Attach error for volume "{pv_name}" Volume is already exclusively attached '
                                   f"to one node and can't be attached to another", "attachdetach-controller",
                                   type_="Warning")
                continue
            src = stg.csi_source(pv)
            va = {"apiVersion": f"{stg.STORAGE_GROUP}/v1", "kind": "VolumeAttachment",
                  "metadata": {"name": name},
                  "spec": {"attacher": src.get("driver", ""), "nodeName": node,
                           "source": {"persistentVolumeName": pv_name}}}
            self.cm.action(f"attachdetach-controller attaching volume {pv_name} to node {node}")
            self.api.create("volumeattachments", va, self._done(node), group=stg.STORAGE_GROUP)

    def _done(self, node: str):
        def done(resp: dict) -> None:
            if resp["code"] >= 400 and resp["code"] not in (404, 409):
                self.queue.add_rate_limited(node)
            else:
                self.queue.forget(node)
        return done

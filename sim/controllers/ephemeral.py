"""The ephemeral volume controller (pkg/controller/volume/ephemeral): a pod's generic ephemeral
volume (`ephemeral.volumeClaimTemplate`) is a PersistentVolumeClaim made for the pod, named
`<pod>-<volume>`, with the template's metadata and spec and the pod as its controlling owner -
so the garbage collector deletes it with the pod, and its volume is reclaimed as any claim's.
A claim of that name the pod does not own is left alone (the kubelet refuses to use it)."""
from __future__ import annotations

from sim.api.meta import deep_copy
from sim.workqueue import WorkQueue


class EphemeralVolumeController:
    name = "ephemeral-volume-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.claims = cm.shared_informer("persistentvolumeclaims")
        self.queue = WorkQueue(cm, self.sync)

    def start(self) -> None:
        self.cm.pods.handlers(add=self._enqueue, update=lambda o, n: self._enqueue(n))
        self.claims.handlers(delete=self._claim_deleted)

    @staticmethod
    def _ephemeral(pod: dict) -> list[dict]:
        return [v for v in (pod.get("spec") or {}).get("volumes") or []
                if isinstance(v, dict) and isinstance(v.get("ephemeral"), dict)]

    def _enqueue(self, pod: dict) -> None:
        if self._ephemeral(pod) and not pod["metadata"].get("deletionTimestamp"):
            self.queue.add((pod["metadata"].get("namespace", ""), pod["metadata"]["name"]))

    def _claim_deleted(self, pvc: dict) -> None:
        for ref in pvc["metadata"].get("ownerReferences") or []:
            if ref.get("kind") == "Pod" and ref.get("controller"):
                self.queue.add((pvc["metadata"].get("namespace", ""), ref.get("name", "")))

    def sync(self, key: tuple[str, str]) -> None:
        pod = self.cm.pods.get(*key)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return
        md = pod["metadata"]
        for v in self._ephemeral(pod):
            name = f"{md['name']}-{v['name']}"
            if self.claims.get(key[0], name) is not None:
                continue
            template = deep_copy(v["ephemeral"].get("volumeClaimTemplate"))
            if not isinstance(template, dict):
                continue  # no template: nothing to make (pod validation would have said so)
            tmd = template.get("metadata") if isinstance(template.get("metadata"), dict) else {}
            pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                   "metadata": {"name": name, "namespace": key[0],
                                **({"labels": tmd["labels"]} if tmd.get("labels") else {}),
                                **({"annotations": tmd["annotations"]} if tmd.get("annotations") else {}),
                                "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": md["name"],
                                                     "uid": md.get("uid"), "controller": True,
                                                     "blockOwnerDeletion": True}]},
                   "spec": template.get("spec") or {}}

            def done(resp: dict, pvc_name=name) -> None:
                if resp["code"] >= 400 and resp["code"] != 409:
                    self.api.event(pod, "FailedBinding", f"create PVC {pvc_name}: "
                                   f"{(resp.get('body') or {}).get('message', '')}", self.name, type_="Warning")
                    self.queue.add_rate_limited(key)
            self.cm.action(f"ephemeral-volume-controller creating claim {key[0]}/{name} for pod {md['name']}")
            self.api.create("persistentvolumeclaims", pvc, done)

"""The kubelet's persistent volumes (pkg/kubelet/volumemanager: the desired state populator's
getPVCExtractPV, the operation executor's WaitForAttachAndMount; pkg/volume/csi and hostpath).

A pod's persistentVolumeClaim volume is mounted once its claim is Bound: the claim names the
PersistentVolume, and the volume's source says where the files are -
- hostPath and local: the node's own disk (the kubelet's per-node store: another node has
  other files under the same path);
- csi: the driver's storage backend (sim/csi/backend.py), keyed by the volume handle, once the
  volume is attached to this node: the VolumeAttachment the attach-detach controller created
  (named as the CSI attacher names it) says attached: true;
- nfs: the server's export, shared by every node.
While a claim is missing, not bound or being deleted, or its volume not attached yet, the pod
stays ContainerCreating and the kubelet looks again every second; only once that has taken
longer than the volume manager's 2m3s does it say so, as upstream does, with a `FailedMount`
event ("Unable to attach or mount volumes: ... error processing PVC default/data: PVC is not
bound", or "... timed out waiting for the condition" for an attachment).
"""
from __future__ import annotations

from typing import Callable

from sim.api import storage as stg

WAIT_FOR_ATTACH_TIMEOUT = 123.0   # podAttachAndMountTimeout: 2 min + 3 s
WAIT_RETRY_SECONDS = 1.0          # how soon a pod waiting for an attachment looks again


def setup(kubelet, w: dict, done: Callable[[dict, str | None, bool], None]) -> None:
    """Resolve and mount every persistentVolumeClaim volume of the pod: done(volumes, error,
    waiting) where volumes maps the pod's volume names to their files, error is the FailedMount
    message (None: all mounted) and waiting says the kubelet waits for it (always, today: every
    failure here is one that may pass)."""
    pod = w["pod"]
    wanted = stg.pod_claim_volumes(pod)
    if not wanted:
        return done({}, None, False)
    ns = pod["metadata"].get("namespace", "")
    results: dict[str, tuple] = {}

    def finish() -> None:
        mounted, errors, unattached = {}, [], []
        for vol_name, _claim in wanted:
            kind, value = results[vol_name]
            if kind == "ok":
                mounted[vol_name] = value
            elif kind == "wait":
                unattached.append(vol_name)
            else:
                errors.append(value)
        if errors:
            return done(mounted, errors[0], True)
        if unattached:
            names = " ".join(sorted(unattached))
            return done(mounted, f"Unable to attach or mount volumes: unmounted volumes=[{names}], "
                                 f"unattached volumes=[{names}]: timed out waiting for the condition", True)
        done(mounted, None, False)

    remaining = [len(wanted)]

    def resolved(vol_name: str, kind: str, value) -> None:
        results[vol_name] = (kind, value)
        remaining[0] -= 1
        if remaining[0] == 0:
            finish()

    ephemeral = {v.get("name") for v in (pod.get("spec") or {}).get("volumes") or []
                 if isinstance(v, dict) and isinstance(v.get("ephemeral"), dict)}
    for vol_name, claim in wanted:
        owner = pod["metadata"].get("uid") if vol_name in ephemeral else None
        _resolve(kubelet, ns, vol_name, claim, owner, pod["metadata"]["name"],
                 lambda kind, value, n=vol_name: resolved(n, kind, value))


def _resolve(kubelet, ns: str, vol_name: str, claim: str, owner: str | None, pod_name: str, answer) -> None:
    """One claim to its files; `owner`: the pod's uid, which an ephemeral volume's claim must be
    controlled by (ephemeral.VolumeIsForPod)."""
    prefix = f"Unable to attach or mount volumes: unmounted volumes=[{vol_name}], unattached volumes=[{vol_name}]: " \
             f"error processing PVC {ns}/{claim}: "

    def got_claim(resp: dict) -> None:
        if resp.get("code") != 200:
            return answer("error", prefix + f'failed to fetch PVC from API server: persistentvolumeclaims "{claim}" '
                                            f"not found")
        pvc = resp["body"]
        if owner is not None and not any(r.get("uid") == owner and r.get("controller")
                                         for r in pvc["metadata"].get("ownerReferences") or []):
            return answer("error", prefix + f"PVC {ns}/{claim} was not created for pod {ns}/{pod_name} "
                                            f"(pod is not owner)")
        if pvc["metadata"].get("deletionTimestamp"):
            return answer("error", prefix + f"can't start pod because PVC {ns}/{claim} is being deleted")
        volume_name = (pvc.get("spec") or {}).get("volumeName")
        if (pvc.get("status") or {}).get("phase") != stg.BOUND or not volume_name:
            return answer("error", prefix + f'PVC is not bound')
        kubelet.api.request({"verb": "get", "resource": "persistentvolumes", "name": volume_name},
                            lambda r: got_volume(r, volume_name))

    def got_volume(resp: dict, volume_name: str) -> None:
        if resp.get("code") != 200:
            return answer("error", prefix + f'failed to fetch PV {volume_name} from API server: persistentvolumes '
                                            f'"{volume_name}" not found')
        pv = resp["body"]
        spec = pv.get("spec") or {}
        for key in ("hostPath", "local"):
            if isinstance(spec.get(key), dict):
                volume, error = kubelet.node_disk.mount(str(spec[key].get("path") or "/"),
                                                        spec[key].get("type") if key == "hostPath" else "Directory")
                if error:
                    return answer("error", f'MountVolume.SetUp failed for volume "{volume_name}" : {error}')
                return answer("ok", volume)
        backend = getattr(kubelet, "storage_backend", None)
        if backend is None:
            return answer("error", f'MountVolume.SetUp failed for volume "{volume_name}" : no storage backend')
        if isinstance(spec.get("nfs"), dict):
            nfs = spec["nfs"]
            disk = backend.create_volume(f"nfs://{nfs.get('server', '')}{nfs.get('path', '')}", 0)
            return answer("ok", disk.volume)
        src = stg.csi_source(pv)
        if src is None:
            return answer("error", f'MountVolume.SetUp failed for volume "{volume_name}" : volume plugin not '
                                   f"supported by the simulator")
        handle, driver = src.get("volumeHandle", ""), src.get("driver", "")
        va_name = stg.attachment_name(handle, driver, kubelet.host)
        kubelet.api.request({"verb": "get", "group": stg.STORAGE_GROUP, "resource": "volumeattachments",
                             "name": va_name}, lambda r: got_attachment(r, volume_name, handle))

    def got_attachment(resp: dict, volume_name: str, handle: str) -> None:
        status = (resp.get("body") or {}).get("status") or {} if resp.get("code") == 200 else {}
        if status.get("attachError"):
            return answer("error", f'AttachVolume.Attach failed for volume "{volume_name}" : '
                                   f'{status["attachError"].get("message", "")}')
        if not status.get("attached"):
            return answer("wait", None)
        files = getattr(kubelet, "storage_backend").files(handle)
        if files is None:
            return answer("error", f'MountVolume.SetUp failed for volume "{volume_name}" : rpc error: code = NotFound '
                                   f"desc = volume {handle} not found")
        answer("ok", files)

    kubelet.api.request({"verb": "get", "resource": "persistentvolumeclaims", "namespace": ns, "name": claim},
                        got_claim)


def register_csi_node(kubelet, node: dict) -> None:
    """The kubelet's CSINode (pkg/volume/csi/nodeinfomanager): one per node, owned by its Node
    (so it goes with it), listing the CSI drivers whose node plugin registered here - the
    simulated driver's runs on every node, as its DaemonSet would."""
    from sim.csi.controller import DRIVER
    md = node.get("metadata") or {}
    kubelet.api.create("csinodes", {
        "apiVersion": f"{stg.STORAGE_GROUP}/v1", "kind": "CSINode",
        "metadata": {"name": kubelet.host, "ownerReferences": [
            {"apiVersion": "v1", "kind": "Node", "name": kubelet.host, "uid": md.get("uid", "")}]},
        "spec": {"drivers": [{"name": DRIVER, "nodeID": kubelet.host}]}}, group=stg.STORAGE_GROUP)

"""What kubeadm leaves on a node, for the Cluster: the control-plane static pods and the images
they run, and the node's identity (kubelet release, --node-labels).

`kubeadm init` / `join --control-plane` writes the component manifests into the kubelet's
/etc/kubernetes/manifests (sim/kubelet/staticpods.py) and pulls their images first
(`kubeadm config images pull`); an external etcd's members run on hosts of their own and are
no static pods here (kubeadm's external etcd topology).  The node's runtime learns which
simulated component each control-plane binary is (ContainerRuntime.host_processes).

A cluster boots with its control plane already running (its components start at time 0, as
before): the static pods' containers are in the runtime as the kubelet had started them, and
the kubelet takes them over when it starts (StaticPods._adopt_static).
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sim.api.validation import validate_labels
from sim.kubelet.staticpods import CONFIG_MIRROR, kubeadm_manifests, manifest_files, static_pod
from sim.runtime import images as imagelib
from sim.runtime.process import SIGKILL_EXIT

if TYPE_CHECKING:
    from sim.cluster import Cluster

ETCD_MANIFEST = "etcd.yaml"
STATIC_COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")
# A kubelet release: vMAJOR.MINOR.PATCH with an optional pre-release (v1.35.0-rc.1).
KUBELET_VERSION = re.compile(r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$")


def check_node_identity(kubelet_version, labels) -> tuple[str, dict]:
    """The kubelet release and --node-labels a new node is given, validated; ValueError's
    message says what is wrong."""
    from sim.cluster import ClusterError
    if kubelet_version in (None, ""):
        kubelet_version = ""
    elif not isinstance(kubelet_version, str) or not KUBELET_VERSION.match(kubelet_version):
        raise ClusterError(f'invalid kubeletVersion {kubelet_version!r}: must look like "v1.35.2"')
    labels = {} if labels is None else labels
    errs = validate_labels(labels, "labels")
    if errs:
        raise ClusterError("; ".join(f"{e.field}: {e.detail}" for e in errs))
    return kubelet_version, dict(labels)


def _ip(cluster: "Cluster", host: str) -> str:
    from sim.cluster import node_ip
    return node_ip([n.name for n in cluster.config.nodes].index(host))


def install(cluster: "Cluster", host: str, kubelet, runtime) -> None:
    """kubeadm on control-plane node `host`: pull the images, write the manifests, and tell
    the runtime which component each binary is."""
    ip = _ip(cluster, host)
    local = [m for m in cluster.etcd_members if m.host == host]
    if local:
        servers = ["https://127.0.0.1:2379"]
        initial = ",".join(f"{m.name}=https://{_ip(cluster, m.host)}:2380" for m in cluster.etcd_members)
        member = {"name": local[0].name, "initial_cluster": initial}
    else:
        servers = [f"https://{m.host}:2379" for m in cluster.etcd_members]
        member = None
    manifests = kubeadm_manifests(ip, servers, member, cluster.config.service_subnet)
    kubelet.manifests = manifest_files(manifests)
    for doc in manifests.values():
        for c in doc["spec"]["containers"]:
            ref = imagelib.parse_reference(c["image"])
            found = runtime.registry.resolve(ref)
            if isinstance(found, imagelib.Image):
                runtime.images[ref.normalized] = found
    api, sched, cm = cluster.cp_components[host][:3]  # (metrics-server beside them is an addon, no static pod)
    runtime.host_processes.update({"kube-apiserver": api, "kube-scheduler": sched, "kube-controller-manager": cm})
    if local:
        runtime.host_processes["etcd"] = local[0]
        if local[0].name in cluster.stopped_members:
            kubelet.manifests.pop(ETCD_MANIFEST, None)


def _node(cluster: "Cluster", host: str):
    runtime, kubelet, _ = cluster.node_components[host]
    return runtime, kubelet


def boot_static_pods(cluster: "Cluster", host: str, mirrors: list[dict] = (), rebooted: bool = False) -> None:
    """The node booted: its static pods run (their components are started, or start now).

    Each container keeps its restart count: after a reboot of the node one more than the
    attempt the runtime's records of the dead containers hold (containerd's metadata survives a
    reboot; the kubelet counts a pod's containers on after a sandbox change), after a restart of
    Pilothouse the one its mirror pod reported (`mirrors`, as persisted)."""
    runtime, kubelet = _node(cluster, host)
    ip = _ip(cluster, host)
    counts = {(uid, name): attempt + 1 for (uid, name), attempt in runtime.dead_attempts.items()} if rebooted else {}
    for m in mirrors:
        ann = (m.get("metadata") or {}).get("annotations") or {}
        for cs in (m.get("status") or {}).get("containerStatuses") or []:
            if isinstance(cs, dict) and isinstance(cs.get("restartCount"), int):
                counts[(ann.get(CONFIG_MIRROR), cs.get("name"))] = cs["restartCount"]
    for name in sorted(kubelet.manifests):
        pod = static_pod(kubelet.manifests[name], name, host, kubelet.timestamp())
        if pod is None:
            continue
        uid = pod["metadata"]["uid"]
        runtime.adopt(uid, ip, [
            {"name": c["name"], "image": c.get("image"), "command": c.get("command"), "args": c.get("args"),
             "restartCount": counts.get((uid, c["name"]), 0)}
            for c in pod["spec"]["containers"]], hostname=host)


def remove_etcd_manifest(cluster: "Cluster", member) -> None:
    """`mv /etc/kubernetes/manifests/etcd.yaml /tmp/`: the member stops, the kubelet stops its
    static pod and deletes its mirror pod."""
    runtime, kubelet = _node(cluster, member.host)
    kubelet.manifests.pop(ETCD_MANIFEST, None)
    if member.running:
        member.stop()
        runtime.process_killed(member, 0)  # etcd shuts down cleanly
    if kubelet.running:
        kubelet.sync_static_pods()


def restore_etcd_manifest(cluster: "Cluster", member) -> None:
    """The manifest moved back: the kubelet starts the static pod, whose container is the
    member (at once if the node is up, else when it boots)."""
    runtime, kubelet = _node(cluster, member.host)
    if ETCD_MANIFEST in kubelet.manifests:
        return
    local = [m for m in cluster.etcd_members if m.host == member.host]
    ip = _ip(cluster, member.host)
    initial = ",".join(f"{m.name}=https://{_ip(cluster, m.host)}:2380" for m in cluster.etcd_members)
    doc = kubeadm_manifests(ip, ["https://127.0.0.1:2379"], {"name": local[0].name, "initial_cluster": initial},
                            cluster.config.service_subnet)
    kubelet.manifests[ETCD_MANIFEST] = manifest_files({ETCD_MANIFEST: doc[ETCD_MANIFEST]})[ETCD_MANIFEST]
    if kubelet.running:
        kubelet.sync_static_pods()


def kill_component(cluster: "Cluster", node: str, component: str) -> dict:
    """SIGKILL a control-plane component's process: its container exits 137 and the kubelet,
    as for any container of a restartPolicy Always pod, restarts it (with the crash-loop
    back-off when it keeps dying)."""
    from sim.cluster import ClusterError
    spec = cluster._spec(node)
    runtime, kubelet = _node(cluster, node)
    process = runtime.host_processes.get(component)
    if component not in STATIC_COMPONENTS or process is None:
        raise ClusterError(f'no static pod runs {component!r} on node "{node}" (one of: '
                           f'{", ".join(sorted(runtime.host_processes)) or "none"})', 404)
    if not spec.alive:
        raise ClusterError(f'node "{node}" is down', 409)
    if not process.running:
        raise ClusterError(f'{component} on node "{node}" is not running', 409)
    process.stop()
    runtime.process_killed(process, SIGKILL_EXIT)
    cluster.kernel.emit("action", component=process.address, text=f"{component} on {node} was killed")
    return {"node": node, "component": component, "address": process.address, "running": False}

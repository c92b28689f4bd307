"""Static pods and their mirror pods: the control plane as kubeadm leaves it.

kubeadm writes one manifest per control-plane component into the kubelet's staticPodPath,
/etc/kubernetes/manifests (kube-apiserver.yaml, kube-controller-manager.yaml,
kube-scheduler.yaml and, in a stacked topology, etcd.yaml; an external etcd runs on hosts of
its own and is no static pod of the control-plane nodes).  The kubelet runs those pods itself,
without the API server - which is how it can run the API server - and tells the API about them
with a *mirror pod* in their namespace, named `<name>-<node>`.

Upstream pieces mirrored here:
- pkg/kubelet/config/file.go + common.go applyDefaults: a manifest becomes a static pod: UID
  = an md5 of the pod, the host and the file (also its `kubernetes.io/config.hash`), name
  `<name>-<node name>`, namespace `default` when it names none, spec.nodeName, annotations
  `kubernetes.io/config.source: file` and `kubernetes.io/config.seen`, and a toleration of
  every NoExecute taint;
- pkg/kubelet/pod/mirror_client.go CreateMirrorPod: the mirror pod is the static pod with
  `kubernetes.io/config.mirror: <hash>` and an ownerReference to the Node (controller: true);
  DeleteMirrorPod deletes with grace 0 and a UID precondition;
- pkg/kubelet/kubelet.go syncPod: a mirror pod that is being deleted, or does not match its
  static pod, is deleted, and the mirror pod is (re)created while the static pod runs;
  HandlePodCleanups deletes mirror pods whose static pod is gone (deleteOrphanedMirrorPods);
- the status manager writes the static pod's status to its mirror pod.

The Cluster puts the manifests on the node's disk (`Kubelet.manifests`: file name -> YAML
text) and tells the node's runtime which simulated component each binary *is*
(`ContainerRuntime.host_processes`): the container running `kube-apiserver` runs the
KubeAPIServer component, so a killed component is that container's death, which the kubelet
restarts, and a stopped container stops its component.
"""
from __future__ import annotations

import copy
import hashlib
import json

from sim import yamlio as yaml

from sim.api.podutil import is_deleting

MANIFEST_DIR = "/etc/kubernetes/manifests"
CONFIG_HASH = "kubernetes.io/config.hash"
CONFIG_MIRROR = "kubernetes.io/config.mirror"
CONFIG_SOURCE = "kubernetes.io/config.source"
CONFIG_SEEN = "kubernetes.io/config.seen"
# How soon the kubelet tries again to create a mirror pod it could not (no API server yet, the
# Node not in its cache yet); upstream's pod workers resync the pod.
MIRROR_RETRY_SECONDS = 2.0
# HandlePodCleanups runs every housekeepingPeriod (pkg/kubelet/kubelet.go): a mirror pod the
# kubelet could not delete or create (the API server unreachable) is seen to again.
HOUSEKEEPING_PERIOD = 2.0
SYSTEM_NODE_CRITICAL = 2000001000
CONTROL_PLANE_VERSION = "v1.36.4"
ETCD_IMAGE = "registry.k8s.io/etcd:3.6.5-0"
SERVICE_CIDR = "10.96.0.0/12"
POD_CIDR = "10.244.0.0/16"


def is_mirror_pod(pod: dict) -> bool:
    return CONFIG_MIRROR in ((pod.get("metadata") or {}).get("annotations") or {})


# -- the manifests kubeadm writes (cmd/kubeadm/app/phases/controlplane, phases/etcd) ------------
def _probe(path: str, port: int, host: str, scheme: str, failure: int, period: int = 10,
           initial: int | None = 10) -> dict:
    probe = {"failureThreshold": failure,
             "httpGet": {"host": host, "path": path, "port": port, "scheme": scheme},
             "periodSeconds": period, "timeoutSeconds": 15}
    if initial:
        probe["initialDelaySeconds"] = initial
    return probe


def _host_path(name: str, path: str, kind: str = "DirectoryOrCreate") -> dict:
    return {"hostPath": {"path": path, "type": kind}, "name": name}


def _pod(component: str, image: str, command: list[str], cpu: str, probes: dict, mounts: list[tuple],
         annotations: dict | None = None, memory: str | None = None) -> dict:
    """A kubeadm static pod manifest (staticpod.ComponentPod), keys in the order kubeadm's YAML has."""
    requests = {"cpu": cpu, **({"memory": memory} if memory else {})}
    container = {"command": command, "image": image, "imagePullPolicy": "IfNotPresent",
                 **{f"{k}Probe": v for k, v in probes.items()}, "name": component,
                 "resources": {"requests": requests},
                 "volumeMounts": [{"mountPath": path, "name": name, **({"readOnly": True} if ro else {})}
                                  for name, path, _, ro in mounts]}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {**({"annotations": annotations} if annotations else {}),
                         "labels": {"component": component, "tier": "control-plane"},
                         "name": component, "namespace": "kube-system"},
            "spec": {"containers": [container], "hostNetwork": True, "priority": SYSTEM_NODE_CRITICAL,
                     "priorityClassName": "system-node-critical",
                     "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                     "volumes": [_host_path(name, host, kind) for name, _, (host, kind), _ in
                                 sorted(mounts, key=lambda m: m[0])]},
            "status": {}}


_CA_MOUNTS = [("ca-certs", "/etc/ssl/certs", ("/etc/ssl/certs", "DirectoryOrCreate"), True),
              ("etc-ca-certificates", "/etc/ca-certificates", ("/etc/ca-certificates", "DirectoryOrCreate"), True),
              ("usr-local-share-ca-certificates", "/usr/local/share/ca-certificates",
               ("/usr/local/share/ca-certificates", "DirectoryOrCreate"), True),
              ("usr-share-ca-certificates", "/usr/share/ca-certificates",
               ("/usr/share/ca-certificates", "DirectoryOrCreate"), True)]
_PKI = ("k8s-certs", "/etc/kubernetes/pki", ("/etc/kubernetes/pki", "DirectoryOrCreate"), True)


def kubeadm_manifests(ip: str, etcd_servers: list[str], etcd_member: dict | None = None,
                      service_cidr: str = SERVICE_CIDR) -> dict[str, dict]:
    """file name -> manifest, as `kubeadm init` / `join --control-plane` writes them on a
    control-plane node whose advertise address is `ip`.  `etcd_servers`: kube-apiserver's
    --etcd-servers; `etcd_member` ({"name", "initial_cluster"}) for a stacked member here."""
    pki = "/etc/kubernetes/pki"
    apiserver = _pod("kube-apiserver", f"registry.k8s.io/kube-apiserver:{CONTROL_PLANE_VERSION}", [
        "kube-apiserver", f"--advertise-address={ip}", "--allow-privileged=true",
        "--authorization-mode=Node,RBAC", f"--client-ca-file={pki}/ca.crt",
        "--enable-admission-plugins=NodeRestriction", "--enable-bootstrap-token-auth=true",
        f"--etcd-cafile={pki}/etcd/ca.crt", f"--etcd-certfile={pki}/apiserver-etcd-client.crt",
        f"--etcd-keyfile={pki}/apiserver-etcd-client.key", f"--etcd-servers={','.join(etcd_servers)}",
        f"--kubelet-client-certificate={pki}/apiserver-kubelet-client.crt",
        f"--kubelet-client-key={pki}/apiserver-kubelet-client.key",
        "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
        f"--proxy-client-cert-file={pki}/front-proxy-client.crt", f"--proxy-client-key-file={pki}/front-proxy-client.key",
        "--requestheader-allowed-names=front-proxy-client", f"--requestheader-client-ca-file={pki}/front-proxy-ca.crt",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-", "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-username-headers=X-Remote-User", "--secure-port=6443",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki}/sa.pub", f"--service-account-signing-key-file={pki}/sa.key",
        f"--service-cluster-ip-range={service_cidr}", f"--tls-cert-file={pki}/apiserver.crt",
        f"--tls-private-key-file={pki}/apiserver.key"], "250m",
        {"liveness": _probe("/livez", 6443, ip, "HTTPS", 8),
         "readiness": _probe("/readyz", 6443, ip, "HTTPS", 3, period=1, initial=None),
         "startup": _probe("/livez", 6443, ip, "HTTPS", 24)},
        [*_CA_MOUNTS, _PKI],
        annotations={"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": f"{ip}:6443"})
    cm = _pod("kube-controller-manager", f"registry.k8s.io/kube-controller-manager:{CONTROL_PLANE_VERSION}", [
        "kube-controller-manager", "--allocate-node-cidrs=true",
        "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
        "--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf", "--bind-address=127.0.0.1",
        f"--client-ca-file={pki}/ca.crt", f"--cluster-cidr={POD_CIDR}", "--cluster-name=kubernetes",
        f"--cluster-signing-cert-file={pki}/ca.crt", f"--cluster-signing-key-file={pki}/ca.key",
        "--controllers=*,bootstrapsigner,tokencleaner", "--kubeconfig=/etc/kubernetes/controller-manager.conf",
        "--leader-elect=true", f"--requestheader-client-ca-file={pki}/front-proxy-ca.crt",
        f"--root-ca-file={pki}/ca.crt", f"--service-account-private-key-file={pki}/sa.key",
        f"--service-cluster-ip-range={service_cidr}", "--use-service-account-credentials=true"], "200m",
        {"liveness": _probe("/healthz", 10257, "127.0.0.1", "HTTPS", 8),
         "startup": _probe("/healthz", 10257, "127.0.0.1", "HTTPS", 24)},
        [*_CA_MOUNTS, _PKI,
         ("flexvolume-dir", "/usr/libexec/kubernetes/kubelet-plugins/volume/exec",
          ("/usr/libexec/kubernetes/kubelet-plugins/volume/exec", "DirectoryOrCreate"), False),
         ("kubeconfig", "/etc/kubernetes/controller-manager.conf", ("/etc/kubernetes/controller-manager.conf", "FileOrCreate"), True)])
    scheduler = _pod("kube-scheduler", f"registry.k8s.io/kube-scheduler:{CONTROL_PLANE_VERSION}", [
        "kube-scheduler", "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
        "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf", "--bind-address=127.0.0.1",
        "--kubeconfig=/etc/kubernetes/scheduler.conf", "--leader-elect=true"], "100m",
        {"liveness": _probe("/livez", 10259, "127.0.0.1", "HTTPS", 8),
         "readiness": _probe("/readyz", 10259, "127.0.0.1", "HTTPS", 3, period=1, initial=None),
         "startup": _probe("/livez", 10259, "127.0.0.1", "HTTPS", 24)},
        [("kubeconfig", "/etc/kubernetes/scheduler.conf", ("/etc/kubernetes/scheduler.conf", "FileOrCreate"), True)])
    out = {"kube-apiserver.yaml": apiserver, "kube-controller-manager.yaml": cm, "kube-scheduler.yaml": scheduler}
    if etcd_member is not None:
        name = etcd_member["name"]
        out["etcd.yaml"] = _pod("etcd", ETCD_IMAGE, [
            "etcd", f"--advertise-client-urls=https://{ip}:2379", f"--cert-file={pki}/etcd/server.crt",
            "--client-cert-auth=true", "--data-dir=/var/lib/etcd", "--feature-gates=InitialCorruptCheck=true",
            f"--initial-advertise-peer-urls=https://{ip}:2380",
            f"--initial-cluster={etcd_member['initial_cluster']}", f"--key-file={pki}/etcd/server.key",
            f"--listen-client-urls=https://127.0.0.1:2379,https://{ip}:2379",
            "--listen-metrics-urls=http://127.0.0.1:2381", f"--listen-peer-urls=https://{ip}:2380",
            f"--name={name}", f"--peer-cert-file={pki}/etcd/peer.crt", "--peer-client-cert-auth=true",
            f"--peer-key-file={pki}/etcd/peer.key", f"--peer-trusted-ca-file={pki}/etcd/ca.crt",
            "--snapshot-count=10000", f"--trusted-ca-file={pki}/etcd/ca.crt",
            "--watch-progress-notify-interval=5s"], "100m",
            {"liveness": _probe("/livez", 2381, "127.0.0.1", "HTTP", 8),
             "readiness": _probe("/readyz", 2381, "127.0.0.1", "HTTP", 3, period=1, initial=None),
             "startup": _probe("/readyz", 2381, "127.0.0.1", "HTTP", 24)},
            [("etcd-certs", f"{pki}/etcd", (f"{pki}/etcd", "DirectoryOrCreate"), False),
             ("etcd-data", "/var/lib/etcd", ("/var/lib/etcd", "DirectoryOrCreate"), False)],
            annotations={"kubeadm.kubernetes.io/etcd.advertise-client-urls": f"https://{ip}:2379"},
            memory="100Mi")
    return out


def manifest_files(manifests: dict[str, dict]) -> dict[str, str]:
    """The YAML files as kubeadm writes them (sigs.k8s.io/yaml: keys sorted)."""
    return {name: yaml.safe_dump(doc, sort_keys=True, default_flow_style=False) for name, doc in manifests.items()}


# -- the file source (pkg/kubelet/config/file.go, common.go) -------------------------------------
def static_pod(text: str, file_name: str, node_name: str, seen: str) -> dict | None:
    """The static pod a manifest file describes, defaulted as the kubelet's file source does;
    None for a file that is not a Pod (the kubelet logs it and skips it)."""
    try:
        pod = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(pod, dict) or pod.get("kind") != "Pod" or not isinstance(pod.get("metadata"), dict) \
            or not isinstance(pod.get("spec"), dict) or not isinstance(pod["metadata"].get("name"), str):
        return None
    source = f"{MANIFEST_DIR}/{file_name}"
    # hash.DeepHashObject of the pod, then "host:<node>" and "file:<path>".
    digest = hashlib.md5(json.dumps(pod, sort_keys=True).encode())
    digest.update(f"host:{node_name}file:{source}".encode())
    uid = digest.hexdigest()
    md = pod["metadata"]
    md["uid"] = uid
    md["name"] = f"{md['name']}-{node_name.lower()}"
    md["namespace"] = md.get("namespace") or "default"
    md["annotations"] = {**(md.get("annotations") or {}), CONFIG_HASH: uid, CONFIG_SEEN: seen,
                         CONFIG_SOURCE: "file"}
    spec = pod["spec"]
    spec["nodeName"] = node_name
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec["tolerations"] = [*(spec.get("tolerations") or []), {"operator": "Exists", "effect": "NoExecute"}]
    pod["status"] = {"phase": "Pending"}
    return pod


def mirror_pod(static: dict, node_name: str, node_uid: str) -> dict:
    """mirror_client.go CreateMirrorPod: the static pod as the API stores it."""
    pod = copy.deepcopy(static)
    md = pod["metadata"]
    md.pop("uid", None)
    md["annotations"] = {**md["annotations"], CONFIG_MIRROR: md["annotations"][CONFIG_HASH]}
    md["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": node_name, "uid": node_uid,
                              "controller": True}]
    pod.pop("status", None)
    return pod


class StaticPods:
    """Mixed into Kubelet: the static pods of its manifest directory and their mirror pods.
    Needs the pod workers (PodLifecycle), self.api, self.node_informer, self.pod_informer."""

    manifests: dict[str, str]  # the node's /etc/kubernetes/manifests: file name -> YAML (its disk)

    def worker_for(self, uid: str | None) -> dict | None:
        """The pod worker of the API pod with this uid: a mirror pod's is its static pod's
        (the pod manager's GetPodByMirrorPod, as logs, exec and port-forward resolve it)."""
        w = self.workers.get(uid)
        if w is None and getattr(self, "pod_informer", None) is not None:
            mirror = next((p for p in self.pod_informer.list() if p["metadata"].get("uid") == uid
                           and is_mirror_pod(p)), None)
            if mirror is not None:
                w = self.workers.get(mirror["metadata"]["annotations"][CONFIG_MIRROR])
        return w

    def static_workers(self) -> dict[str, dict]:
        return {uid: w for uid, w in self.workers.items() if w.get("static")}

    def sync_static_pods(self) -> None:
        """Read the manifest directory (the file source's inotify event): start the static
        pods new files describe, stop those whose file is gone."""
        seen = self.timestamp()
        wanted = {}
        for name in sorted(self.manifests):
            pod = static_pod(self.manifests[name], name, self.host, seen)
            if pod is not None:
                wanted[pod["metadata"]["uid"]] = pod
        for uid, w in self.static_workers().items():
            if uid not in wanted and w["state"] not in ("terminating", "terminated"):
                self.terminate(w)
        if wanted and not getattr(self, "housekeeping", False):
            self.housekeeping = True
            self.call_later(HOUSEKEEPING_PERIOD, self._housekeeping)
        for uid, pod in wanted.items():
            if uid in self.workers:
                continue
            w = self._new_worker(pod)
            w["static"] = True
            # What the runtime ran when this kubelet started (ListPodSandbox) is taken over once.
            sandbox = (self.runtime_sandboxes or {}).pop(uid, None)
            if sandbox is not None and sandbox.get("containers"):
                self._adopt_static(w, sandbox)
            else:
                self.start_pod(w)
        self.sync_mirror_pods()

    def _adopt_static(self, w: dict, sandbox: dict) -> None:
        """The runtime already runs this static pod (the node booted with it): take it over."""
        w["ip"], w["state"], w["sandbox_ready"], w["initialized"] = sandbox.get("ip"), "running", True, True
        for name, cid in (sandbox.get("containers") or {}).items():
            rec = w["containers"].get(name)
            c = self.node_runtime.container(cid) if self.node_runtime is not None else None
            if rec is None or c is None or c.state != "running":
                continue
            rec.state, rec.reason, rec.container_id, rec.ever_ran = "running", "", cid, True
            rec.restart_count = c.attempt
            rec.started_at = self.timestamp(c.started_at)
            rec.image = c.image.reference
            rec.image_id = c.image.repo_digest
        self._sync_containers(w)

    def _housekeeping(self) -> None:
        self.sync_mirror_pods()
        self.call_later(HOUSEKEEPING_PERIOD, self._housekeeping)

    # -- mirror pods ---------------------------------------------------------------------------
    def sync_mirror_pods(self) -> None:
        """Every running static pod has its mirror pod; a mirror pod whose static pod is gone
        (or that does not match it) is deleted."""
        if not getattr(self, "registered", False) or getattr(self, "pod_informer", None) is None \
                or not self.pod_informer.synced:
            return
        mirrors = {(p["metadata"]["namespace"], p["metadata"]["name"]): p
                   for p in self.pod_informer.list() if is_mirror_pod(p)}
        statics = {(w["pod"]["metadata"]["namespace"], w["pod"]["metadata"]["name"]): w
                   for w in self.static_workers().values() if w["state"] not in ("terminating", "terminated")}
        for key, pod in mirrors.items():
            w = statics.get(key)
            if w is None or pod["metadata"]["annotations"][CONFIG_MIRROR] != w["uid"] or is_deleting(pod):
                self._delete_mirror_pod(pod)
        for key, w in statics.items():
            if key not in mirrors:
                self._create_mirror_pod(w)

    def _create_mirror_pod(self, w: dict) -> None:
        if w.get("mirror_pending"):
            return
        node = next(iter(self.node_informer.list()), None) if getattr(self, "node_informer", None) else None
        if node is None:
            self.call_later(MIRROR_RETRY_SECONDS, self.sync_mirror_pods)
            return
        w["mirror_pending"] = True
        pod = w["pod"]

        def created(resp: dict) -> None:
            w["mirror_pending"] = False
            if resp["code"] == 201:
                self.action(f"kubelet on {self.host} created mirror pod "
                            f"{pod['metadata']['namespace']}/{pod['metadata']['name']}")
                # The status manager writes the static pod's status to its new mirror pod.
                w.pop("last_status", None)
                if self.workers.get(w["uid"]) is w:
                    self.post_status(w)
            elif resp["code"] != 409:
                self.call_later(MIRROR_RETRY_SECONDS, self.sync_mirror_pods)

        self.api.create("pods", mirror_pod(pod, self.host, node["metadata"]["uid"]), created,
                        namespace=pod["metadata"]["namespace"])

    def _delete_mirror_pod(self, pod: dict) -> None:
        md = pod["metadata"]
        pending = self.__dict__.setdefault("mirror_deletes", set())
        if md["uid"] in pending:
            return
        pending.add(md["uid"])
        self.api.delete("pods", md["namespace"], md["name"], lambda r: pending.discard(md["uid"]), grace=0,
                        precondition_uid=md["uid"])

    def mirror_pod_changed(self, pod: dict) -> None:
        """The informer's add/update of a mirror pod: a deleted or stray one goes."""
        ours = self.workers.get(pod["metadata"]["annotations"][CONFIG_MIRROR])
        if ours is None or not ours.get("static") or is_deleting(pod):
            self._delete_mirror_pod(pod)

    def mirror_pod_removed(self, pod: dict) -> None:
        """A mirror pod is gone from the API: while its static pod runs, make it again."""
        self.sync_mirror_pods()

    def static_pod_terminated(self, w: dict) -> None:
        """The static pod's file is gone and its containers stopped: its mirror pod goes."""
        self._forget(w)
        self.sync_mirror_pods()

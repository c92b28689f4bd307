"""What the kubelet says about its machine: status.nodeInfo and status.images.

- nodeInfo (pkg/kubelet/nodestatus/setters.go MachineInfo, VersionInfo): machineID
  (/etc/machine-id) and systemUUID (the DMI product UUID) are the machine's and never change;
  bootID (/proc/sys/kernel/random/boot_id) is new at every boot, so a restarted node reports a
  new one; kubeletVersion is this kubelet's build; kubeProxyVersion (deprecated, KEP-4004) is
  empty when the kubelet's DisableNodeKubeProxyVersion gate is on - by default in 1.30 (beta)
  and from 1.33 on (pkg/features/kube_features.go) - and the kubelet's own version otherwise.
- images (setters.go Images): what the container runtime holds (CRI ListImages, as the image
  manager caches it), largest first (sliceutils.ByImageSize), at most nodeStatusMaxImages (50),
  each with its repo digests then its tags, at most MaxNamesPerImageInNodeStatus (5) names.
  Names are as the runtime reports them: containerd and CRI-O fully qualified
  (docker.io/library/nginx:1.27.3), Docker Engine (cri-dockerd) in Docker's familiar form
  (nginx:1.27.3).  The scheduler's ImageLocality plugin scores nodes by them, matching names as
  written (upstream's normalizedImageName only adds ":latest").
"""
from __future__ import annotations

import hashlib

from sim.runtime import images as imagelib

NODE_STATUS_MAX_IMAGES = 50          # KubeletConfiguration nodeStatusMaxImages
MAX_NAMES_PER_IMAGE_IN_NODE_STATUS = 5
KERNEL_VERSION = "6.1.0-28-amd64"
OS_IMAGE = "Debian GNU/Linux 12 (bookworm)"


def _hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _uuid(h: str) -> str:
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def machine_id(host: str) -> str:
    return _hex(f"machine-id/{host}")[:32]


def system_uuid(host: str) -> str:
    return _uuid(_hex(f"system-uuid/{host}"))


def kube_proxy_version(kubelet_version: str) -> str:
    """status.nodeInfo.kubeProxyVersion as a kubelet of that release sets it (setters.go
    VersionInfo: the kubelet's version unless DisableNodeKubeProxyVersion is enabled)."""
    parts = kubelet_version.lstrip("v").split(".")
    try:
        minor = int(parts[1]) if parts[0] == "1" else 99
    except (IndexError, ValueError):
        return ""
    return "" if minor >= 33 or minor == 30 else kubelet_version


def node_images(images: dict, max_images: int = NODE_STATUS_MAX_IMAGES, familiar: bool = False) -> list[dict]:
    """status.images from the runtime's images (normalised reference -> Image); `familiar`:
    names in Docker's familiar form, as cri-dockerd reports them."""
    def name(ref: str) -> str:
        return imagelib.parse_reference(ref).familiar if familiar else ref

    by_digest: dict[str, dict] = {}
    for ref in sorted(images):
        image = images[ref]
        entry = by_digest.setdefault(image.digest, {"digests": [], "tags": [], "size": image.size})
        if name(image.repo_digest) not in entry["digests"]:
            entry["digests"].append(name(image.repo_digest))
        if "@" not in ref and name(ref) not in entry["tags"]:
            entry["tags"].append(name(ref))
    ordered = sorted(by_digest.items(), key=lambda kv: (-kv[1]["size"], kv[0]))
    if max_images > -1:
        ordered = ordered[:max_images]
    return [{"names": (e["digests"] + e["tags"])[:MAX_NAMES_PER_IMAGE_IN_NODE_STATUS], "sizeBytes": e["size"]}
            for _, e in ordered]


class NodeIdentity:
    """Mixed into Kubelet: needs self.host, self.now, self.runtime_kind, self.kubelet_version,
    self.node_runtime (the machine's container runtime).

    The node status loop compares both with the Node's every nodeStatusUpdateFrequency (10 s):
    they are made again only when what they are made from changed (current_node_info,
    current_node_images), and node_info / node_images hand out copies of them."""

    def current_node_info(self) -> dict:
        """status.nodeInfo as this kubelet reports it now; shared: to be read, not changed."""
        from sim.kubelet.kubelet import RUNTIME_VERSIONS
        if getattr(self, "boot_id", None) is None:
            # A kubelet starts once per boot: the boot's ID is fixed then.
            self.boot_id = _uuid(_hex(f"boot-id/{self.host}/{self.now!r}/{self.incarnation}"))
        key = (self.boot_id, self.host, self.runtime_kind, self.kubelet_version)
        cached = getattr(self, "_node_info", None)
        if cached is None or cached[0] != key:
            info = {"architecture": "amd64", "bootID": self.boot_id,
                    "containerRuntimeVersion": RUNTIME_VERSIONS.get(self.runtime_kind, RUNTIME_VERSIONS["containerd"]),
                    "kernelVersion": KERNEL_VERSION, "kubeProxyVersion": kube_proxy_version(self.kubelet_version),
                    "kubeletVersion": self.kubelet_version,
                    "machineID": machine_id(self.host), "operatingSystem": "linux", "osImage": OS_IMAGE,
                    "systemUUID": system_uuid(self.host)}
            cached = self._node_info = (key, info)
        return cached[1]

    def current_node_images(self) -> list[dict]:
        """status.images as this kubelet reports them now, made again only when the runtime's
        images changed (which the image manager's cache would notice); shared: to be read, not
        changed."""
        runtime = getattr(self, "node_runtime", None)
        if runtime is None:
            return []
        familiar = self.runtime_kind == "docker"
        key = (runtime, familiar, tuple(runtime.images.items()))
        cached = getattr(self, "_node_images", None)
        if cached is None or cached[0] != key:
            cached = self._node_images = (key, node_images(runtime.images, familiar=familiar))
        return cached[1]

    def node_info(self) -> dict:
        return dict(self.current_node_info())

    def node_images(self) -> list[dict]:
        return [{"names": list(e["names"]), "sizeBytes": e["sizeBytes"]} for e in self.current_node_images()]

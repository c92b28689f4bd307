"""kubeadm's kube-proxy addon (cmd/kubeadm/app/phases/addons/proxy): what `kubeadm init phase
addon kube-proxy` creates in kube-system (proxy.go EnsureProxyAddon, in its order; the RBAC
objects aside) - the `kube-proxy` ServiceAccount; the `kube-proxy` ConfigMap, whose
`config.conf` is the KubeProxyConfiguration kubeadm marshals (its defaults - bindAddress
0.0.0.0, clusterCIDR from networking.podSubnet, the in-cluster kubeconfig - and the cluster's
`mode`, every other field at its zero value as the marshalled struct prints it) and whose
`kubeconfig.conf` points at the control-plane endpoint; and the `kube-proxy` DaemonSet
(manifests.go KubeProxyDaemonSet19), whose pod on every node runs
`/usr/local/bin/kube-proxy --config=/var/lib/kube-proxy/config.conf` with the ConfigMap mounted
there.  That container's process is the node's kube-proxy (sim/kubeproxy_process.py).
"""
from __future__ import annotations

from sim.kubelet.staticpods import CONTROL_PLANE_VERSION

LABELS = {"app": "kube-proxy"}            # the ConfigMap's
DS_LABELS = {"k8s-app": "kube-proxy"}     # the DaemonSet's, its selector's and its pods'
NAME = "kube-proxy"
CONFIG_KEY = "config.conf"                # constants.KubeProxyConfigMapKey
CONFIG_DIR = "/var/lib/kube-proxy"
# images.GetKubernetesImage(constants.KubeProxy, cfg): the cluster's release, as the control plane's.
IMAGE = f"registry.k8s.io/kube-proxy:{CONTROL_PLANE_VERSION}"


def config_conf(mode: str, cluster_cidr: str) -> str:
    """The KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) as kubeadm writes it."""
    return f"""apiVersion: kubeproxy.config.k8s.io/v1alpha1
bindAddress: 0.0.0.0
bindAddressHardFail: false
clientConnection:
  acceptContentTypes: ""
  burst: 0
  contentType: ""
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
  qps: 0
clusterCIDR: {cluster_cidr}
configSyncPeriod: 0s
conntrack:
  maxPerCore: null
  min: null
  tcpBeLiberal: false
  tcpCloseWaitTimeout: null
  tcpEstablishedTimeout: null
  udpStreamTimeout: 0s
  udpTimeout: 0s
detectLocal:
  bridgeInterface: ""
  interfaceNamePrefix: ""
detectLocalMode: ""
enableProfiling: false
healthzBindAddress: ""
hostnameOverride: ""
iptables:
  localhostNodePorts: null
  masqueradeAll: false
  masqueradeBit: null
  minSyncPeriod: 0s
  syncPeriod: 0s
ipvs:
  excludeCIDRs: null
  minSyncPeriod: 0s
  scheduler: ""
  strictARP: false
  syncPeriod: 0s
  tcpFinTimeout: 0s
  tcpTimeout: 0s
  udpTimeout: 0s
kind: KubeProxyConfiguration
logging:
  flushFrequency: 0
  options:
    json:
      infoBufferSize: "0"
    text:
      infoBufferSize: "0"
  verbosity: 0
metricsBindAddress: ""
mode: {mode or '""'}
nftables:
  masqueradeAll: false
  masqueradeBit: null
  minSyncPeriod: 0s
  syncPeriod: 0s
nodePortAddresses: null
oomScoreAdj: null
portRange: ""
showHiddenMetricsForVersion: ""
winkernel:
  enableDSR: false
  forwardHealthCheckVip: false
  networkName: ""
  rootHnsEndpointName: ""
  sourceVip: ""
"""


def kubeconfig_conf(control_plane_endpoint: str) -> str:
    """kubeadm's KubeProxyConfigMap kubeconfig: the pod's service account token and CA."""
    return f"""apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
    server: https://{control_plane_endpoint}
  name: default
contexts:
- context:
    cluster: default
    namespace: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
"""


def daemonset() -> dict:
    """manifests.go KubeProxyDaemonSet19, as kubeadm renders it: no resources (kube-proxy
    requests nothing), privileged, on the host's network, tolerating every taint."""
    container = {
        "name": NAME, "image": IMAGE, "imagePullPolicy": "IfNotPresent",
        "command": ["/usr/local/bin/kube-proxy", f"--config={CONFIG_DIR}/{CONFIG_KEY}",
                    "--hostname-override=$(NODE_NAME)"],
        "securityContext": {"privileged": True},
        "volumeMounts": [{"mountPath": CONFIG_DIR, "name": "kube-proxy"},
                         {"mountPath": "/run/xtables.lock", "name": "xtables-lock", "readOnly": False},
                         {"mountPath": "/lib/modules", "name": "lib-modules", "readOnly": True}],
        "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"labels": dict(DS_LABELS), "name": NAME, "namespace": "kube-system"},
            "spec": {"selector": {"matchLabels": dict(DS_LABELS)},
                     "updateStrategy": {"type": "RollingUpdate"},
                     "template": {"metadata": {"labels": dict(DS_LABELS)}, "spec": {
                         "priorityClassName": "system-node-critical",
                         "containers": [container],
                         "hostNetwork": True,
                         "serviceAccountName": NAME,
                         "volumes": [{"name": "kube-proxy", "configMap": {"name": NAME}},
                                     {"name": "xtables-lock",
                                      "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
                                     {"name": "lib-modules", "hostPath": {"path": "/lib/modules"}}],
                         "tolerations": [{"operator": "Exists"}],
                         "nodeSelector": {"kubernetes.io/os": "linux"}}}}}


def objects(mode: str, cluster_cidr: str, control_plane_endpoint: str) -> list[tuple[str, str, dict]]:
    """(group, resource, body) in the order kubeadm creates them (printOrCreateKubeProxyObjects:
    the ServiceAccount, the ConfigMap, the DaemonSet)."""
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": NAME, "namespace": "kube-system", "labels": dict(LABELS)},
          "data": {CONFIG_KEY: config_conf(mode, cluster_cidr),
                   "kubeconfig.conf": kubeconfig_conf(control_plane_endpoint)}}
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": NAME, "namespace": "kube-system"}}
    return [("", "serviceaccounts", sa), ("", "configmaps", cm), ("apps", "daemonsets", daemonset())]

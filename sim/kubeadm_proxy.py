"""kubeadm's kube-proxy addon (cmd/kubeadm/app/phases/addons/proxy): what `kubeadm init phase
addon kube-proxy` creates in kube-system that the simulator keeps - the `kube-proxy`
ServiceAccount and the `kube-proxy` ConfigMap, whose `config.conf` is the KubeProxyConfiguration
kubeadm marshals (its defaults - bindAddress 0.0.0.0, clusterCIDR from networking.podSubnet,
the in-cluster kubeconfig - and the cluster's `mode`, every other field at its zero value as the
marshalled struct prints it) and whose `kubeconfig.conf` points at the control-plane endpoint.

The kube-proxy DaemonSet is not created: each node's kube-proxy is an engine component
(sim/kubeproxy.py) rather than a pod, so a DaemonSet would start a second one.
"""
from __future__ import annotations

LABELS = {"app": "kube-proxy"}


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


def objects(mode: str, cluster_cidr: str, control_plane_endpoint: str) -> list[tuple[str, str, dict]]:
    """(group, resource, body) in the order kubeadm creates them."""
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": dict(LABELS)},
          "data": {"config.conf": config_conf(mode, cluster_cidr),
                   "kubeconfig.conf": kubeconfig_conf(control_plane_endpoint)}}
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "kube-proxy", "namespace": "kube-system"}}
    return [("", "serviceaccounts", sa), ("", "configmaps", cm)]

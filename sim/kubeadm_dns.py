"""kubeadm's CoreDNS addon (cmd/kubeadm/app/phases/addons/dns/manifests.go): what `kubeadm init
phase addon coredns` creates in kube-system - the `coredns` ServiceAccount, the `coredns`
ConfigMap holding the Corefile, the `coredns` Deployment of 2 and the `kube-dns` Service at the
service range's 10th address (kubeadm's GetDNSIP: 10.96.0.10 for 10.96.0.0/12).

(kubeadm also binds the `system:coredns` ClusterRole; the simulator has no RBAC kinds.)
"""
from __future__ import annotations

import ipaddress

COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.12.1"
DNS_DOMAIN = "cluster.local"      # kubeadm's networking.dnsDomain
LABELS = {"k8s-app": "kube-dns"}

# kubeadm's CoreDNSConfigMap template, with the default dnsDomain.
COREFILE = """.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
"""


def dns_ip(service_subnet: str) -> str:
    """kubeadm's GetDNSIP: the 10th address of the (first) service CIDR."""
    net = ipaddress.ip_network(service_subnet.split(",")[0].strip(), strict=False)
    return str(net.network_address + 10)


def config_map() -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "coredns", "namespace": "kube-system"},
            "data": {"Corefile": COREFILE}}


def service_account() -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "coredns", "namespace": "kube-system"}}


def service(service_subnet: str) -> dict:
    ip = dns_ip(service_subnet)
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kube-dns", "namespace": "kube-system",
                         "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                    "kubernetes.io/name": "CoreDNS"},
                         "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}},
            "spec": {"clusterIP": ip, "selector": dict(LABELS),
                     "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                               {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                               {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]}}


def deployment() -> dict:
    container = {
        "name": "coredns", "image": COREDNS_IMAGE, "imagePullPolicy": "IfNotPresent",
        "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}},
        "args": ["-conf", "/etc/coredns/Corefile"],
        "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/coredns", "readOnly": True}],
        "ports": [{"containerPort": 53, "name": "dns", "protocol": "UDP"},
                  {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                  {"containerPort": 9153, "name": "metrics", "protocol": "TCP"}],
        "securityContext": {"allowPrivilegeEscalation": False,
                            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                            "readOnlyRootFilesystem": True},
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"},
                          "initialDelaySeconds": 60, "timeoutSeconds": 5, "successThreshold": 1,
                          "failureThreshold": 5},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181, "scheme": "HTTP"}},
    }
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "coredns", "namespace": "kube-system", "labels": dict(LABELS)},
            "spec": {"replicas": 2,
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                     "selector": {"matchLabels": dict(LABELS)},
                     "template": {"metadata": {"labels": dict(LABELS)}, "spec": {
                         "priorityClassName": "system-cluster-critical",
                         "serviceAccountName": "coredns",
                         "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                             {"weight": 100, "podAffinityTerm": {
                                 "labelSelector": {"matchExpressions": [
                                     {"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}]},
                                 "topologyKey": "kubernetes.io/hostname"}}]}},
                         "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                         {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
                         "nodeSelector": {"kubernetes.io/os": "linux"},
                         "containers": [container],
                         "dnsPolicy": "Default",
                         "volumes": [{"name": "config-volume", "configMap": {
                             "name": "coredns", "items": [{"key": "Corefile", "path": "Corefile"}]}}]}}}}


def objects(service_subnet: str) -> list[tuple[str, str, dict]]:
    """(group, resource, body) in the order kubeadm creates them."""
    return [("", "configmaps", config_map()), ("", "serviceaccounts", service_account()),
            ("apps", "deployments", deployment()), ("", "services", service(service_subnet))]

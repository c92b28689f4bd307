"""The root-ca-cert-publisher controller (pkg/controller/certificates/rootcacertpublisher):
every namespace holds the `kube-root-ca.crt` ConfigMap with the cluster's root CA bundle under
`ca.crt`, which the ServiceAccount admission plugin's projected volume mounts in every pod.  A
namespace added or updated, or that ConfigMap changed or deleted, queues the namespace; syncing
it creates the ConfigMap, or puts back its data and description.

The bundle is the cluster CA's certificate (kube-controller-manager's --root-ca-file, sim/pki.py),
a real X.509 certificate."""
from __future__ import annotations

from sim.workqueue import WorkQueue

ROOT_CA_CONFIG_MAP = "kube-root-ca.crt"
DESCRIPTION_ANNOTATION = "kubernetes.io/description"
DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
               "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
               "distributions of Kubernetes clusters.")


def root_ca_config_map(namespace: str, ca_pem: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": ROOT_CA_CONFIG_MAP, "namespace": namespace,
                         "annotations": {DESCRIPTION_ANNOTATION: DESCRIPTION}},
            "data": {"ca.crt": ca_pem}}


class RootCACertPublisher:
    name = "root-ca-cert-publisher"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.configmaps = cm.shared_informer("configmaps")
        self.queue = WorkQueue(cm, self.sync)
        self.ca_pem = cm.cluster_ca.certificate_pem

    def start(self) -> None:
        def cm_changed(obj: dict) -> None:
            if obj["metadata"].get("name") == ROOT_CA_CONFIG_MAP:
                self.queue.add(obj["metadata"].get("namespace", ""))

        self.configmaps.handlers(update=lambda old, new: cm_changed(new), delete=cm_changed)
        self.cm.namespaces.handlers(add=lambda ns: self.queue.add(ns["metadata"]["name"]),
                                    update=lambda old, new: self.queue.add(new["metadata"]["name"]))

    def sync(self, namespace: str) -> None:
        ns = self.cm.namespaces.get(None, namespace)
        if ns is None or ns["metadata"].get("deletionTimestamp"):
            return
        want = {"ca.crt": self.ca_pem}
        cur = self.configmaps.get(namespace, ROOT_CA_CONFIG_MAP)

        def done(resp: dict) -> None:
            if resp["code"] >= 400 and resp["code"] not in (404, 403, 409):
                self.queue.add_rate_limited(namespace)
            else:
                self.queue.forget(namespace)

        if cur is None:
            self.api.create("configmaps", root_ca_config_map(namespace, self.ca_pem), done)
            return
        annotations = (cur["metadata"].get("annotations") or {})
        if cur.get("data") == want and annotations.get(DESCRIPTION_ANNOTATION):
            return
        new = dict(cur, data=want)
        new["metadata"] = dict(cur["metadata"], annotations={**annotations, DESCRIPTION_ANNOTATION: DESCRIPTION})
        self.api.update("configmaps", new, done)

"""kube-controller-manager's controller list (cmd/kube-controller-manager/app/
controller_descriptor.go and the --controllers flag): each controller has a name, the kinds its
informers watch, and whether it runs by default; `--controllers` enables and disables them
("*" all the default ones, "foo" also foo, "-foo" not foo), settable per cluster.

Adding a controller is its module plus one descriptor here."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ControllerDescriptor:
    name: str                     # as --controllers names it (1.28+: "<name>-controller")
    target: str                   # "module:Class", built with the controller manager
    watches: tuple[str, ...]      # the GroupResources its informers watch
    enabled_by_default: bool = True
    aliases: tuple[str, ...] = field(default=())  # the older short names the flag still accepts

    def build(self, cm):
        module, _, cls = self.target.partition(":")
        return getattr(importlib.import_module(module), cls)(cm)


DESCRIPTORS: tuple[ControllerDescriptor, ...] = (
    ControllerDescriptor("replicaset-controller", "sim.controllers.replicaset:ReplicaSetController",
                         ("replicasets.apps", "pods"), aliases=("replicaset",)),
    ControllerDescriptor("replicationcontroller-controller", "sim.controllers.replication:ReplicationManager",
                         ("replicationcontrollers", "pods"), aliases=("replicationcontroller",)),
    ControllerDescriptor("deployment-controller", "sim.controllers.deployment:DeploymentController",
                         ("deployments.apps", "replicasets.apps", "pods"), aliases=("deployment",)),
    ControllerDescriptor("daemonset-controller", "sim.controllers.daemonset:DaemonSetController",
                         ("daemonsets.apps", "controllerrevisions.apps", "pods", "nodes"), aliases=("daemonset",)),
    ControllerDescriptor("pod-garbage-collector-controller", "sim.controllers.podgc:PodGCController",
                         ("pods", "nodes"), aliases=("podgc",)),
    ControllerDescriptor("statefulset-controller", "sim.controllers.statefulset:StatefulSetController",
                         ("statefulsets.apps", "pods", "controllerrevisions.apps", "persistentvolumeclaims"),
                         aliases=("statefulset",)),
    ControllerDescriptor("job-controller", "sim.controllers.job:JobController", ("jobs.batch", "pods"),
                         aliases=("job",)),
    ControllerDescriptor("ttl-after-finished-controller", "sim.controllers.ttlafterfinished:TTLAfterFinishedController",
                         ("jobs.batch",), aliases=("ttl-after-finished",)),
    ControllerDescriptor("node-lifecycle-controller", "sim.controllers.nodelifecycle:NodeLifecycleController",
                         ("nodes", "leases.coordination.k8s.io", "pods"), aliases=("nodelifecycle",)),
    ControllerDescriptor("node-ipam-controller", "sim.controllers.nodeipam:NodeIPAMController", ("nodes",),
                         aliases=("nodeipam",)),
    ControllerDescriptor("taint-eviction-controller", "sim.controllers.tainteviction:TaintEvictionController",
                         ("nodes", "pods")),
    ControllerDescriptor("garbage-collector-controller", "sim.controllers.garbagecollector:GarbageCollector",
                         ("*",), aliases=("garbagecollector",)),
    ControllerDescriptor("namespace-controller", "sim.controllers.namespace:NamespaceController",
                         ("namespaces", "*"), aliases=("namespace",)),
    ControllerDescriptor("disruption-controller", "sim.controllers.disruption:DisruptionController",
                         ("poddisruptionbudgets.policy", "pods", "replicasets.apps"), aliases=("disruption",)),
    ControllerDescriptor("resourcequota-controller", "sim.controllers.resourcequota:ResourceQuotaController",
                         ("resourcequotas", "pods", "*"), aliases=("resourcequota",)),
    ControllerDescriptor("serviceaccount-controller", "sim.controllers.serviceaccounts:ServiceAccountsController",
                         ("namespaces", "serviceaccounts"), aliases=("serviceaccount",)),
    ControllerDescriptor("clusterrole-aggregation-controller",
                         "sim.controllers.clusterroleaggregation:ClusterRoleAggregationController",
                         ("clusterroles.rbac.authorization.k8s.io",), aliases=("clusterrole-aggregation",)),
    ControllerDescriptor("root-ca-certificate-publisher-controller",
                         "sim.controllers.rootcacertpublisher:RootCACertPublisher",
                         ("namespaces", "configmaps"), aliases=("root-ca-cert-publisher",)),
    ControllerDescriptor("certificatesigningrequest-signing-controller",
                         "sim.controllers.csrsigning:CSRSigningController",
                         ("certificatesigningrequests.certificates.k8s.io",), aliases=("csrsigning",)),
    ControllerDescriptor("certificatesigningrequest-approving-controller",
                         "sim.controllers.csrapproving:CSRApprovingController",
                         ("certificatesigningrequests.certificates.k8s.io",), aliases=("csrapproving",)),
    ControllerDescriptor("certificatesigningrequest-cleaner-controller",
                         "sim.controllers.csrcleaner:CSRCleanerController",
                         ("certificatesigningrequests.certificates.k8s.io",), aliases=("csrcleaner",)),
    ControllerDescriptor("persistentvolume-binder-controller",
                         "sim.controllers.persistentvolume:PersistentVolumeController",
                         ("persistentvolumes", "persistentvolumeclaims", "storageclasses.storage.k8s.io"),
                         aliases=("persistentvolume-binder",)),
    ControllerDescriptor("attachdetach-controller", "sim.controllers.attachdetach:AttachDetachController",
                         ("pods", "persistentvolumeclaims", "persistentvolumes", "volumeattachments.storage.k8s.io",
                          "csidrivers.storage.k8s.io"), aliases=("attachdetach",)),
    ControllerDescriptor("ephemeral-volume-controller", "sim.controllers.ephemeral:EphemeralVolumeController",
                         ("pods", "persistentvolumeclaims"), aliases=("ephemeral-volume",)),
    ControllerDescriptor("persistentvolumeclaim-protection-controller",
                         "sim.controllers.pvcprotection:PVCProtectionController",
                         ("persistentvolumeclaims", "pods"), aliases=("pvc-protection",)),
    ControllerDescriptor("horizontal-pod-autoscaler-controller",
                         "sim.controllers.podautoscaler:HorizontalPodAutoscalerController",
                         ("horizontalpodautoscalers.autoscaling", "pods"), aliases=("horizontalpodautoscaling",)),
    ControllerDescriptor("persistentvolume-protection-controller",
                         "sim.controllers.pvprotection:PVProtectionController",
                         ("persistentvolumes",), aliases=("pv-protection",)),
    ControllerDescriptor("cronjob-controller", "sim.controllers.cronjob:CronJobController",
                         ("cronjobs.batch", "jobs.batch"), aliases=("cronjob",)),
    ControllerDescriptor("endpoints-controller", "sim.controllers.endpoints:EndpointsController",
                         ("services", "pods", "endpoints"), aliases=("endpoint",)),
    ControllerDescriptor("endpointslice-controller", "sim.controllers.endpointslice:EndpointSliceController",
                         ("services", "pods", "nodes", "endpointslices.discovery.k8s.io"), aliases=("endpointslice",)),
)


class UnknownController(ValueError):
    pass


def known_names() -> list[str]:
    return [d.name for d in DESCRIPTORS]


def enabled(flags: list[str] | tuple[str, ...] = ("*",)) -> list[ControllerDescriptor]:
    """The descriptors --controllers=<flags> runs (IsControllerEnabled): an explicit "foo" or
    "-foo" wins; otherwise "*" runs the ones enabled by default.  An unknown name is an error,
    as kube-controller-manager refuses to start with one."""
    by_name = {}
    for d in DESCRIPTORS:
        by_name[d.name] = d
        for alias in d.aliases:
            by_name[alias] = d
    on, off, star = set(), set(), False
    for flag in flags:
        name = flag[1:] if flag.startswith("-") else flag
        if name == "*":
            star = True
            continue
        if name not in by_name:
            raise UnknownController(f'"{name}" is not in the list of known controllers')
        (off if flag.startswith("-") else on).add(by_name[name].name)
    return [d for d in DESCRIPTORS
            if d.name in on or (d.name not in off and star and d.enabled_by_default)]

"""The simulated CSI driver's controller plugin: the pod a CSI driver runs on the control plane
(here the `csi-controller` component of each control-plane node), holding the
external-provisioner and external-attacher sidecars.  Like those sidecars it is leader elected
(one Lease, the driver's name with dots as dashes), so only one acts.

When it starts leading it makes sure the driver's CSIDriver object and its StorageClass
`standard` exist (the addon manager's EnsureExists mode: created when missing, never changed):
`standard` is the cluster's default class (storageclass.kubernetes.io/is-default-class: "true"),
reclaimPolicy Delete, volumeBindingMode WaitForFirstConsumer, as kind's default class is."""
from __future__ import annotations

from sim.api import storage as stg
from sim.csi.attacher import ExternalAttacher
from sim.csi.backend import StorageBackend
from sim.csi.provisioner import ExternalProvisioner
from sim.leaderelection import LeaderElectedComponent

DRIVER = "pilothouse.csi.k8s.io"
DEFAULT_CLASS = "standard"


def csi_driver() -> dict:
    return {"apiVersion": f"{stg.STORAGE_GROUP}/v1", "kind": "CSIDriver", "metadata": {"name": DRIVER},
            "spec": {"attachRequired": True, "podInfoOnMount": False, "volumeLifecycleModes": ["Persistent"]}}


def default_storage_class() -> dict:
    return {"apiVersion": f"{stg.STORAGE_GROUP}/v1", "kind": "StorageClass",
            "metadata": {"name": DEFAULT_CLASS, "annotations": {stg.ANN_DEFAULT_STORAGE_CLASS: "true"}},
            "provisioner": DRIVER, "reclaimPolicy": stg.DELETE, "volumeBindingMode": stg.WAIT_FOR_FIRST_CONSUMER}


class CSIController(LeaderElectedComponent):
    component = "csi-controller"
    lease_name = DRIVER.replace(".", "-")
    # The CSI sidecars' --leader-election-retry-period (5 s; lease 15 s, renew deadline 10 s).
    leader_elect_retry_period = 5.0

    def __init__(self, host: str, apiserver, backend: StorageBackend):
        super().__init__(host, apiserver)
        self.backend = backend

    def start_leading(self) -> None:
        self.api.create("csidrivers", csi_driver(), group=stg.STORAGE_GROUP)
        self.api.create("storageclasses", default_storage_class(), group=stg.STORAGE_GROUP)
        self.provisioner = ExternalProvisioner(self, DRIVER)
        self.attacher = ExternalAttacher(self, DRIVER)
        self.provisioner.start()
        self.attacher.start()

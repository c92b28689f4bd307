"""The ReplicationManager (pkg/controller/replication/replication_controller.go): upstream
builds it as the ReplicaSet controller over ReplicationControllers through conversion
adapters, so here it is the ReplicaSetController with the core/v1 kind and the map selector.
Its events come from "replication-controller"."""
from __future__ import annotations

from sim.api.selectors import selector_from_set
from sim.controllers.replicaset import ReplicaSetController


class ReplicationManager(ReplicaSetController):
    name = "replication-controller"
    resource, group, api_version, kind = "replicationcontrollers", "", "v1", "ReplicationController"
    reports_terminating = False  # ReplicationControllerStatus has no terminatingReplicas

    @staticmethod
    def selector(rc: dict):
        """spec.selector is a label map: labels.SelectorFromSet; an empty one selects nothing
        (validation refuses it, so only a corrupt stored object has one)."""
        sel = rc["spec"].get("selector") or {}
        return list(selector_from_set(sel)) if sel else None

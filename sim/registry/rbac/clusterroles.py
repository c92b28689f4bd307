"""ClusterRoles (pkg/registry/rbac/clusterrole): cluster-wide sets of PolicyRules, which may
also hold non-resource URLs, or be aggregated from other ClusterRoles by label
(`aggregationRule`, filled by kube-controller-manager's clusterrole-aggregation controller,
sim/controllers/clusterroleaggregation.py)."""
from __future__ import annotations

from sim.registry.printers import Printer
from sim.registry.rbac.policy import (CLUSTER_ROLE, GROUP, ROLE_COLUMNS, PolicyBasedStrategy, role_row,
                                      validate_aggregation_rule, validate_meta, validate_rules)
from sim.registry.resource import Resource


class ClusterRoleStrategy(PolicyBasedStrategy):
    def validate(self, obj):
        """ValidateClusterRole."""
        return validate_meta(obj, False) + validate_rules(obj, False) + validate_aggregation_rule(obj)

    def validate_update(self, new, old):
        return self.validate(new)


RESOURCE = Resource("clusterroles", GROUP, "v1", "ClusterRole", False, "/registry/clusterroles/", (), "clusterrole",
                    (), ClusterRoleStrategy(), CLUSTER_ROLE, printer=Printer(ROLE_COLUMNS, role_row))

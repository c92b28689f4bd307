"""ClusterRoleBindings (pkg/registry/rbac/clusterrolebinding): grant a ClusterRole in every
namespace and on non-resource URLs."""
from __future__ import annotations

from sim.registry.printers import Printer
from sim.registry.rbac.policy import BINDING_COLUMNS, CLUSTER_ROLE_BINDING, GROUP, BindingStrategy, binding_row
from sim.registry.resource import Resource


class ClusterRoleBindingStrategy(BindingStrategy):
    namespaced = False


RESOURCE = Resource("clusterrolebindings", GROUP, "v1", "ClusterRoleBinding", False, "/registry/clusterrolebindings/",
                    (), "clusterrolebinding", (), ClusterRoleBindingStrategy(), CLUSTER_ROLE_BINDING,
                    printer=Printer(BINDING_COLUMNS, binding_row))

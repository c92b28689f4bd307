"""RoleBindings (pkg/registry/rbac/rolebinding): grant a Role, or a ClusterRole within one
namespace, to users, groups and ServiceAccounts.  Binding needs the `bind` verb on the role or
holding its permissions (policybased/storage.go)."""
from __future__ import annotations

from sim.registry.printers import Printer
from sim.registry.rbac.policy import BINDING_COLUMNS, GROUP, ROLE_BINDING, BindingStrategy, binding_row
from sim.registry.resource import Resource

RESOURCE = Resource("rolebindings", GROUP, "v1", "RoleBinding", True, "/registry/rolebindings/", (), "rolebinding",
                    (), BindingStrategy(), ROLE_BINDING, printer=Printer(BINDING_COLUMNS, binding_row))

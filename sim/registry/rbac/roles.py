"""Roles (pkg/registry/rbac/role): namespaced sets of PolicyRules; writing one is subject to
the escalation check (policybased/storage.go)."""
from __future__ import annotations

from sim.registry.printers import Printer
from sim.registry.rbac.policy import GROUP, ROLE, ROLE_COLUMNS, PolicyBasedStrategy, role_row, validate_meta, validate_rules
from sim.registry.resource import Resource


class RoleStrategy(PolicyBasedStrategy):
    def validate(self, obj):
        """ValidateRole."""
        return validate_meta(obj, True) + validate_rules(obj, True)

    def validate_update(self, new, old):
        return self.validate(new)


RESOURCE = Resource("roles", GROUP, "v1", "Role", True, "/registry/roles/", (), "role", (), RoleStrategy(), ROLE,
                    printer=Printer(ROLE_COLUMNS, role_row))

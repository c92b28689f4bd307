"""kube-apiserver's post-start hook "rbac/bootstrap-roles" (pkg/registry/rbac/rest/storage_rbac.go
PostStartHook): once the apiserver serves, the default ClusterRoles and ClusterRoleBindings
(sim/auth/bootstrappolicy.py) are made to exist.  Upstream reconciles them (adding missing
rules to an `autoupdate` role); here the missing ones are created, as the priority classes'
hook creates its own (sim/apiserver/bootstrap.py CreateMissingHook)."""
from __future__ import annotations

from sim.apiserver.bootstrap import CreateMissingHook
from sim.auth import bootstrappolicy

KINDS = (("clusterroles", bootstrappolicy.cluster_roles), ("clusterrolebindings", bootstrappolicy.cluster_role_bindings))


class BootstrapRolesHook(CreateMissingHook):
    name = "rbac/bootstrap-roles"
    failure = "unable to create the default roles"

    def wanted(self) -> list[tuple[str, str, dict]]:
        wanted = [(bootstrappolicy.GROUP, resource, obj) for resource, make in KINDS for obj in make()]
        if not self.api.authentication.open:   # an owned cluster's page viewers (bootstrappolicy.py)
            wanted.append((bootstrappolicy.GROUP, "clusterrolebindings", bootstrappolicy.page_viewers_binding()))
        return wanted

    def completed(self, count: int) -> None:
        self.api.action(f"kube-apiserver created the default RBAC roles and bindings ({count} objects)")

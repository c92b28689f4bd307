"""kube-apiserver's post-start hook "rbac/bootstrap-roles" (pkg/registry/rbac/rest/storage_rbac.go
PostStartHook): once the apiserver serves, the default ClusterRoles and ClusterRoleBindings
(sim/auth/bootstrappolicy.py) are made to exist.  Upstream reconciles them (adding missing
rules to an `autoupdate` role); here the missing ones are created, every second until all are
there or 30 s have passed, like the priority classes' hook (sim/apiserver/bootstrap.py), through
the apiserver's own API so they are validated like any create; AlreadyExists (another
apiserver of an HA control plane was first) counts as done."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sim.auth import bootstrappolicy

if TYPE_CHECKING:
    from sim.apiserver.server import KubeAPIServer

HOOK_NAME = "rbac/bootstrap-roles"
POLL_INTERVAL = 1.0
POLL_TIMEOUT = 30.0
KINDS = (("clusterroles", bootstrappolicy.cluster_roles), ("clusterrolebindings", bootstrappolicy.cluster_role_bindings))


class BootstrapRolesHook:
    def __init__(self, api: "KubeAPIServer"):
        self.api = api
        self.deadline = 0.0
        self.done = False

    def start(self) -> None:
        self.done = False
        self.deadline = self.api.now + POLL_TIMEOUT
        self.api.call_later(POLL_INTERVAL, self.poll)

    def poll(self) -> None:
        api = self.api
        missing = [(resource, obj) for resource, make in KINDS for obj in make()
                   if ("", obj["metadata"]["name"]) not in api.cache.objects(f"{resource}.{bootstrappolicy.GROUP}")]
        if not missing:
            self.done = True
            return
        outcome = {"waiting": len(missing), "failed": False}

        def created(resp: dict) -> None:
            if resp["code"] not in (201, 409):
                outcome["failed"] = True
            outcome["waiting"] -= 1
            if outcome["waiting"]:
                return
            if not outcome["failed"]:
                self.done = True
                api.action(f"kube-apiserver created the default RBAC roles and bindings ({len(missing)} objects)")
            elif api.now + POLL_INTERVAL <= self.deadline:
                api.call_later(POLL_INTERVAL, self.poll)
            else:
                api.action(f"kube-apiserver: post-start hook {HOOK_NAME} failed: unable to create the default roles")

        for resource, obj in missing:
            api.handle({"verb": "create", "group": bootstrappolicy.GROUP, "version": "v1", "resource": resource,
                        "body": obj}, created)

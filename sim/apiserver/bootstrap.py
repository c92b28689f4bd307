"""kube-apiserver's post-start hooks that make default objects exist.

"scheduling/bootstrap-system-priority-classes" (pkg/registry/scheduling/rest/storage_scheduling.go
AddSystemPriorityClasses) makes sure system-node-critical and system-cluster-critical exist;
"rbac/bootstrap-roles" (sim/apiserver/rbacbootstrap.py) the default ClusterRoles and bindings.
Both poll the same way: once the apiserver serves, every second (wait.Poll(1s, 30s)) the
missing objects are created through the apiserver's own API, so they pass validation and
admission like any create; AlreadyExists (another apiserver of an HA control plane was first)
counts as done.  Upstream an apiserver whose hook fails for 30 s exits; here it gives up with a
trace action instead.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sim.api.scheduling import GROUP, system_priority_classes

if TYPE_CHECKING:
    from sim.apiserver.server import KubeAPIServer

POLL_INTERVAL = 1.0
POLL_TIMEOUT = 30.0


class CreateMissingHook:
    """A post-start hook that creates `wanted()`'s objects that do not exist yet."""

    name = ""
    failure = ""   # the end of the trace action when the hook gives up

    def __init__(self, api: "KubeAPIServer"):
        self.api = api
        self.deadline = 0.0
        self.done = False

    def wanted(self) -> list[tuple[str, str, dict]]:
        """(group, resource, object) of every object that must exist."""
        raise NotImplementedError

    def created(self, obj: dict) -> None:
        """An object this hook created (201)."""

    def completed(self, count: int) -> None:
        """Every one of the `count` missing objects now exists."""

    def start(self) -> None:
        self.done = False
        self.deadline = self.api.now + POLL_TIMEOUT
        self.api.call_later(POLL_INTERVAL, self.poll)

    def poll(self) -> None:
        api = self.api
        # The loopback client's GET: served from the watch cache, which mirrors etcd.
        missing = [(group, resource, obj) for group, resource, obj in self.wanted()
                   if ("", obj["metadata"]["name"]) not in api.cache.objects(f"{resource}.{group}")]
        if not missing:
            self.done = True
            return
        outcome = {"waiting": len(missing), "failed": False}

        def answered(obj: dict, resp: dict) -> None:
            if resp["code"] == 201:
                self.created(obj)
            elif resp["code"] != 409:  # AlreadyExists: done too
                outcome["failed"] = True
            outcome["waiting"] -= 1
            if outcome["waiting"]:
                return
            if not outcome["failed"]:
                self.done = True
                self.completed(len(missing))
            elif api.now + POLL_INTERVAL <= self.deadline:
                api.call_later(POLL_INTERVAL, self.poll)
            else:
                api.action(f"kube-apiserver: post-start hook {self.name} failed: {self.failure}")

        for group, resource, obj in missing:
            api.handle({"verb": "create", "group": group, "version": "v1", "resource": resource, "body": obj},
                       lambda resp, obj=obj: answered(obj, resp))


class SystemPriorityClassesHook(CreateMissingHook):
    name = "scheduling/bootstrap-system-priority-classes"
    failure = "unable to add default system priority classes"

    def wanted(self) -> list[tuple[str, str, dict]]:
        return [(GROUP, "priorityclasses", pc) for pc in system_priority_classes()]

    def created(self, obj: dict) -> None:
        self.api.action(f"kube-apiserver created PriorityClass {obj['metadata']['name']} with value {obj['value']}")

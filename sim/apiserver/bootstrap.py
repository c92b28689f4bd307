"""kube-apiserver's post-start hook "scheduling/bootstrap-system-priority-classes"
(pkg/registry/scheduling/rest/storage_scheduling.go AddSystemPriorityClasses).

Once the apiserver serves, it makes sure system-node-critical and system-cluster-critical
exist: every second (wait.Poll(1s, 30s)) it creates the missing ones through its own API, so
they pass validation and admission like any create; AlreadyExists (another apiserver of an HA
control plane was first) counts as done.  Upstream an apiserver that cannot create them in
30 s exits; here it gives up with a trace action instead.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sim.api.scheduling import GROUP, system_priority_classes

if TYPE_CHECKING:
    from sim.apiserver.server import KubeAPIServer

HOOK_NAME = "scheduling/bootstrap-system-priority-classes"
POLL_INTERVAL = 1.0
POLL_TIMEOUT = 30.0


class SystemPriorityClassesHook:
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
        # The loopback client's GET: served from the watch cache, which mirrors etcd.
        objects = api.cache.objects("priorityclasses.scheduling.k8s.io")
        missing = [pc for pc in system_priority_classes() if ("", pc["metadata"]["name"]) not in objects]
        if not missing:
            self.done = True
            return
        outcome = {"waiting": len(missing), "failed": False}

        def created(pc: dict, resp: dict) -> None:
            if resp["code"] == 201:
                api.action(f"kube-apiserver created PriorityClass {pc['metadata']['name']} with value {pc['value']}")
            elif resp["code"] != 409:  # AlreadyExists: done too
                outcome["failed"] = True
            outcome["waiting"] -= 1
            if outcome["waiting"]:
                return
            if not outcome["failed"]:
                self.done = True
            elif api.now + POLL_INTERVAL <= self.deadline:
                api.call_later(POLL_INTERVAL, self.poll)
            else:
                api.action(f"kube-apiserver: post-start hook {HOOK_NAME} failed: "
                           f"unable to add default system priority classes")

        for pc in missing:
            api.handle({"verb": "create", "group": GROUP, "version": "v1", "resource": "priorityclasses",
                        "body": pc}, lambda resp, pc=pc: created(pc, resp))

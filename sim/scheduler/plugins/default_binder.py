"""DefaultBinder (plugins/defaultbinder): binds through the pods/binding subresource
(a v1.Binding naming the node)."""
from __future__ import annotations

from sim.scheduler.framework.interface import BindPlugin


class DefaultBinder(BindPlugin):
    name = "DefaultBinder"

    def bind(self, state, pod, node_name: str, done):
        binding = {"apiVersion": "v1", "kind": "Binding",
                   "metadata": {"namespace": pod.namespace, "name": pod.name, "uid": pod.uid},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": node_name}}
        self.handle.client.bind(pod, binding, done)
        return None

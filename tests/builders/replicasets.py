"""ReplicaSets (apps/v1), their pod template built with MakePod.

    MakeReplicaSet().name("web").namespace("default").replicas(3).selector({"app": "web"})
                    .template(MakePod().labels({"app": "web"}).container("nginx", name="c")).manifest()

The engine's own manifest (what the scenario language and the dashboard create) stays
sim.scenario.replicaset_manifest; scenario() here is that one, for a test that wants it.
"""
from __future__ import annotations

from sim.scenario import replicaset_manifest
from tests.builders.generic import Builder
from tests.builders.pods import MakePod


class MakeReplicaSet(Builder):
    API_VERSION, KIND = "apps/v1", "ReplicaSet"

    def __init__(self):
        super().__init__(spec={})

    @staticmethod
    def scenario(name: str, replicas: int, image: str, cpu: str | None = None, memory: str | None = None,
                 **kw) -> dict:
        """sim.scenario.replicaset_manifest, as the engine builds one."""
        return replicaset_manifest(name, replicas, image, cpu, memory, **kw)

    def replicas(self, n: int) -> "MakeReplicaSet":
        self._o["spec"]["replicas"] = n
        return self

    def selector(self, match_labels: dict | None = None, match_expressions: list | None = None) -> "MakeReplicaSet":
        sel = {}
        if match_labels is not None:
            sel["matchLabels"] = dict(match_labels)
        if match_expressions is not None:
            sel["matchExpressions"] = list(match_expressions)
        self._o["spec"]["selector"] = sel
        return self

    def template(self, pod: MakePod | dict) -> "MakeReplicaSet":
        """spec.template: the pod's metadata and spec (its apiVersion/kind dropped)."""
        p = pod.obj() if isinstance(pod, Builder) else pod
        self._o["spec"]["template"] = {"metadata": p.get("metadata", {}), "spec": p.get("spec", {})}
        return self

    def min_ready_seconds(self, seconds: int) -> "MakeReplicaSet":
        self._o["spec"]["minReadySeconds"] = seconds
        return self

    def spec(self, **fields) -> "MakeReplicaSet":
        """Any other ReplicaSetSpec field, as given."""
        self._o["spec"].update(fields)
        return self

    def status(self, **fields) -> "MakeReplicaSet":
        self._section("status").update(fields)
        return self

"""Pods: upstream's PodWrapper and ContainerWrapper (pkg/scheduler/testing/wrappers.go).

    MakePod().name("p").namespace("default").uid("p").labels({"app": "web"})
             .container("nginx:1.27", name="app", cpu="100m", memory="64Mi")
             .node("worker-1").priority(100).toleration("dedicated", value="gpu", effect="NoSchedule")
             .obj()        # or .manifest() with apiVersion v1 / kind Pod

The pod starts as {"metadata": {}, "spec": {}}; `status` appears when a status field is set (or
status() is called). Methods given None leave the pod alone, so an optional argument can be
passed through (`.node(node_name)`), except labels(None), which sets {}.
"""
from __future__ import annotations

from tests.builders.generic import Builder


def make_container(image: str | None = None, *, name: str, cpu: str | None = None, memory: str | None = None,
                   requests: dict | None = None, limits: dict | None = None, **fields) -> dict:
    """A v1.Container: name, image, then resources when any requests (even {}) or limits are given
    (cpu / memory are added to the requests), then any other field as given."""
    c: dict = {"name": name}
    if image is not None:
        c["image"] = image
    if cpu is not None or memory is not None:
        requests = {**(requests or {}), **{k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}}
    if requests is not None or limits is not None:
        c["resources"] = {}
        if requests is not None:
            c["resources"]["requests"] = dict(requests)
        if limits is not None:
            c["resources"]["limits"] = dict(limits)
    c.update(fields)
    return c


class MakePod(Builder):
    API_VERSION, KIND = "v1", "Pod"

    def __init__(self):
        super().__init__(spec={})

    @property
    def _spec(self) -> dict:
        return self._o["spec"]

    def _set(self, key: str, value) -> "MakePod":
        if value is not None:
            self._spec[key] = value
        return self

    # -- metadata beyond ObjectMeta's basics -------------------------------------------------------
    def terminating(self, terminating: bool = True, ts: str = "2024-01-01T00:00:00Z") -> "MakePod":
        """Upstream's Terminating(): a deletionTimestamp (terminating(False) leaves the pod alone)."""
        return self.deletion_timestamp(ts) if terminating else self

    # -- containers --------------------------------------------------------------------------------
    def container(self, image: str | None = None, *, name: str | None = None, **fields) -> "MakePod":
        """Appends a container (make_container's fields); unnamed, it is "con<i>" as upstream's."""
        containers = self._spec.setdefault("containers", [])
        containers.append(make_container(image, name=name if name is not None else f"con{len(containers)}", **fields))
        return self

    def req(self, requests: dict, *, name: str | None = None, image: str | None = None) -> "MakePod":
        """Upstream's Req(resMap): a container asking for `requests`."""
        return self.container(image, name=name, requests=requests)

    def containers(self, containers: list) -> "MakePod":
        self._spec["containers"] = list(containers)
        return self

    def init_container(self, image: str | None = None, *, name: str, **fields) -> "MakePod":
        self._spec.setdefault("initContainers", []).append(make_container(image, name=name, **fields))
        return self

    # -- placement ---------------------------------------------------------------------------------
    def node(self, node_name: str | None) -> "MakePod":
        """spec.nodeName (a bound pod); None or "" leaves it unset."""
        return self._set("nodeName", node_name or None)

    def node_selector(self, selector: dict | None) -> "MakePod":
        return self._set("nodeSelector", None if selector is None else dict(selector))

    def affinity(self, affinity: dict | None) -> "MakePod":
        return self._set("affinity", None if affinity is None else dict(affinity))

    def node_affinity(self, node_affinity: dict) -> "MakePod":
        self._spec.setdefault("affinity", {})["nodeAffinity"] = node_affinity
        return self

    def node_affinity_in(self, key: str, values: list, field: bool = False) -> "MakePod":
        """Upstream's NodeAffinityIn: a required term with one In requirement (matchFields if field)."""
        term = {"matchFields" if field else "matchExpressions": [{"key": key, "operator": "In", "values": list(values)}]}
        return self.node_affinity({"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}})

    def pod_affinity(self, pod_affinity: dict) -> "MakePod":
        self._spec.setdefault("affinity", {})["podAffinity"] = pod_affinity
        return self

    def pod_anti_affinity(self, pod_anti_affinity: dict) -> "MakePod":
        self._spec.setdefault("affinity", {})["podAntiAffinity"] = pod_anti_affinity
        return self

    def toleration(self, key: str | None = None, *, operator: str | None = None, value: str | None = None,
                   effect: str | None = None, seconds: int | None = None) -> "MakePod":
        """Appends a toleration; with only a key it is upstream's Toleration(key) (operator Exists)."""
        t = {}
        if key is not None:
            t["key"] = key
        t["operator"] = operator or ("Equal" if value is not None else "Exists")
        if value is not None:
            t["value"] = value
        if effect is not None:
            t["effect"] = effect
        if seconds is not None:
            t["tolerationSeconds"] = seconds
        self._spec.setdefault("tolerations", []).append(t)
        return self

    def tolerations(self, tolerations: list | None) -> "MakePod":
        return self._set("tolerations", None if tolerations is None else list(tolerations))

    def spread_constraint(self, max_skew: int, topology_key: str, when_unsatisfiable: str = "DoNotSchedule",
                          selector: dict | None = None, **fields) -> "MakePod":
        """Upstream's SpreadConstraint: appends one topologySpreadConstraint (other fields, e.g.
        minDomains or matchLabelKeys, as given)."""
        c = {"maxSkew": max_skew, "topologyKey": topology_key, "whenUnsatisfiable": when_unsatisfiable}
        if selector is not None:
            c["labelSelector"] = selector
        c.update(fields)
        self._spec.setdefault("topologySpreadConstraints", []).append(c)
        return self

    def spread_constraints(self, constraints: list | None) -> "MakePod":
        return self._set("topologySpreadConstraints", None if constraints is None else list(constraints))

    # -- priority and the rest of the spec ------------------------------------------------------------
    def priority(self, priority: int | None) -> "MakePod":
        return self._set("priority", priority)

    def priority_class_name(self, name: str | None) -> "MakePod":
        return self._set("priorityClassName", name)

    def preemption_policy(self, policy: str | None) -> "MakePod":
        return self._set("preemptionPolicy", policy)

    def scheduler_name(self, name: str | None) -> "MakePod":
        return self._set("schedulerName", name)

    def spec(self, **fields) -> "MakePod":
        """Any other PodSpec field, as given (restartPolicy=..., overhead=...)."""
        self._spec.update(fields)
        return self

    # -- status ------------------------------------------------------------------------------------
    def status(self, **fields) -> "MakePod":
        """Creates status (empty if no fields) and sets the fields as given."""
        self._section("status").update(fields)
        return self

    def phase(self, phase: str | None) -> "MakePod":
        return self if phase is None else self.status(phase=phase)

    def start_time(self, ts: str | None) -> "MakePod":
        return self if ts is None else self.status(startTime=ts)

    def nominated_node_name(self, node: str | None) -> "MakePod":
        return self if node is None else self.status(nominatedNodeName=node)

    def condition(self, type: str, status: str, reason: str | None = None) -> "MakePod":
        c = {"type": type, "status": status}
        if reason is not None:
            c["reason"] = reason
        self._section("status").setdefault("conditions", []).append(c)
        return self

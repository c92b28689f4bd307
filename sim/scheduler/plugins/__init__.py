"""The in-tree plugin registry (pkg/scheduler/framework/plugins/registry.go): upstream's plugin
name -> "module:Class".  One module per plugin; adding a plugin is its module plus one line here.
Modules are imported on first use, so a plugin whose module is not written yet is simply
unavailable (left out of the default profile, an error if a configuration names it).
"""
from __future__ import annotations

import importlib

REGISTRY: dict[str, str] = {
    "PrioritySort": "sim.scheduler.plugins.priority_sort:PrioritySort",
    "SchedulingGates": "sim.scheduler.plugins.scheduling_gates:SchedulingGates",
    "NodeUnschedulable": "sim.scheduler.plugins.node_unschedulable:NodeUnschedulable",
    "NodeName": "sim.scheduler.plugins.node_name:NodeName",
    "TaintToleration": "sim.scheduler.plugins.taint_toleration:TaintToleration",
    "NodeAffinity": "sim.scheduler.plugins.node_affinity:NodeAffinity",
    "NodePorts": "sim.scheduler.plugins.node_ports:NodePorts",
    "NodeResourcesFit": "sim.scheduler.plugins.node_resources_fit:NodeResourcesFit",
    "NodeResourcesBalancedAllocation": "sim.scheduler.plugins.node_resources_balanced_allocation:NodeResourcesBalancedAllocation",
    "ImageLocality": "sim.scheduler.plugins.image_locality:ImageLocality",
    "InterPodAffinity": "sim.scheduler.plugins.inter_pod_affinity:InterPodAffinity",
    "PodTopologySpread": "sim.scheduler.plugins.pod_topology_spread:PodTopologySpread",
    "DefaultPreemption": "sim.scheduler.plugins.default_preemption:DefaultPreemption",
    "DefaultBinder": "sim.scheduler.plugins.default_binder:DefaultBinder",
    "VolumeBinding": "sim.scheduler.plugins.volume_binding:VolumeBinding",
    "VolumeRestrictions": "sim.scheduler.plugins.volume_restrictions:VolumeRestrictions",
}

_loaded: dict[str, type | None] = {}


def get(name: str) -> type | None:
    """The plugin class registered as `name`, or None when unknown or not implemented yet."""
    if name in _loaded:
        return _loaded[name]
    target = REGISTRY.get(name)
    cls = None
    if target is not None:
        module, _, attr = target.partition(":")
        try:
            cls = getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as e:
            if e.name != module:   # the module exists but one of its imports is missing: a real bug
                raise
    _loaded[name] = cls
    return cls


def available(name: str) -> bool:
    return get(name) is not None

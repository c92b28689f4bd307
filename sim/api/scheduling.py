"""The scheduling.k8s.io API group: PriorityClass constants and the system classes every
cluster has (its Go type is in sim.api.schema).

Mirrors pkg/apis/scheduling/types.go (the constants) and pkg/apis/scheduling/v1/helpers.go
(SystemPriorityClasses, IsKnownSystemPriorityClass).
"""
from __future__ import annotations

from sim.api.meta import deep_copy

GROUP = "scheduling.k8s.io"

# pkg/apis/scheduling/types.go
DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS_EXISTS = 0
HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY
SYSTEM_PRIORITY_CLASS_PREFIX = "system-"
SYSTEM_CLUSTER_CRITICAL = SYSTEM_PRIORITY_CLASS_PREFIX + "cluster-critical"
SYSTEM_NODE_CRITICAL = SYSTEM_PRIORITY_CLASS_PREFIX + "node-critical"

# core/v1 PreemptionPolicy values (k8s.io/api/core/v1/types.go)
PREEMPT_LOWER_PRIORITY = "PreemptLowerPriority"
PREEMPT_NEVER = "Never"
PREEMPTION_POLICIES = (PREEMPT_LOWER_PRIORITY, PREEMPT_NEVER)

# int32 bounds: PriorityClass.value and PodSpec.priority are int32 in the Go types.
INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1

_SYSTEM_PRIORITY_CLASSES = (
    {"apiVersion": f"{GROUP}/v1", "kind": "PriorityClass", "metadata": {"name": SYSTEM_NODE_CRITICAL},
     "value": SYSTEM_CRITICAL_PRIORITY + 1000,
     "description": "Used for system critical pods that must not be moved from their current node."},
    {"apiVersion": f"{GROUP}/v1", "kind": "PriorityClass", "metadata": {"name": SYSTEM_CLUSTER_CRITICAL},
     "value": SYSTEM_CRITICAL_PRIORITY,
     "description": "Used for system critical pods that must run in the cluster, but can be moved to "
                    "another node if necessary."},
)
SYSTEM_PRIORITY_CLASS_NAMES = tuple(pc["metadata"]["name"] for pc in _SYSTEM_PRIORITY_CLASSES)


def system_priority_classes() -> list[dict]:
    """The classes kube-apiserver creates at startup (a copy: callers may change them)."""
    return [deep_copy(pc) for pc in _SYSTEM_PRIORITY_CLASSES]


def is_known_system_priority_class(name: str, value, global_default: bool) -> tuple[bool, str]:
    """IsKnownSystemPriorityClass: (True, "") when name, value and globalDefault match a system
    class exactly, else (False, why)."""
    for spc in _SYSTEM_PRIORITY_CLASSES:
        if spc["metadata"]["name"] == name:
            if spc["value"] != value:
                return False, f"value of {name} PriorityClass must be {spc['value']}"
            if bool(global_default) != bool(spc.get("globalDefault", False)):
                return False, f"globalDefault of {name} PriorityClass must be {'true' if spc.get('globalDefault') else 'false'}"
            return True, ""
    return False, f"{name} is not a known system priority class"


"""The scheduling framework (pkg/scheduler/framework): the plugin interface, the per-node
NodeInfo and the columnar NodeTable, the runtime that runs a profile's plugins, and the
KubeSchedulerConfiguration defaults.  See interface.py for how a plugin is written."""
from sim.scheduler.framework.interface import (  # noqa: F401
    ERROR, MAX_NODE_SCORE, PENDING, SKIP, SUCCESS, UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE, WAIT,
    CycleState, NodeStatusVector, NodeToStatus, PreFilterResult, PostFilterResult, NominatingInfo, Status)
from sim.scheduler.framework.nodeinfo import NodeInfo  # noqa: F401
from sim.scheduler.framework.podinfo import PodInfo  # noqa: F401

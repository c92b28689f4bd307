"""The simulation worker: the one place where simulated clusters run (DESIGN.md).

    worker.py      SimulationWorker: lifecycle, the frame loop, serving commands
    commands.py    the command table: one handler per op
    pacing.py      virtual time against the wall clock, engine work in bounded slices
    frames.py      what a frame carries: ranked, grouped, capped events; summarised snapshots
    durability.py  persisting committed writes, before an acknowledged write is answered
    restore.py     bringing persisted clusters back, or serving them broken for repair
    running.py     RunningCluster: one engine and the worker's bookkeeping for it
    gcpolicy.py    keeping the garbage collector from pausing the server (gc.freeze)
    shutdown.py    stop signals, and the watchdog that ends a stop within seconds
    channels.py    which channel a cluster's commands and frames travel on

The cluster configuration documents are parsed in sim/clusterconfig.py, shared with the
scenario language.
"""
from cluster.worker.channels import group_for, worker_channel_for
from cluster.worker.commands import MAX_ADVANCE_SECONDS, CommandError
from cluster.worker.frames import GROUPED_MESSAGE_TYPES, LOG_KINDS, MAX_FRAME_EVENTS, hop_rank
from cluster.worker.pacing import MAX_SPEED, MIN_SPEED
from cluster.worker.running import RunningCluster
from cluster.worker.worker import SimulationWorker

__all__ = ["SimulationWorker", "RunningCluster", "CommandError", "group_for", "worker_channel_for", "hop_rank",
           "GROUPED_MESSAGE_TYPES", "LOG_KINDS", "MAX_FRAME_EVENTS", "MIN_SPEED", "MAX_SPEED",
           "MAX_ADVANCE_SECONDS"]

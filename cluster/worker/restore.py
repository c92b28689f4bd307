"""Bringing persisted clusters back after a restart, whatever the database holds.

`restore_cluster` hands a persisted cluster to `Cluster.restore` and waits (in slices, within a
wall-time budget) until its kube-apiserver serves what etcd holds, like a readiness probe after
a real restart.  Any failure — a corrupt row, a value the engine cannot take, a bug — gives a
BROKEN RunningCluster (no engine, the error kept) instead of an exception: the worker starts,
the other clusters run, and the broken one can be inspected and repaired from the page and the
control API (reset it to its template, delete it, delete the stored key that breaks it, retry).
"""
from __future__ import annotations

import asyncio
import logging
import time

from cluster import persistence
from cluster.worker.pacing import run_request_slice, run_slice
from cluster.worker.running import RunningCluster
from sim.cluster import Cluster

log = logging.getLogger("cluster.worker")

# Virtual seconds a restored control plane may take to come up before it is served anyway.
READY_TIMEOUT = 10.0
# ... and the wall seconds that may take (a cluster with a huge backlog of work is served
# as it is; its controllers go on from there).
READY_WALL_SECONDS = 5.0
_READY_PROBE = {"verb": "get", "group": "", "version": "v1", "resource": "namespaces", "namespace": None,
                "name": "default", "subresource": None, "body": None, "patch_type": None, "query": {}}


async def wait_ready(engine: Cluster) -> None:
    """Run a restored engine until its kube-apiserver answers a read of the `default`
    namespace, for at most READY_TIMEOUT virtual and READY_WALL_SECONDS wall seconds."""
    deadline = engine.now + READY_TIMEOUT
    started = time.monotonic()
    while engine.now < deadline and time.monotonic() - started < READY_WALL_SECONDS:
        pending = engine.begin_request(_READY_PROBE)
        while (resp := await run_request_slice(engine, pending, 0.02)) is None:
            await asyncio.sleep(0)
            if time.monotonic() - started >= READY_WALL_SECONDS:
                return
        if resp.get("code") == 200:
            return
        target = engine.now + 0.05
        while not await run_slice(engine, target, 0.02):
            await asyncio.sleep(0)


async def restore_cluster(p: persistence.PersistedCluster) -> RunningCluster:
    """A RunningCluster for the persisted cluster `p`: running, or broken (never raises)."""
    rc = RunningCluster(p.name, None, speed=p.speed, paused=p.paused)
    if p.error is not None:
        return _broken(rc, p.error)
    try:
        engine = Cluster.restore(p.name, p.topology, p.etcd_log, p.time,
                                 compacted_revision=p.compacted_revision, etcd_disks=p.etcd_disks)
        rc.engine = engine
        await wait_ready(engine)
    except Exception as e:  # whatever the stored state holds, the worker starts
        log.exception("cluster %s could not be restored; it is served broken", p.name)
        rc.engine = None
        return _broken(rc, f"{type(e).__name__}: {e}")
    rc.persisted_revision = p.persisted_revision
    rc.persisted_time = p.time
    rc.persisted_topology = p.topology
    rc.persisted_clock = (p.speed, p.paused)
    rc.persisted_disks = p.etcd_disks
    log.info("restored cluster %s at t=%.1fs (%d etcd entries)", p.name, p.time, len(p.etcd_log))
    return rc


def _broken(rc: RunningCluster, error: str) -> RunningCluster:
    rc.broken = error
    rc.paused = True
    rc.log.append({"frame": 0, "kind": "error", "component": "pilothouse",
                   "message": f"the cluster could not be restored: {error}"})
    return rc

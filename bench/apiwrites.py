"""API-write benchmark (no Django): the cost of a cluster's writes at rest, without pods.

BENCH_NODES workers (default 100) and nothing else: what runs at rest is each kubelet's node
Lease renewal (a merge patch every 10 s), its node GET every 10 s and status patch every 5
minutes, and the control plane's own periodic work - so the time is chiefly that of writes
through kube-apiserver (decode, admission, managedFields, validation), etcd's Raft and keyspace,
the watch cache and the clients.  The cluster is built as bench/kubelet.py builds it, runs 30
virtual seconds, then 600 at rest; the gc policy is the worker's (bench/kubelet.py Freezer).

Prints name=value lines:
  <n>_nodes_updates                 updates and patches served at rest
  <n>_nodes_cpu_seconds             CPU seconds of this process for the 600 virtual s
  <n>_nodes_cpu_us_per_update       the same per update (all of the cluster's work at rest,
                                    node GETs and timers included, divided by the updates)
  <n>_nodes_virtual_per_cpu         virtual seconds per CPU second

On a shared machine take the best of a few runs: CPU time, not wall time, and still noisy.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import kubelet as bench  # noqa: E402

AT_REST_SECONDS = 600.0


def main() -> None:
    bench.FREEZER = bench.Freezer()
    n = int(os.environ.get("BENCH_NODES") or 100)
    c = bench.build(n)
    bench.advance(c, 30)
    server = c.apiserver
    served = [0]
    do_update = server.do_update

    def counting(res, req, reply):
        served[0] += 1
        return do_update(res, req, reply)

    server.do_update = counting
    cpu = time.process_time()
    bench.advance(c, AT_REST_SECONDS)
    cpu = time.process_time() - cpu
    name = f"n{n}"
    print(f"{name}_nodes_updates={served[0]}")
    print(f"{name}_nodes_cpu_seconds={cpu:.2f}")
    print(f"{name}_nodes_cpu_us_per_update={cpu / max(1, served[0]) * 1e6:.0f}")
    print(f"{name}_nodes_virtual_per_cpu={AT_REST_SECONDS / cpu:.1f}")


if __name__ == "__main__":
    main()

"""CPU seconds (process time, robust on a shared machine where wall time is not) of
bench/engine.py's n100_p1000 workload: 100 workers idle for 60 s, then ten ReplicaSets of 100
pods each until all 1,000 run.  Used to measure what managedFields cost the engine: run it on
two trees (`python bench/write_cost.py` in each) and compare busy_cpu and rss_mb.

Prints one line: idle60s_cpu=... busy_cpu=... virtual=... rss_mb=...
"""
from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import NGINX_TAGS, build, count_running  # noqa: E402
from sim.scenario import replicaset_manifest  # noqa: E402


def main() -> None:
    c = build(100)
    t = time.process_time()
    c.advance(60)
    idle = time.process_time() - t
    t = time.process_time()
    for i in range(10):
        c.request({"verb": "create", "group": "apps", "resource": "replicasets", "namespace": "default",
                   "body": replicaset_manifest(f"app-{i}", 100, f"nginx:{NGINX_TAGS[i % 5]}", "100m", "128Mi")})
    while count_running(c) < 1000:
        c.advance(1.0)
    busy = time.process_time() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"idle60s_cpu={idle:.2f} busy_cpu={busy:.2f} virtual={c.now:.0f} rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()

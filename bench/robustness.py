"""Robustness benchmark (issue 8): no input may hang, crash or corrupt a cluster.

Starts real `manage.py demo` servers (each on its own temporary SQLite file) and prints, as
name=value lines at the end:

  fuzz_cases                  requests the hypothesis fuzz sent to the Kubernetes API's write endpoints
  fuzz_5xx                    of them answered with a 5xx (goal 0)
  fuzz_non_status             error answers that were not a Kubernetes Status (goal 0)
  fuzz_changed                refused writes after which something stored had changed (goal 0)
  version_p99_ms_under_load   GET /version p99 while a 100,000-replica ReplicaSet fills at 50x (goal <= 1000)
  max_frame_gap_ms_under_load the longest wait between two WebSocket frames meanwhile
  pace_under_load             the share of the asked speed the cluster really ran at meanwhile
  sigterm_seconds             SIGTERM to exit, while the ReplicaSet fills (goal <= 5)
  crash_rounds                kill -9 rounds during a stream of creates
  crash_acknowledged          creates answered 201 over all rounds
  crash_acknowledged_lost     of them missing after the restart (goal 0)
  crash_duplicates            requests that made two pods (goal 0)

BENCH_QUICK=1 runs fewer fuzz cases (300 instead of 3,000), a shorter load and 5 crash rounds
instead of 30.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.api.fuzzing import run_fuzz  # noqa: E402
from tests.conftest import AS_MAKE_DEMO, LiveServer  # noqa: E402
from tests.robustness import crash_round, sigterm_seconds, version_latency_under_load, wait_bootstrapped  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
FUZZ_EXAMPLES = 300 if QUICK else 3000
LOAD_SECONDS = 10 if QUICK else 30
CRASH_ROUNDS = 5 if QUICK else 30


def main() -> None:
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="pilothouse-bench-") as tmp:
        # -- fuzz ---------------------------------------------------------------------------
        server = LiveServer(Path(tmp) / "fuzz", env=AS_MAKE_DEMO).start()
        try:
            status, body = server.request("POST", "/sim/v1/clusters", {"name": "fuzz"})
            assert status == 201, body
            wait_bootstrapped(server, "fuzz")
            t = time.monotonic()
            result = run_fuzz(server.cluster_url("fuzz"), examples=FUZZ_EXAMPLES, seed=1)
            print(f"fuzz: {result.cases} cases in {time.monotonic() - t:.0f}s, {result.accepted} accepted; "
                  f"first failures: {result.failures[:5]}", flush=True)
            figures.update(fuzz_cases=result.cases, fuzz_5xx=result.server_errors,
                           fuzz_non_status=result.non_status, fuzz_changed=result.changed)
        finally:
            server.stop()

        # -- load, then SIGTERM while it is busy ----------------------------------------------
        server = LiveServer(Path(tmp) / "load", env=AS_MAKE_DEMO).start()
        try:
            load = version_latency_under_load(server, replicas=100_000, seconds=LOAD_SECONDS)
            print(f"load: {load}", flush=True)
            figures.update(version_p99_ms_under_load=round(load.p99_ms, 1),
                           max_frame_gap_ms_under_load=round(load.max_frame_gap_ms, 1),
                           pace_under_load=load.pace)
            figures["sigterm_seconds"] = round(sigterm_seconds(server), 2)
        finally:
            server.stop()

        # -- kill -9 during writes ------------------------------------------------------------
        server = LiveServer(Path(tmp) / "crash", env=AS_MAKE_DEMO).start()
        acknowledged = lost = duplicates = 0
        try:
            for i in range(CRASH_ROUNDS):
                r = crash_round(server, f"b{i}", seconds=1.0 + (i % 5) * 0.4)
                acknowledged += r.acknowledged
                lost += len(r.lost)
                duplicates += len(r.duplicates)
                print(f"crash round {i}: {r.acknowledged} acknowledged of {r.attempted} sent, "
                      f"{len(r.lost)} lost, {len(r.duplicates)} duplicated", flush=True)
        finally:
            server.stop()
        figures.update(crash_rounds=CRASH_ROUNDS, crash_acknowledged=acknowledged,
                       crash_acknowledged_lost=lost, crash_duplicates=duplicates)
    for name, value in figures.items():
        print(f"{name}={value}")


if __name__ == "__main__":
    main()

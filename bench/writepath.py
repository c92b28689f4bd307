"""Micro-benchmarks of the write path's pieces (no Django), CPU microseconds, best of 5:

  watch_event_decode_<kind>_us    storage.decode of a stored Lease / Node / Pod value (the
                                  cacher's json.loads + Go type check), the type-check memo cleared
  watch_event_own_write_<kind>_us the same event for a value this apiserver wrote itself
                                  (KubeAPIServer.decode_event hands over the object it encoded);
                                  absent on a tree without it
  lease_renewal_managed_fields_us fieldmanagement.track of a kubelet's Lease renewal
  message_us                      one message sent and delivered between two components
  timer_us                        one component timer set and fired

Compare trees by running it from each (`cd <tree> && .venv/bin/python bench/writepath.py`);
on a shared machine run them alternately, a few times.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import kubelet as bench  # noqa: E402
from sim.api.patch import merge_patch  # noqa: E402
from sim.apiserver import fieldmanagement, storage  # noqa: E402
from sim.component import Component  # noqa: E402
from sim.kernel import Kernel  # noqa: E402


def best(fn, n: int) -> float:
    out = float("inf")
    for _ in range(5):
        t0 = time.process_time()
        fn(n)
        out = min(out, (time.process_time() - t0) / n * 1e6)
    return out


def main() -> None:
    bench.FREEZER = bench.Freezer()
    c = bench.build(2)
    s = c.apiserver
    c.request({"verb": "create", "resource": "pods", "namespace": "default", "body": bench.probed_pod("p", "worker-1")})
    bench.advance(c, 40)
    figures = {}
    for group, name, kind in (("coordination.k8s.io", "leases", "lease"), ("", "nodes", "node"), ("", "pods", "pod")):
        res = s.registry.lookup(group, name)
        ckey, obj = sorted(s.cache.objects(res.gr).items())[-1]
        stored = dict(obj, metadata={k: v for k, v in obj["metadata"].items() if k != "resourceVersion"})
        value = json.dumps(stored, separators=(",", ":"))
        key = res.key(ckey[0] or None, ckey[1])

        def decode(n):
            for _ in range(n):
                storage._type_checks.clear()
                storage.decode(res, ckey, value)
        figures[f"watch_event_decode_{kind}_us"] = best(decode, 1000)
        if hasattr(s, "decode_event"):
            def own(n):
                for _ in range(n):
                    s.remember_write(res, key, value, stored)
                    s.decode_event(res, key, ckey, value)
            figures[f"watch_event_own_write_{kind}_us"] = best(own, 1000)

    res = s.registry.lookup("coordination.k8s.io", "leases")
    ckey, cur = sorted(s.cache.objects(res.gr).items())[0]
    req = {"verb": "patch", "group": res.group, "resource": res.name, "namespace": ckey[0], "name": ckey[1],
           "body": {"spec": {"renewTime": "2026-01-01T00:00:11.000000Z"}},
           "user_agent": "kubelet/v1.36.4 (linux/amd64) kubernetes/0000000"}
    decoded, _, _ = s.decode(res, req, merge_patch(cur, req["body"]))
    new = res.strategy.prepare_for_update(res, decoded, cur, s)
    new["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"]

    def track(n):
        for _ in range(n):
            fieldmanagement.track(s, res, req, cur, new)
    figures["lease_renewal_managed_fields_us"] = best(track, 3000)

    class Echo(Component):
        component = "echo"

        def on_message(self, src, msg):
            pass

        def on_timer(self, name, data):
            pass
    k = Kernel(seed=1)
    k.trace_enabled = False
    a, b = Echo("h1"), Echo("h2")
    for x in (a, b):
        k.add_component(x)
        x.start()
    msg = {"type": "x"}

    def messages(n):
        for _ in range(n):
            a.send(b.address, msg, "x")
        k.run_until(k.now + 10)

    def timers(n):
        for i in range(n):
            a.set_timer(0.001 * (i % 100), "t")
        k.run_until(k.now + 10)
    figures["message_us"] = best(messages, 20000)
    figures["timer_us"] = best(timers, 20000)
    for name, v in figures.items():
        print(f"{name}={v:.2f}")


if __name__ == "__main__":
    main()

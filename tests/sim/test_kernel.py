"""The kernel: ordering, virtual time, and byte-identical traces for the same seed."""
from sim.cluster import Cluster, ClusterConfig
from sim.kernel import Kernel
from sim.scenario import Scenario


def test_events_run_in_time_then_schedule_order():
    k = Kernel(seed=1)
    seen = []
    k.call_at(2.0, lambda: seen.append("b"))
    k.call_at(1.0, lambda: seen.append("a"))
    k.call_at(2.0, lambda: seen.append("c"))
    h = k.call_at(1.5, lambda: seen.append("cancelled"))
    k.cancel(h)
    k.run_until(5.0)
    assert seen == ["a", "b", "c"]
    assert k.now == 5.0


def test_run_until_stops_on_condition_at_that_event():
    k = Kernel()
    seen = []
    for t in (1, 2, 3):
        k.call_at(t, lambda t=t: seen.append(t))
    k.run_until(10, stop=lambda: 2 in seen)
    assert seen == [1, 2] and k.now == 2


LESSON = """
create replicaset web replicas=4 image=nginx:1.27 cpu=200m memory=64Mi
advance 15s
kill-node worker-2
advance 400s
restore-node worker-2
advance 30s
"""


def _trace(seed: int) -> bytes:
    c = Cluster("det", ClusterConfig.default(seed=seed))
    c.advance(20)
    Scenario(c).run(LESSON)
    return c.kernel.trace_bytes(c.drain_events())


def test_same_seed_same_commands_give_byte_identical_trace():
    a, b = _trace(11), _trace(11)
    assert len(a) > 100_000  # a real, busy trace
    assert a == b


def test_a_different_seed_gives_a_different_trace():
    assert _trace(11) != _trace(12)

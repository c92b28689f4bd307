from sim.component import Component
from sim.kernel import Kernel


class Echo(Component):
    component = "echo"

    def __init__(self, host):
        super().__init__(host)
        self.got = []

    def on_message(self, src, msg):
        self.got.append((self.now, src, msg["n"]))


def _pair():
    k = Kernel(seed=5)
    a, b = Echo("h1"), Echo("h2")
    for c in (a, b):
        k.add_component(c)
        c.start()
    return k, a, b


def test_messages_arrive_after_link_latency():
    k, a, b = _pair()
    a.send(b.address, {"type": "x", "n": 1})
    k.run_until(1)
    (t, src, n), = b.got
    assert src == "echo@h1" and n == 1
    assert 0.0005 <= t <= 0.001  # 0.5 ms + up to 0.5 ms jitter between hosts


def test_cut_host_neither_sends_nor_receives_and_the_drop_is_traced():
    k, a, b = _pair()
    k.network.cut("h2")
    a.send(b.address, {"type": "x", "n": 1})
    b.send(a.address, {"type": "x", "n": 2})
    k.run_until(1)
    assert a.got == [] and b.got == []
    assert [e["kind"] for e in k.drain_trace()] == ["drop", "drop"]
    k.network.reconnect("h2")
    a.send(b.address, {"type": "x", "n": 3})
    k.run_until(2)
    assert [g[2] for g in b.got] == [3]


def test_message_in_flight_is_lost_when_the_host_is_cut():
    k, a, b = _pair()
    a.send(b.address, {"type": "x", "n": 1})
    k.network.cut("h2")
    k.run_until(1)
    assert b.got == []


def test_lossy_link_drops_about_its_share():
    k, a, b = _pair()
    k.network.set_link("h1", "h2", loss=0.3)
    for i in range(2000):
        a.send(b.address, {"type": "x", "n": i})
    k.run_until(1)
    assert 1250 < len(b.got) < 1550


def test_stopped_component_ignores_messages_and_old_timers():
    k, a, b = _pair()
    fired = []
    b.call_later(1.0, lambda: fired.append(1))
    b.stop()
    b.start()
    a.send(b.address, {"type": "x", "n": 1})
    k.run_until(2)
    assert fired == [] and len(b.got) == 1


def test_messages_between_two_addresses_keep_their_order():
    """Streams (TCP, HTTP/2, gRPC) never reorder: jitter delays, it does not overtake."""
    k, a, b = _pair()
    for i in range(200):
        a.send(b.address, {"type": "x", "n": i})
    k.run_until(1)
    assert [g[2] for g in b.got] == list(range(200))

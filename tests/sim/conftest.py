import pytest

from sim.cluster import Cluster, ClusterConfig
from sim.kernel import Kernel
from tests.builders import MakePod


@pytest.fixture(autouse=True)
def really_crash(monkeypatch):
    """utilruntime.ReallyCrash for the engine's tests: an exception the kernel would recover
    from in production fails the test instead.  Tests of that recovery turn it off."""
    monkeypatch.setattr(Kernel, "really_crash", True)


@pytest.fixture
def cluster():
    """A default cluster (cp-1 + 3 workers), booted for 20 virtual seconds."""
    c = Cluster("t", ClusterConfig.default(seed=3))
    c.advance(20)
    return c


def ok(resp, code=None):
    assert resp["code"] < 400, resp
    if code is not None:
        assert resp["code"] == code, resp
    return resp["body"]


def create_pod(c, name, cpu="100m", memory="64Mi", image="nginx:1.27", **spec):
    """Creates the suite's usual pod: one container "app" asking for 100m CPU and 64Mi."""
    body = MakePod().name(name).namespace("default").container(image, name="app", cpu=cpu, memory=memory).spec(**spec)
    return c.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body.manifest()})


def get_pod(c, name):
    return c.request({"verb": "get", "resource": "pods", "namespace": "default", "name": name})


def advance_until(cluster, predicate, limit: float, step: float = 0.5) -> float:
    """Advance the virtual clock in steps until predicate() holds; the virtual time it took.
    Fails when `limit` virtual seconds pass first (a bounded wait, never sleep-and-hope)."""
    start = cluster.now
    while not predicate():
        assert cluster.now - start < limit, f"condition not met within {limit} virtual seconds"
        cluster.advance(step)
    return cluster.now - start

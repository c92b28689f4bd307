"""The cluster document (sim/clusterconfig.py): one parser for the control API, the dashboard
and the scenario language; every field checked before anything is built."""
from __future__ import annotations

import pytest

from sim.clusterconfig import ConfigError, config_from_spec, config_from_words


@pytest.mark.parametrize("args, message", [
    ({"etcd": {"members": 4}}, "1, 3, 5 or 7"),
    ({"etcd": {"members": True}}, "1, 3, 5 or 7"),
    ({"etcd": {"topology": "ring"}}, "stacked"),
    ({"etcd": {"heartbeatInterval": "0s"}}, "greater than 0"),
    ({"etcd": {"heartbeatInterval": "300ms", "electionTimeout": "1s"}}, "at least 5 times"),
    ({"etcd": {"electionTimeout": "2m"}}, "at most 50s"),
    ({"etcd": {"learners": 1}}, "unknown field"),
    ({"etcd": []}, "must be an object"),
    ({"nodeMonitorGracePeriod": "later"}, "nodeMonitorGracePeriod"),
    ({"defaultTolerationSeconds": -1}, "from 0 to"),
    ({"seed": "x"}, "seed"),
    ({"speed": 3}, "unknown field"),
    ({"nodes": "cp-1"}, "nodes must be a list"),
])
def test_config_validation(args, message):
    with pytest.raises(ConfigError) as e:
        config_from_spec(args)
    assert message in str(e.value)


def test_config_defaults_are_the_demo_with_three_stacked_members():
    cfg = config_from_spec({})
    assert cfg.etcd_members == 3 and cfg.etcd_topology == "stacked"
    assert [n.name for n in cfg.nodes] == ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2", "worker-3"]
    assert cfg.etcd_heartbeat_interval == 0.1 and cfg.etcd_election_timeout == 1.0


def test_config_default_members_follow_the_nodes_and_topology():
    one_cp = [{"name": "cp-1", "role": "control-plane"}, {"name": "w-1"}]
    cfg = config_from_spec({"nodes": one_cp})
    assert (cfg.etcd_members, cfg.etcd_topology) == (1, "stacked")
    cfg = config_from_spec({"nodes": one_cp, "etcd": {"topology": "external"}})
    assert (cfg.etcd_members, cfg.etcd_topology) == (3, "external")
    cfg = config_from_spec({"etcd": {"topology": "external", "members": 5}})
    assert cfg.etcd_members == 5 and [n.name for n in cfg.nodes if n.role == "control-plane"] == ["cp-1"]




@pytest.mark.parametrize("node, message", [
    ({"name": "w-1", "cpu": "1e20"}, "cpu: must be at most 4096"),
    ({"name": "w-1", "memory": "1e100"}, "memory: must be at most"),
    ({"name": "w-1", "cpu": "1e309"}, "cpu"),
    ({"name": "w-1", "cpu": " 1"}, "invalid quantity"),
    ({"name": "w-1", "cpu": "0"}, "greater than 0"),
    ({"name": "w-1", "cpu": float("nan")}, "finite"),
    ({"name": "w-1", "memory": ["8Gi"]}, "quantity"),
    ({"name": "W_1"}, "RFC 1123"),
    ({"name": "w-1", "role": "boss"}, "role"),
    ({"name": "w-1", "gpus": 1}, "unknown field"),
    ("w-1", "must be an object"),
])
def test_a_node_is_checked_before_anything_is_built(node, message):
    with pytest.raises(ConfigError) as e:
        config_from_spec({"nodes": [{"name": "cp-1", "role": "control-plane"}, node]})
    assert message in str(e.value) and "nodes[1]" in str(e.value)


def test_huge_numbers_and_lists_are_refused():
    with pytest.raises(ConfigError, match="int64"):
        config_from_spec({"seed": 2**70})
    with pytest.raises(ConfigError, match="at most 5000 nodes"):
        config_from_spec({"nodes": [{"name": f"n-{i}"} for i in range(5001)]})
    with pytest.raises(ConfigError, match="given twice"):
        config_from_spec({"nodes": [{"name": "cp-1", "role": "control-plane"}, {"name": "cp-1"}]})
    with pytest.raises(ConfigError, match="nodeMonitorGracePeriod: must be at most"):
        config_from_spec({"nodeMonitorGracePeriod": "10000h"})


def test_the_scenario_line_is_the_same_document():
    cfg = config_from_words(["seed=12", "workers=2", "etcd=3", "topology=external"])
    assert cfg.seed == 12 and (cfg.etcd_members, cfg.etcd_topology) == (3, "external")
    assert [n.name for n in cfg.nodes] == ["cp-1", "worker-1", "worker-2"]
    cfg = config_from_words(["control-planes=3", "grace=40s", "toleration=60s"])
    assert cfg.etcd_members == 3 and cfg.node_monitor_grace_period == 40.0 and cfg.default_toleration_seconds == 60
    with pytest.raises(ConfigError, match="unknown setting"):
        config_from_words(["replicas=3"])
    with pytest.raises(ConfigError, match="cpu"):
        config_from_words(["cpu=1e20"])
    with pytest.raises(ConfigError, match="workers must be from"):
        config_from_words(["workers=999999999"])

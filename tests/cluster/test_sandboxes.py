"""A sandbox's template (cluster/sandboxes.py): the form becomes a cluster spec the engine
accepts, with kubeadm's topologies, and bad input is a readable error."""
from __future__ import annotations

import pytest

from cluster import sandboxes
from sim.clusterconfig import ConfigError, config_from_spec

FORM = {"owner": "Ada", "workers": "2", "topology": "single", "etcd_members": "3", "runtime": "containerd",
        "cni": "flannel"}


@pytest.mark.parametrize("topology, members, planes, etcd_topology", [
    ("single", "3", 1, "stacked"),     # a single control plane has one stacked member whatever is asked
    ("stacked", "3", 3, "stacked"),
    ("stacked", "5", 5, "stacked"),
    ("external", "5", 1, "external"),
])
def test_each_topology_is_a_cluster_the_engine_accepts(topology, members, planes, etcd_topology):
    name, spec = sandboxes.spec_from_form({**FORM, "topology": topology, "etcd_members": members,
                                           "runtime": "cri-o", "cni": "calico"})
    assert name == "ada-sandbox" and spec["access"] == "owned" and spec["owner"] == "Ada"
    config = config_from_spec(spec)
    roles = [n.role for n in config.nodes]
    assert roles.count("control-plane") == planes and roles.count("worker") == 2
    assert config.etcd_members == (1 if topology == "single" else int(members))
    assert config.etcd_topology == etcd_topology and config.cni == "calico" and config.access == "owned"
    assert {n.runtime for n in config.nodes if n.role == "worker"} == {"cri-o"}


@pytest.mark.parametrize("change, message", [
    ({"owner": ""}, "your name: Required value"),
    ({"owner": "x" * 41}, "at most 40"),
    ({"workers": "9"}, "workers: 9 is not one of"),
    ({"workers": "two"}, 'workers: "two" is not a number'),
    ({"topology": "mesh"}, 'topology: Unsupported value: "mesh"'),
    ({"topology": "stacked", "etcd_members": "1"}, "3 or 5"),
    ({"runtime": "rkt"}, 'runtime: Unsupported value: "rkt"'),
    ({"cni": "weave"}, 'cni: Unsupported value: "weave"'),
])
def test_bad_input_is_a_readable_error(change, message):
    with pytest.raises(sandboxes.SandboxError, match=message.replace("(", r"\(")):
        sandboxes.spec_from_form({**FORM, **change})


def test_a_name_for_any_person():
    assert sandboxes.spec_from_form({**FORM, "owner": "Zoë B."})[0] == "zo-b-sandbox"
    assert sandboxes.spec_from_form({**FORM, "owner": "<script>"})[0] == "script-sandbox"
    assert sandboxes.spec_from_form({**FORM, "owner": "李"})[0] == "student-sandbox"
    assert sandboxes.spec_from_form({**FORM, "name": "Mine"})[0] == "mine"


def test_the_owner_is_a_printable_name():
    assert config_from_spec({"owner": " <b>Ada</b> "}).owner == "<b>Ada</b>"
    for bad in ("x" * 64, "a\nb", 5):
        with pytest.raises(ConfigError, match="owner must be"):
            config_from_spec({"owner": bad})

"""NetworkPolicy: the networking.k8s.io/v1 kind (defaults, validation, printer) and its semantics
(sim/networkpolicy.py) as a table of evaluator cases, one or more per rule of the spec, then end
to end: a default-deny policy drops `wget http://web` under Calico and not under Flannel."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from sim.cluster import Cluster, ClusterConfig
from sim.networkpolicy import PolicyView, enforces_network_policy, evaluate, filter_packet
from sim.registry.networking.networkpolicies import default_network_policy, network_policy_row, validate, warnings
from tests.sim.conftest import advance_until, ok
from tests.sim.test_dns import _exec_in, _pod, _ready_coredns, _running, _web

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "networkpolicy"


def example(name: str) -> dict:
    return yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())


def policy(name: str, spec: dict, namespace: str = "default") -> dict:
    return default_network_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                   "metadata": {"name": name, "namespace": namespace}, "spec": spec})


def pod(ns: str, name: str, ip: str, node: str, ports=(), **labels) -> dict:
    return {"metadata": {"namespace": ns, "name": name, "labels": labels},
            "spec": {"nodeName": node, "containers": [{"name": "app", "ports": list(ports)}]},
            "status": {"podIP": ip}}


# The world of the evaluator cases: pods in three namespaces, two nodes, outside addresses.
PODS = [
    pod("default", "db", "10.244.1.10", "w1", [{"name": "redis", "containerPort": 6379, "protocol": "TCP"}], role="db"),
    pod("default", "frontend", "10.244.2.10", "w2", role="frontend"),
    pod("default", "other", "10.244.2.11", "w2", role="other"),
    pod("proj", "app", "10.244.3.10", "w2", role="frontend"),
    pod("proj", "worker", "10.244.3.11", "w2", role="worker"),
    pod("elsewhere", "frontend", "10.244.3.12", "w2", role="frontend"),
]
NAMESPACES = {"default": {"kubernetes.io/metadata.name": "default"},
              "proj": {"kubernetes.io/metadata.name": "proj", "project": "myproject"},
              "elsewhere": {"kubernetes.io/metadata.name": "elsewhere"}}
NODE_IPS = {"192.168.0.11": "w1", "192.168.0.12": "w2"}
DB, FRONTEND, OTHER = "10.244.1.10", "10.244.2.10", "10.244.2.11"
PROJ_APP, PROJ_WORKER, ELSEWHERE = "10.244.3.10", "10.244.3.11", "10.244.3.12"


def view(*policies: dict) -> PolicyView:
    return PolicyView(list(policies), {p["status"]["podIP"]: p for p in PODS}, NAMESPACES, NODE_IPS)


DENY_IN = policy("deny-in", {"podSelector": {}, "policyTypes": ["Ingress"]})
DENY_OUT = policy("deny-out", {"podSelector": {}, "policyTypes": ["Egress"]})
PEER_AND = policy("and", {"podSelector": {"matchLabels": {"role": "db"}}, "ingress": [{"from": [
    {"namespaceSelector": {"matchLabels": {"project": "myproject"}}, "podSelector": {"matchLabels": {"role": "frontend"}}}]}]})
PEER_OR = policy("or", {"podSelector": {"matchLabels": {"role": "db"}}, "ingress": [{"from": [
    {"namespaceSelector": {"matchLabels": {"project": "myproject"}}}, {"podSelector": {"matchLabels": {"role": "frontend"}}}]}]})
ALL_NAMESPACES = policy("all-ns", {"podSelector": {"matchLabels": {"role": "db"}},
                                   "ingress": [{"from": [{"namespaceSelector": {}}]}]})
NAMED = policy("named", {"podSelector": {"matchLabels": {"role": "db"}}, "ingress": [{"ports": [{"port": "redis"}]}]})
NAMED_MISSING = policy("named-missing", {"podSelector": {"matchLabels": {"role": "db"}},
                                         "ingress": [{"ports": [{"port": "http"}]}]})
UDP_ONLY = policy("udp", {"podSelector": {"matchLabels": {"role": "db"}}, "ingress": [{"ports": [{"protocol": "UDP"}]}]})
POD_CIDR = policy("pod-cidr", {"podSelector": {"matchLabels": {"role": "db"}},
                               "ingress": [{"from": [{"ipBlock": {"cidr": "10.244.2.0/24"}}]}]})
EGRESS_ONLY_TYPES = policy("egress-typed", {"podSelector": {}, "policyTypes": ["Egress"],
                                            "ingress": [{"from": [{"ipBlock": {"cidr": "1.2.3.4/32"}}]}]})
ELSEWHERE_DENY = policy("deny-in", {"podSelector": {}, "policyTypes": ["Ingress"]}, namespace="elsewhere")
DB_ALLOW_FRONTEND_EGRESS = policy("db-out", {"podSelector": {"matchLabels": {"role": "db"}}, "policyTypes": ["Egress"],
                                             "egress": [{"to": [{"podSelector": {"matchLabels": {"role": "frontend"}}}]}]})

CASES = [
    # (case, policies, src, dst, port, proto, allowed, direction, deciding policy)
    ("no policy: everything allowed", [], FRONTEND, DB, 6379, "tcp", True, "ingress", None),
    ("default-deny-ingress isolates every pod of the namespace", [DENY_IN], FRONTEND, DB, 6379, "tcp",
     False, "ingress", "default/deny-in"),
    ("default-deny-ingress: from another namespace too", [DENY_IN], PROJ_APP, DB, 6379, "tcp",
     False, "ingress", "default/deny-in"),
    ("default-deny-ingress: from outside too", [DENY_IN], "203.0.113.9", DB, 80, "tcp", False, "ingress", "default/deny-in"),
    ("an isolated pod accepts its own node (kubelet probes)", [DENY_IN], "192.168.0.11", DB, 6379, "tcp",
     True, "ingress", None),
    ("but not another node", [DENY_IN], "192.168.0.12", DB, 6379, "tcp", False, "ingress", "default/deny-in"),
    ("policies are additive: allow-all-ingress opens what deny-ingress closed",
     [DENY_IN, policy("allow-all-ingress", example("allow-all-ingress")["spec"])], FRONTEND, DB, 6379, "tcp",
     True, "ingress", "default/allow-all-ingress"),
    ("policies of another namespace do not select", [ELSEWHERE_DENY], FRONTEND, DB, 6379, "tcp", True, "ingress", None),
    ("default-deny-egress drops what leaves", [DENY_OUT], DB, "10.0.0.5", 5978, "tcp", False, "egress", "default/deny-out"),
    ("default-deny-egress leaves ingress open", [DENY_OUT], "203.0.113.9", DB, 6379, "tcp", True, "ingress", None),
    ("default-deny-egress: pod to pod dropped at the source", [DENY_OUT], FRONTEND, PROJ_APP, 80, "tcp",
     False, "egress", "default/deny-out"),
    ("allow-all-egress", [DENY_OUT, policy("allow-all-egress", example("allow-all-egress")["spec"])], DB, "10.0.0.5",
     5978, "tcp", True, "egress", "default/allow-all-egress"),
    ("default-deny-all: egress", [policy("all", example("default-deny-all")["spec"])], DB, "8.8.8.8", 53, "udp",
     False, "egress", "default/all"),
    ("default-deny-all: ingress", [policy("all", example("default-deny-all")["spec"])], PROJ_APP, DB, 6379, "tcp",
     False, "ingress", "default/all"),
    ("both ends must allow: the destination's ingress drops", [DB_ALLOW_FRONTEND_EGRESS, DENY_IN], DB, FRONTEND, 80, "tcp",
     False, "ingress", "default/deny-in"),
    ("both ends must allow: both do", [DB_ALLOW_FRONTEND_EGRESS], DB, FRONTEND, 80, "tcp",
     True, "egress", "default/db-out"),
    ("the source's egress drops first", [DB_ALLOW_FRONTEND_EGRESS], DB, OTHER, 80, "tcp", False, "egress", "default/db-out"),
    ("one peer with namespaceSelector AND podSelector: both match", [PEER_AND], PROJ_APP, DB, 6379, "tcp",
     True, "ingress", "default/and"),
    ("AND: the right pod labels in the wrong namespace", [PEER_AND], FRONTEND, DB, 6379, "tcp", False, "ingress", "default/and"),
    ("AND: the right namespace, the wrong pod", [PEER_AND], PROJ_WORKER, DB, 6379, "tcp", False, "ingress", "default/and"),
    ("two peers are OR: a frontend pod of the policy's namespace", [PEER_OR], FRONTEND, DB, 6379, "tcp",
     True, "ingress", "default/or"),
    ("OR: any pod of the selected namespace", [PEER_OR], PROJ_WORKER, DB, 6379, "tcp", True, "ingress", "default/or"),
    ("a podSelector alone selects the policy's own namespace only", [PEER_OR], ELSEWHERE, DB, 6379, "tcp",
     False, "ingress", "default/or"),
    ("namespaceSelector {} selects every namespace", [ALL_NAMESPACES], ELSEWHERE, DB, 6379, "tcp",
     True, "ingress", "default/all-ns"),
    ("namespaceSelector {} does not select addresses outside the cluster", [ALL_NAMESPACES], "203.0.113.9", DB, 6379,
     "tcp", False, "ingress", "default/all-ns"),
    ("a named port resolves on the destination pod's containerPorts", [NAMED], FRONTEND, DB, 6379, "tcp",
     True, "ingress", "default/named"),
    ("a named port: another number", [NAMED], FRONTEND, DB, 6380, "tcp", False, "ingress", "default/named"),
    ("a named port the pod does not have matches nothing", [NAMED_MISSING], FRONTEND, DB, 6379, "tcp",
     False, "ingress", "default/named-missing"),
    ("a port-less entry matches every port of its protocol", [UDP_ONLY], FRONTEND, DB, 53, "udp",
     True, "ingress", "default/udp"),
    ("but not another protocol", [UDP_ONLY], FRONTEND, DB, 53, "tcp", False, "ingress", "default/udp"),
    ("ipBlock matches pod addresses too (as Calico)", [POD_CIDR], FRONTEND, DB, 6379, "tcp",
     True, "ingress", "default/pod-cidr"),
    ("ipBlock: outside the cidr", [POD_CIDR], PROJ_APP, DB, 6379, "tcp", False, "ingress", "default/pod-cidr"),
    ("rules of a type not in policyTypes do not isolate", [EGRESS_ONLY_TYPES], "203.0.113.9", DB, 80, "tcp",
     True, "ingress", None),
]
TEST_POLICY = policy("test-network-policy", example("test-network-policy")["spec"])
CASES += [(f"test-network-policy: {case}", [TEST_POLICY], *rest) for case, *rest in [
    ("ipBlock cidr", "172.17.0.5", DB, 6379, "tcp", True, "ingress", "default/test-network-policy"),
    ("ipBlock except", "172.17.1.5", DB, 6379, "tcp", False, "ingress", "default/test-network-policy"),
    ("namespaceSelector", PROJ_WORKER, DB, 6379, "tcp", True, "ingress", "default/test-network-policy"),
    ("podSelector", FRONTEND, DB, 6379, "tcp", True, "ingress", "default/test-network-policy"),
    ("podSelector of another namespace", ELSEWHERE, DB, 6379, "tcp", False, "ingress", "default/test-network-policy"),
    ("another port", FRONTEND, DB, 6380, "tcp", False, "ingress", "default/test-network-policy"),
    ("another protocol", FRONTEND, DB, 6379, "udp", False, "ingress", "default/test-network-policy"),
    ("egress to the ipBlock", DB, "10.0.0.5", 5978, "tcp", True, "egress", "default/test-network-policy"),
    ("egress outside the ipBlock", DB, "10.0.1.5", 5978, "tcp", False, "egress", "default/test-network-policy"),
    ("egress on another port", DB, "10.0.0.5", 5979, "tcp", False, "egress", "default/test-network-policy"),
    ("egress to a pod", DB, FRONTEND, 80, "tcp", False, "egress", "default/test-network-policy"),
    ("pods it does not select", FRONTEND, OTHER, 80, "tcp", True, "ingress", None),
]]
MULTI_PORT = policy("multi-port-egress", example("multi-port-egress")["spec"])
CASES += [(f"multi-port-egress: {port}", [MULTI_PORT], DB, "10.0.0.5", port, "tcp", allowed, "egress",
           "default/multi-port-egress") for port, allowed in ((31999, False), (32000, True), (32500, True),
                                                              (32768, True), (32769, False))]


@pytest.mark.parametrize("case,policies,src,dst,port,proto,allowed,direction,decided_by", CASES,
                         ids=[c[0] for c in CASES])
def test_evaluator(case, policies, src, dst, port, proto, allowed, direction, decided_by):
    verdict = evaluate(view(*policies), src, dst, port, proto)
    assert (verdict.allowed, verdict.direction, verdict.policy) == (allowed, direction, decided_by), verdict.reason


def test_each_node_checks_its_own_pods(monkeypatch):
    """filter_packet on a node: the egress of a source pod there, the ingress of a destination
    pod there (the datapath asks the source node, then the destination node)."""
    class FakeCluster:
        config = ClusterConfig.default()

        def serving_apiserver(self):
            return None
    from sim import networkpolicy
    v = view(DENY_IN, DENY_OUT)
    monkeypatch.setattr(networkpolicy, "agent_view", lambda cluster: v)
    on_src = filter_packet(FakeCluster(), DB, FRONTEND, 80, "tcp", "w1")
    on_dst = filter_packet(FakeCluster(), PROJ_APP, FRONTEND, 80, "tcp", "w2")
    nowhere = filter_packet(FakeCluster(), PROJ_APP, FRONTEND, 80, "tcp", "w3")
    assert (on_src.allowed, on_src.direction) == (False, "egress")
    assert (on_dst.allowed, on_dst.direction) == (False, "ingress")
    assert nowhere.allowed and nowhere.direction == ""


# -- the kind ----------------------------------------------------------------------------------
def test_defaults_policy_types_from_the_egress_rules_and_protocol_tcp():
    assert example("default-deny-ingress")["spec"]["policyTypes"] == ["Ingress"]
    assert policy("p", {"podSelector": {}})["spec"]["policyTypes"] == ["Ingress"]
    assert policy("p", {"podSelector": {}, "egress": [{}]})["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert policy("p", {"podSelector": {}, "egress": [{}], "policyTypes": ["Egress"]})["spec"]["policyTypes"] == ["Egress"]
    np = policy("p", {"ingress": [{"ports": [{"port": 80}, {"protocol": "UDP", "port": 53}]}]})
    assert np["spec"]["podSelector"] == {}
    assert np["spec"]["ingress"][0]["ports"] == [{"port": 80, "protocol": "TCP"}, {"protocol": "UDP", "port": 53}]


BAD = [
    ({"policyTypes": ["Ingress", "Sideways"]},
     'spec.policyTypes[1]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"'),
    ({"policyTypes": ["Ingress", "Egress", "Ingress"]},
     'spec.policyTypes: Invalid value: &[]networking.PolicyType{"Ingress", "Egress", "Ingress"}: '
     "may not specify more than two policyTypes"),
    ({"ingress": [{"ports": [{"protocol": "ICMP"}]}]},
     'spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"'),
    ({"ingress": [{"ports": [{"port": 0}]}]},
     "spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"),
    ({"egress": [{"ports": [{"port": 32000, "endPort": 31000}]}]},
     "spec.egress[0].ports[0].endPort: Invalid value: 31000: must be greater than or equal to `port`"),
    ({"egress": [{"ports": [{"port": 32000, "endPort": 70000}]}]},
     "spec.egress[0].ports[0].endPort: Invalid value: 70000: must be between 1 and 65535, inclusive"),
    ({"egress": [{"ports": [{"port": "http", "endPort": 90}]}]},
     "spec.egress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is non-numeric"),
    ({"egress": [{"ports": [{"endPort": 90}]}]},
     "spec.egress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is not specified"),
    ({"ingress": [{"ports": [{"port": "Web_Port"}]}]},
     'spec.ingress[0].ports[0].port: Invalid value: "Web_Port": must contain only alpha-numeric characters (a-z, 0-9), '
     "and hyphens (-)"),
    ({"ingress": [{"from": [{}]}]}, "spec.ingress[0].from[0]: Required value: must specify a peer"),
    ({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]},
     "spec.egress[0].to[0]: Forbidden: may not specify both ipBlock and another peer"),
    ({"ingress": [{"from": [{"ipBlock": {"cidr": ""}}]}]}, "spec.ingress[0].from[0].ipBlock.cidr: Required value"),
    ({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]},
     'spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.0/33": must be a valid CIDR value, '
     "(e.g. 10.9.8.0/24 or 2001:db8::/64)"),
    ({"ingress": [{"from": [{"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.18.1.0/24"]}}]}]},
     'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "172.18.1.0/24": must be a strict subset of `cidr`'),
    ({"ingress": [{"from": [{"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.0.0/16"]}}]}]},
     'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "172.17.0.0/16": must be a strict subset of `cidr`'),
    ({"podSelector": {"matchLabels": {"role": "-db"}}},
     'spec.podSelector.matchLabels: Invalid value: "-db": a valid label must be an empty string or consist of '
     "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"),
    ({"ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "In"}]}}]}]},
     "spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values: Required value: "
     "must be specified when `operator` is 'In' or 'NotIn'"),
]


@pytest.mark.parametrize("spec,message", BAD, ids=[b[1].split(":")[0] for b in BAD])
def test_validation(spec, message):
    errs = validate(policy("bad", {"podSelector": {}, **spec}))
    assert any(e.text().startswith(message) for e in errs), [e.text() for e in errs]


def test_the_documentation_examples_are_valid():
    for path in sorted(EXAMPLES.glob("*.yaml")):
        obj = yaml.safe_load(path.read_text())
        obj["metadata"].setdefault("namespace", "default")
        assert validate(default_network_policy(obj)) == [], path.name


def test_an_update_keeps_a_cidr_it_already_had():
    """ValidateNetworkPolicyUpdate: CIDRs of the stored object are not revalidated."""
    old = policy("p", {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]})
    new = policy("p", {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}, {}]})
    assert validate(new, old) == []
    assert validate(new)


def test_cidr_warnings_and_printer_row():
    np = policy("p", {"podSelector": {"matchLabels": {"role": "db"}},
                      "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.1/8", "except": ["010.1.0.0/16"]}}]}]})
    assert validate(np) == []
    assert warnings(np) == [
        'spec.ingress[0].from[0].ipBlock.cidr: CIDR value "10.0.0.1/8" is ambiguous in this context '
        '(should be "10.0.0.0/8" or "10.0.0.1/32"?)',
        'spec.ingress[0].from[0].ipBlock.except[0]: non-standard CIDR value "010.1.0.0/16" will be considered '
        'invalid in a future Kubernetes release: use "10.1.0.0/16"']
    assert network_policy_row(np, 0)[:2] == ["p", "role=db"]
    assert network_policy_row(policy("q", {"podSelector": {}}), 0)[:2] == ["q", "<none>"]


# -- the API ----------------------------------------------------------------------------------
def _np_request(c, verb, **kw):
    return c.request({"verb": verb, "group": "networking.k8s.io", "resource": "networkpolicies",
                      "namespace": "default", **kw})


def test_the_api_serves_defaults_generation_and_refuses_a_bad_policy(cluster):
    c = cluster
    created = ok(_np_request(c, "create", body=example("multi-port-egress")), 201)
    assert created["metadata"]["generation"] == 1 and "status" not in created
    assert created["spec"]["egress"][0]["ports"] == [{"protocol": "TCP", "port": 32000, "endPort": 32768}]
    changed = copy.deepcopy(created)
    changed["spec"]["egress"][0]["ports"][0]["endPort"] = 32100
    assert ok(_np_request(c, "update", name="multi-port-egress", body=changed))["metadata"]["generation"] == 2
    bad = example("default-deny-ingress")
    bad["spec"]["policyTypes"] = ["Ingress", "Outgress"]
    resp = _np_request(c, "create", body=bad)
    assert resp["code"] == 422
    assert resp["body"]["message"] == ('NetworkPolicy.networking.k8s.io "default-deny-ingress" is invalid: '
                                       'spec.policyTypes[1]: Unsupported value: "Outgress": '
                                       'supported values: "Ingress", "Egress"')
    assert resp["body"]["details"]["causes"] == [{"reason": "FieldValueNotSupported", "field": "spec.policyTypes[1]",
                                                  "message": 'Unsupported value: "Outgress": supported values: '
                                                             '"Ingress", "Egress"'}]


# -- end to end ---------------------------------------------------------------------------------
def _cluster(cni: str) -> Cluster:
    cfg = ClusterConfig.default(seed=3)
    cfg.cni = cni            # ClusterConfig's `cni` (flannel by default)
    c = Cluster("t", cfg)
    c.advance(20)
    _web(c)
    ok(c.request({"verb": "create", "resource": "pods", "namespace": "default", "body": _pod("client")}))

    def web_ready():
        pods = ok(c.request({"verb": "list", "resource": "pods", "namespace": "default"}))["items"]
        return sum(p["metadata"]["name"].startswith("web-") and any(
            x["type"] == "Ready" and x["status"] == "True" for x in p["status"].get("conditions") or []) for p in pods)
    advance_until(c, lambda: _running(c, "client") and web_ready() == 2 and len(_ready_coredns(c)) == 2, 60)
    c.advance(3)
    assert _exec_in(c, "client", ["wget", "-qO-", "http://web"])[0] == 0
    return c


def _apply(c, name: str, **spec_changes) -> None:
    body = example(name)
    body["spec"].update(spec_changes)
    ok(_np_request(c, "create", body=body), 201)


def _wget(c, *args):
    from sim.runtime import programs
    from sim.runtime.process import run_to_exit
    pod = ok(c.request({"verb": "get", "resource": "pods", "namespace": "default", "name": "client"}))
    runtime, kubelet = c.node_components[pod["spec"]["nodeName"]][:2]
    cont = runtime.container(kubelet.workers[pod["metadata"]["uid"]]["containers"]["app"].container_id)
    argv = ["wget", *args, "-qO-", "http://web"]
    return run_to_exit(programs.program_for(argv, cont.image.config.binaries).run(runtime.exec_context(cont, argv)))


def test_default_deny_drops_the_connection_under_calico():
    c = _cluster("calico")
    assert enforces_network_policy(c)
    _apply(c, "default-deny-ingress")
    # The SYN is dropped: wget waits out its -T and says so; without -T the kernel gives up first.
    assert _wget(c, "-T", "5") == (1, "wget: download timed out\n", 5.0)
    code, out, slept = _wget(c)
    assert (code, slept) == (1, 127.0) and out.startswith("wget: can't connect to remote host (10.") \
        and out.endswith("): Connection timed out\n")
    # The client's DNS query to CoreDNS (kube-system, not isolated) still gets its answer.
    # (busybox exits 1 all the same: the other search domains' replies are NXDOMAIN.)
    assert "Name:\tweb.default.svc.cluster.local\nAddress: 10." in _exec_in(c, "client", ["nslookup", "web"])[1]
    # Policies add up: allow-all-ingress reopens it.
    _apply(c, "allow-all-ingress")
    code, out, _ = _wget(c)
    assert code == 0 and "Welcome to nginx!" in out


def test_replies_to_an_allowed_connection_pass_and_egress_deny_blocks_dns_under_calico():
    c = _cluster("calico")
    # The web pods may send nothing of their own, yet their answers to the client's connections pass.
    _apply(c, "default-deny-egress", podSelector={"matchLabels": {"app": "web"}})
    code, out, _ = _wget(c, "-T", "5")
    assert code == 0 and "Welcome to nginx!" in out
    # The classic lesson: default-deny-egress for every pod blocks their DNS queries too.
    ok(_np_request(c, "delete", name="default-deny-egress"))
    _apply(c, "default-deny-egress")
    assert _exec_in(c, "client", ["nslookup", "web"]) == (1, ";; connection timed out; no servers could be reached\n\n")


def test_flannel_stores_the_policy_and_ignores_it():
    c = _cluster("flannel")
    assert not enforces_network_policy(c)
    _apply(c, "default-deny-all")
    assert ok(_np_request(c, "get", name="default-deny-all"))["spec"]["policyTypes"] == ["Ingress", "Egress"]
    code, out, _ = _wget(c, "-T", "5")
    assert code == 0 and "Welcome to nginx!" in out

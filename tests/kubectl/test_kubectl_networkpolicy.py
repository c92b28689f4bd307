"""NetworkPolicy with the real kubectl (1.27, 1.33, 1.37): `apply -f` of every example of the
documentation's network-policies page (docs/examples/networkpolicy/), `get netpol` (NAME
POD-SELECTOR AGE), `describe netpol`, `explain`, and a bad policy refused with upstream's 422."""
from __future__ import annotations

import json
from pathlib import Path

from tests.kubectl.conftest import rows

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "networkpolicy"
NAMES = ["allow-all-egress", "allow-all-ingress", "default-deny-all", "default-deny-egress", "default-deny-ingress",
         "multi-port-egress", "test-network-policy"]


def _apply_examples(kubectl, ns: str, tmp_path: Path) -> None:
    for name in NAMES:
        path = tmp_path / f"{name}.yaml"
        # The two examples that name `default` go to this test's namespace instead.
        path.write_text((EXAMPLES / f"{name}.yaml").read_text().replace("namespace: default", f"namespace: {ns}"))
        out = kubectl("apply", "-n", ns, "-f", str(path))
        assert out.stdout.strip() == f"networkpolicy.networking.k8s.io/{name} created"


def test_apply_get_describe_the_documentation_examples(kubectl_some, tmp_path):
    kubectl = kubectl_some
    ns = f"netpol-{kubectl.suffix}"
    kubectl("create", "namespace", ns)
    _apply_examples(kubectl, ns, tmp_path)
    table = rows(kubectl("get", "netpol", "-n", ns).stdout)
    assert table[0] == ["NAME", "POD-SELECTOR", "AGE"]
    assert [r[:2] for r in table[1:]] == [["allow-all-egress", "<none>"], ["allow-all-ingress", "<none>"],
                                          ["default-deny-all", "<none>"], ["default-deny-egress", "<none>"],
                                          ["default-deny-ingress", "<none>"], ["multi-port-egress", "role=db"],
                                          ["test-network-policy", "role=db"]]
    # Defaults: the protocol (given in the examples) and policyTypes from the egress rules.
    got = json.loads(kubectl("get", "networkpolicy", "multi-port-egress", "-n", ns, "-o", "json").stdout)
    assert got["spec"]["egress"][0]["ports"] == [{"protocol": "TCP", "port": 32000, "endPort": 32768}]
    assert got["metadata"]["generation"] == 1
    again = kubectl("apply", "-n", ns, "-f", str(tmp_path / "multi-port-egress.yaml"))
    assert again.stdout.strip() == "networkpolicy.networking.k8s.io/multi-port-egress unchanged"

    described = kubectl("describe", "netpol", "test-network-policy", "-n", ns).stdout
    lines = [line.strip() for line in described.splitlines()]
    assert "Name:         test-network-policy" in described and f"Namespace:    {ns}" in described
    for expected in ("PodSelector:     role=db", "Allowing ingress traffic:", "To Port: 6379/TCP", "From:",
                     "IPBlock:", "CIDR: 172.17.0.0/16", "Except: 172.17.1.0/24", "NamespaceSelector: project=myproject",
                     "PodSelector: role=frontend", "Allowing egress traffic:", "To Port: 5978/TCP", "To:",
                     "CIDR: 10.0.0.0/24", "Policy Types: Ingress, Egress"):
        assert expected in lines, described
    deny = kubectl("describe", "networkpolicy", "default-deny-ingress", "-n", ns).stdout
    deny_lines = [line.strip() for line in deny.splitlines()]
    for expected in ("PodSelector:     <none> (Allowing the specific traffic to all pods in this namespace)",
                     "Allowing ingress traffic:", "<none> (Selected pods are isolated for ingress connectivity)",
                     "Not affecting egress traffic", "Policy Types: Ingress"):
        assert expected in deny_lines, deny
    range_lines = [line.strip() for line in
                   kubectl("describe", "netpol", "multi-port-egress", "-n", ns).stdout.splitlines()]
    # kubectl 1.27's describer printed a range's first port only; later ones print the range.
    old_describer = kubectl.minor is not None and int(kubectl.minor.split(".")[1]) < 28
    port_line = "To Port: 32000/TCP" if old_describer else "To Port Range: 32000-32768/TCP"
    assert port_line in range_lines and "CIDR: 10.0.0.0/24" in range_lines, "\n".join(range_lines)
    # The kind's OpenAPI schema is Kubernetes' own: kubectl explain reads it.
    explained = kubectl("explain", "networkpolicy.spec.ingress.from.ipBlock").stdout
    assert "KIND:" in explained and "NetworkPolicy" in explained and "except" in explained and "cidr" in explained
    kubectl("delete", "namespace", ns, "--wait=false")


def test_a_bad_policy_is_refused_with_upstreams_message(kubectl_some, tmp_path):
    kubectl = kubectl_some
    ns = f"bad-{kubectl.suffix}"
    kubectl("create", "namespace", ns)
    path = tmp_path / "bad.yaml"
    path.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: bad\nspec:\n"
                    "  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 172.17.0.0/16\n"
                    "        except:\n        - 172.18.1.0/24\n    ports:\n    - protocol: ICMP\n")
    out = kubectl("apply", "-n", ns, "-f", str(path), check=False)
    assert out.returncode != 0
    assert ('The NetworkPolicy "bad" is invalid: \n'
            '* spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"\n'
            '* spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "172.18.1.0/24": '
            'must be a strict subset of `cidr`') in out.stderr, out.stderr
    assert kubectl("get", "netpol", "bad", "-n", ns, check=False).returncode != 0
    kubectl("delete", "namespace", ns, "--wait=false")

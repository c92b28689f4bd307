"""`kubectl auth can-i` / `auth whoami`, what `kubectl delete` prints now that a delete answers a
Status, and metadata.generation / status.observedGeneration after `kubectl scale`, with the
machine's real kubectl (the dispatcher and every kubectl 1.27-1.33, 1.36 and 1.37)."""
from __future__ import annotations

import json


from tests.conftest import wait_until
from tests.kubectl.conftest import rows


def test_auth_can_i_says_yes_to_everything(kubectl):
    assert kubectl("auth", "can-i", "create", "pods").stdout.strip() == "yes"
    assert kubectl("auth", "can-i", "delete", "replicasets.apps", "-n", "kube-system").stdout.strip() == "yes"
    assert kubectl("auth", "can-i", "*", "*").stdout.strip() == "yes"
    assert kubectl("auth", "can-i", "get", "/healthz").stdout.strip() == "yes"
    listed = rows(kubectl("auth", "can-i", "--list").stdout)
    assert listed[0][:4] == ["Resources", "Non-Resource URLs", "Resource Names", "Verbs"]
    # As against a cluster-admin: every resource, then (its first cell blank) every URL.
    assert listed[1:] == [["*.*", "[]", "[]", "[*]"], ["[*]", "[]", "[*]"]]


def test_auth_whoami_is_the_anonymous_user(kubectl):
    proc = kubectl("auth", "whoami", check=False)
    if "1.27" in kubectl.binary:
        # kubectl 1.27 predates authentication.k8s.io/v1 (1.28) and asks for v1alpha1 / v1beta1
        # only, which Pilothouse does not serve: it says so, as kubectl words it.
        assert proc.returncode != 0 and "selfsubjectreviews API is not enabled" in proc.stderr, proc
        return
    assert proc.returncode == 0, proc.stderr
    assert rows(proc.stdout) == [["ATTRIBUTE", "VALUE"], ["Username", "system:anonymous"],
                                 ["Groups", "[system:unauthenticated]"]]
    as_json = json.loads(kubectl("auth", "whoami", "-o", "json").stdout)
    assert as_json["status"]["userInfo"] == {"username": "system:anonymous", "groups": ["system:unauthenticated"]}


def test_delete_prints_deleted_and_scale_bumps_generation(kubectl, tmp_path):
    name = f"web-{kubectl.suffix}"
    manifest = tmp_path / "rs.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: " + name + "\nspec:\n  replicas: 1\n"
        "  selector:\n    matchLabels: {app: " + name + "}\n  template:\n    metadata:\n      labels: {app: "
        + name + "}\n    spec:\n      containers:\n      - {name: c, image: nginx}\n")
    kubectl("apply", "-f", str(manifest))

    def generations() -> str:
        return kubectl("get", "rs", name, "-o",
                       "jsonpath={.metadata.generation} {.status.observedGeneration}").stdout

    wait_until(lambda: generations() == "1 1", timeout=30, interval=0.2, message="observedGeneration 1")
    kubectl("label", "rs", name, "tier=web")  # metadata only: no new generation
    kubectl("scale", "rs", name, "--replicas=3")
    wait_until(lambda: generations() == "2 2", timeout=30, interval=0.2, message="generation 2 observed")
    out = kubectl("delete", "rs", name, "--wait=false")
    assert out.stdout.strip() == kubectl.deleted(f'replicaset.apps "{name}"', "default")

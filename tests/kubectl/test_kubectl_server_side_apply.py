"""Server-side apply and managedFields with the machine's real kubectl (the dispatcher and every
kubectl 1.27-1.33): `apply --server-side` creates, a second field manager conflicts with
kubectl's own message, `--force-conflicts` takes the field over, `--show-managed-fields` shows the
managers, `diff --server-side` and `--dry-run=server` change nothing, and a client-side applied
object moves to server-side apply."""
from __future__ import annotations

import yaml


def _manifest(tmp_path, name: str, replicas: int, image: str = "nginx", file: str = "rs.yaml") -> str:
    path = tmp_path / file
    path.write_text(f"apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: {name}\n  labels: {{app: {name}}}\n"
                    f"spec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n"
                    f"    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n"
                    f"      - name: web\n        image: {image}\n")
    return str(path)


def _get(kubectl, name: str, *extra: str) -> dict:
    return yaml.safe_load(kubectl("get", "rs", name, "-o", "yaml", *extra).stdout)


def _managers(obj: dict) -> dict[tuple[str, str], dict]:
    return {(e["manager"], e["operation"]): e for e in obj["metadata"].get("managedFields") or []}


def test_server_side_apply_conflicts_force_diff_and_dry_run(kubectl, tmp_path):
    name = f"ssa-{kubectl.suffix}"
    out = kubectl("apply", "--server-side", "-f", _manifest(tmp_path, name, 0))
    assert out.stdout.strip() == f"replicaset.apps/{name} serverside-applied"
    applied = _managers(_get(kubectl, name, "--show-managed-fields"))
    assert ("kubectl", "Apply") in applied
    assert "f:replicas" in applied[("kubectl", "Apply")]["fieldsV1"]["f:spec"]
    # managedFields are hidden from -o yaml unless asked for (kubectl >= 1.21).
    assert "managedFields" not in _get(kubectl, name)["metadata"]

    # Another manager changing spec.replicas: a conflict, as kubectl prints it.
    other = _manifest(tmp_path, name, 1, file="other.yaml")
    proc = kubectl("apply", "--server-side", "--field-manager=other", "-f", other, check=False)
    assert proc.returncode == 1
    assert 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas' in proc.stderr
    assert "--force-conflicts" in proc.stderr
    assert _get(kubectl, name)["spec"]["replicas"] == 0

    # --force-conflicts takes it over: "other" owns spec.replicas, "kubectl" no longer does.
    kubectl("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", other)
    obj = _get(kubectl, name, "--show-managed-fields")
    assert obj["spec"]["replicas"] == 1
    managers = _managers(obj)
    assert "f:replicas" in managers[("other", "Apply")]["fieldsV1"]["f:spec"]
    assert "f:replicas" not in managers[("kubectl", "Apply")]["fieldsV1"]["f:spec"]

    # diff --server-side and apply --dry-run=server show the change and write nothing.
    third = _manifest(tmp_path, name, 3, image="nginx:1.27", file="third.yaml")
    diff = kubectl("diff", "--server-side", "--field-manager=other", "--force-conflicts", "-f", third, check=False)
    assert diff.returncode == 1, diff.stderr  # 1: differences found
    assert "-  replicas: 1" in diff.stdout and "+  replicas: 3" in diff.stdout
    out = kubectl("apply", "--server-side", "--field-manager=other", "--force-conflicts", "--dry-run=server", "-f", third)
    assert "serverside-applied (server dry run)" in out.stdout
    after = _get(kubectl, name, "--show-managed-fields")
    assert after["spec"]["replicas"] == 1
    assert after["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx"
    assert _managers(after)[("other", "Apply")]["fieldsV1"] == managers[("other", "Apply")]["fieldsV1"]

    kubectl("delete", "rs", name, "--wait=false")


def test_client_side_apply_then_server_side(kubectl, tmp_path):
    name = f"csa-{kubectl.suffix}"
    manifest = _manifest(tmp_path, name, 0)
    kubectl("apply", "-f", manifest)
    obj = _get(kubectl, name, "--show-managed-fields")
    assert ("kubectl-client-side-apply", "Update") in _managers(obj)
    assert "kubectl.kubernetes.io/last-applied-configuration" in obj["metadata"]["annotations"]

    # Server-side apply of the same configuration with one change: no conflict with the
    # client-side applier (kubectl moves its fields to the "kubectl" applier first).
    out = kubectl("apply", "--server-side", "-f", _manifest(tmp_path, name, 0, image="nginx:1.27", file="v2.yaml"))
    assert out.stdout.strip() == f"replicaset.apps/{name} serverside-applied"
    obj = _get(kubectl, name, "--show-managed-fields")
    assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert ("kubectl", "Apply") in _managers(obj)

    # And client-side apply still works on it.
    kubectl("apply", "-f", _manifest(tmp_path, name, 0, image="nginx:1.28", file="v3.yaml"))
    assert _get(kubectl, name)["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    kubectl("delete", "rs", name, "--wait=false")


def test_imperative_commands_record_their_managers(kubectl, tmp_path):
    """kubectl's own commands name themselves (?fieldManager=kubectl-create, kubectl-label ...)."""
    name = f"imp-{kubectl.suffix}"
    kubectl("create", "-f", _manifest(tmp_path, name, 0))
    kubectl("label", "rs", name, "tier=web")
    kubectl("scale", "rs", name, "--replicas=0")
    managers = {e["manager"] for e in _get(kubectl, name, "--show-managed-fields")["metadata"]["managedFields"]}
    assert {"kubectl-create", "kubectl-label"} <= managers, managers
    kubectl("delete", "rs", name, "--wait=false")

"""Authentication and RBAC with the real kubectl (1.27, 1.33 and 1.37): ServiceAccounts, Roles
and bindings made with `kubectl create`, a token from `kubectl create token` used with --token
(held to its roles: upstream's Forbidden message), `auth can-i` with the token and with --as,
`auth whoami`, the Kubernetes documentation's RBAC examples applied with `kubectl apply -f`, and
an owned cluster that refuses the anonymous user but serves its admin kubeconfig's token."""
from __future__ import annotations

import base64
import json
import urllib.request

import pytest

from tests.conftest import wait_until
from tests.kubectl.conftest import kube_env_for, kubectl_runner, rows

# https://kubernetes.io/docs/reference/access-authn-authz/rbac/ (its examples, one document)
DOCS_EXAMPLES = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  namespace: default
  name: pod-reader
rules:
- apiGroups: [""] # "" indicates the core API group
  resources: ["pods"]
  verbs: ["get", "watch", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: secret-reader
rules:
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "watch", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: read-pods
  namespace: default
subjects:
- kind: User
  name: jane # "name" is case sensitive
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: Role
  name: pod-reader
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: read-secrets-global
subjects:
- kind: Group
  name: manager # Name is case sensitive
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: ClusterRole
  name: secret-reader
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: monitoring
aggregationRule:
  clusterRoleSelectors:
  - matchLabels:
      rbac.example.com/aggregate-to-monitoring: "true"
rules: [] # The control plane automatically fills in the rules
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: monitoring-endpoints
  labels:
    rbac.example.com/aggregate-to-monitoring: "true"
# When you create the "monitoring-endpoints" ClusterRole,
# the rules below will be added to the "monitoring" ClusterRole.
rules:
- apiGroups: [""]
  resources: ["services", "endpointslices", "pods"]
  verbs: ["get", "list", "watch"]
"""


def with_token(kubectl, server, cluster: str, token: str, home):
    """kubectl with a kubeconfig whose user is `token`, over the server's HTTPS port (kubectl sends
    a token only to an https server)."""
    home.mkdir(parents=True, exist_ok=True)
    ca = (server.workdir / "tls" / "apiserver.crt").read_bytes()
    config = {"apiVersion": "v1", "kind": "Config", "current-context": cluster,
              "clusters": [{"name": cluster, "cluster": {
                  "server": f"https://127.0.0.1:{server.tls_port}/clusters/{cluster}",
                  "certificate-authority-data": base64.b64encode(ca).decode()}}],
              "users": [{"name": "u", "user": {"token": token}}],
              "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": "u"}}]}
    (home / "config").write_text(json.dumps(config))
    return kubectl_runner(kubectl.binary, dict(kubectl.env, HOME=str(home), KUBECONFIG=str(home / "config")))


def can_i(kubectl, *args) -> str:
    proc = kubectl("auth", "can-i", *args, check=False)
    return proc.stdout.strip()


def test_serviceaccount_token_is_held_to_its_roles(kubectl, kube_cluster, pilothouse_server, tmp_path):
    sa, role = f"x-{kubectl.suffix}", f"pod-reader-{kubectl.suffix}"
    kubectl("create", "serviceaccount", sa)
    kubectl("create", "role", role, "--verb=get,list", "--resource=pods")
    kubectl("create", "rolebinding", f"{role}-{sa}", f"--role={role}", f"--serviceaccount=default:{sa}")
    token = kubectl("create", "token", sa).stdout.strip()
    assert token.count(".") == 2  # a JWT
    kubectl_sa = with_token(kubectl, pilothouse_server, kube_cluster, token, tmp_path / "sa")
    kubectl_sa("get", "pods")
    denied = kubectl_sa("get", "secrets", check=False)
    assert denied.returncode != 0
    assert (f'Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:default:{sa}" cannot '
            f'list resource "secrets" in API group "" in the namespace "default"') in denied.stderr
    assert can_i(kubectl_sa, "list", "pods") == "yes"
    assert can_i(kubectl_sa, "list", "secrets") == "no"
    if kubectl.minor != "1.27":  # 1.27 asks for selfsubjectreviews v1alpha1/v1beta1, not served
        who = {r[0]: " ".join(r[1:]) for r in rows(kubectl_sa("auth", "whoami").stdout)}
        assert who["Username"] == f"system:serviceaccount:default:{sa}"
        assert who["Groups"] == "[system:serviceaccounts system:serviceaccounts:default system:authenticated]"
        assert "UID" in who
    # --token overrides the kubeconfig's; a token that does not authenticate is a 401
    bad = kubectl_sa("--token", "not-a-token", "get", "pods", check=False)
    assert bad.returncode != 0 and "Unauthorized" in bad.stderr, bad.stderr


def admin(kubectl, server, cluster: str, home):
    """kubectl with the cluster's admin kubeconfig (GET /sim/v1/clusters/<name>/kubeconfig)."""
    status, config = server.request("GET", f"/sim/v1/clusters/{cluster}/kubeconfig")
    assert status == 200, config
    assert config["clusters"][0]["cluster"]["server"].startswith("https://")
    home.mkdir(parents=True, exist_ok=True)
    (home / "config").write_text(json.dumps(config))
    return kubectl_runner(kubectl.binary, dict(kubectl.env, HOME=str(home), KUBECONFIG=str(home / "config")))


def test_auth_can_i_as_a_serviceaccount(kubectl, kube_cluster, pilothouse_server, tmp_path):
    """--as sends Impersonate-User (which kubectl too sends only over https): the admin may
    impersonate anyone, who is then held to their roles."""
    sa = f"y-{kubectl.suffix}"
    kubectl("create", "serviceaccount", sa)
    kubectl("create", "rolebinding", f"view-{sa}", "--clusterrole=view", f"--serviceaccount=default:{sa}")
    anon = admin(kubectl, pilothouse_server, kube_cluster, tmp_path / "admin")
    assert can_i(anon, "get", "pods", f"--as=system:serviceaccount:default:{sa}") == "yes"
    assert can_i(anon, "list", "secrets", f"--as=system:serviceaccount:default:{sa}") == "no"
    assert can_i(anon, "create", "deployments.apps", f"--as=system:serviceaccount:default:{sa}") == "no"


def test_get_rbac_kinds_wide(kubectl):
    crb = rows(kubectl("get", "clusterrolebindings", "cluster-admin", "-o", "wide").stdout)
    assert crb[0] == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    assert crb[1][:2] == ["cluster-admin", "ClusterRole/cluster-admin"] and crb[1][3:] == ["system:masters"]
    roles = [r[0] for r in rows(kubectl("get", "clusterroles").stdout)]
    assert {"cluster-admin", "admin", "edit", "view", "system:basic-user"} <= set(roles)
    view = kubectl("get", "clusterroles", "view").stdout.splitlines()
    assert view[0].split() == ["NAME", "CREATED", "AT"] and view[1].split()[1].endswith("Z")  # RFC 3339


def test_the_documentations_examples_behave_as_documented(kubectl, kube_cluster, pilothouse_server, tmp_path):
    manifest = tmp_path / "rbac.yaml"
    manifest.write_text(DOCS_EXAMPLES)
    kubectl("apply", "-f", str(manifest))
    anon = admin(kubectl, pilothouse_server, kube_cluster, tmp_path / "admin")
    assert can_i(anon, "list", "pods", "--as=jane") == "yes"
    assert can_i(anon, "list", "pods", "--as=jane", "-n", "kube-system") == "no"
    assert can_i(anon, "get", "secrets", "--as=jane") == "no"
    assert can_i(anon, "get", "secrets", "--as=someone", "--as-group=manager", "-A") == "yes"
    assert can_i(anon, "delete", "secrets", "--as=someone", "--as-group=manager") == "no"

    def aggregated() -> bool:
        role = json.loads(kubectl("get", "clusterrole", "monitoring", "-o", "json").stdout)
        return role.get("rules") == [{"apiGroups": [""], "resources": ["services", "endpointslices", "pods"],
                                      "verbs": ["get", "list", "watch"]}]
    wait_until(aggregated, timeout=30, interval=0.3, message="the monitoring ClusterRole aggregated")


def _http(url: str, token: str | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


@pytest.fixture(scope="module")
def owned_cluster(pilothouse_server, kube_cluster):
    name = f"{kube_cluster}-owned"[:50]
    status, body = pilothouse_server.request("POST", "/sim/v1/clusters", {"name": name, "access": "owned"})
    assert status == 201, body
    token = body["token"]   # the presenter's: the control API of an owned cluster wants it
    status, kubeconfig = pilothouse_server.request("GET", f"/sim/v1/clusters/{name}/kubeconfig", token=token)
    assert status == 200, kubeconfig
    assert kubeconfig["users"][0]["user"]["token"] == token
    sa_url = f"{pilothouse_server.cluster_url(name)}/api/v1/namespaces/default/serviceaccounts/default"
    wait_until(lambda: _http(sa_url, token)[0] == 200, timeout=30, interval=0.1, message=f"cluster {name} bootstrapped")
    status, body = pilothouse_server.request("POST", f"/clusters/{name}/sim/v1/clock", {"speed": 20}, token=token)
    assert status == 200, body
    yield name, kubeconfig
    pilothouse_server.request("DELETE", f"/sim/v1/clusters/{name}", token=token)


def test_an_owned_cluster_refuses_the_anonymous_user(kubectl, owned_cluster, pilothouse_server, tmp_path):
    name, kubeconfig = owned_cluster
    anonymous = kubectl_runner(kubectl.binary, kube_env_for(pilothouse_server, name, tmp_path))
    denied = anonymous("get", "pods", check=False)
    # discovery is forbidden too, which kubectl words "Error from server (Forbidden): unknown",
    # as against kube-apiserver
    assert denied.returncode != 0 and "Error from server (Forbidden)" in denied.stderr, denied.stderr
    status, body = _http(f"{pilothouse_server.cluster_url(name)}/api/v1/namespaces/default/pods")
    assert status == 403 and body["kind"] == "Status" and body["reason"] == "Forbidden"
    assert body["message"] == ('pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" '
                               'in the namespace "default"')
    assert _http(f"{pilothouse_server.cluster_url(name)}/version")[0] == 200  # system:public-info-viewer
    status, body = _http(f"{pilothouse_server.cluster_url(name)}/api/v1/pods", token="wrong")
    assert status == 401 and body["reason"] == "Unauthorized"
    # the admin kubeconfig's token is kubernetes-admin, in system:masters
    config = tmp_path / "admin.kubeconfig"
    config.write_text(json.dumps(kubeconfig))
    admin = kubectl_runner(kubectl.binary, dict(anonymous.env, KUBECONFIG=str(config)))
    admin("get", "pods", "-A")
    assert admin("auth", "can-i", "*", "*").stdout.strip() == "yes"
    if kubectl.minor == "1.37":
        # exec's WebSocket over TLS carries the token too
        admin("run", "shell", "--image=busybox", "--", "sleep", "3600")
        wait_until(lambda: admin("get", "pod", "shell", "-o", "jsonpath={.status.phase}").stdout == "Running",
                   timeout=60, interval=0.3, message="pod shell Running")
        assert admin("exec", "shell", "--", "echo", "hi").stdout.strip() == "hi"

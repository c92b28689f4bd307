"""RBAC with the official `kubernetes` Python client: the TokenRequest API
(create_namespaced_service_account_token), a client whose bearer token is that token, held to
the Role its RoleBinding grants, the RBAC kinds through RbacAuthorizationV1Api, and the admin
kubeconfig of an owned cluster loaded with config.load_kube_config."""
from __future__ import annotations

import json

import pytest

from tests.conftest import wait_until

RBAC = "rbac.authorization.k8s.io"


def _client_with_token(host: str, token: str):
    from kubernetes import client
    cfg = client.Configuration()
    cfg.host = host
    cfg.api_key = {"authorization": token}
    cfg.api_key_prefix = {"authorization": "Bearer"}
    return client.ApiClient(cfg)


def test_a_serviceaccount_token_is_held_to_its_role(kube_client, pilothouse_server):
    from kubernetes import client
    core, _, name = kube_client
    rbac = client.RbacAuthorizationV1Api(core.api_client)
    core.create_namespaced_service_account("default", client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="py")))
    rbac.create_namespaced_role("default", client.V1Role(
        metadata=client.V1ObjectMeta(name="py-pods"),
        rules=[client.V1PolicyRule(api_groups=[""], resources=["pods"], verbs=["get", "list"])]))
    rbac.create_namespaced_role_binding("default", client.V1RoleBinding(
        metadata=client.V1ObjectMeta(name="py-pods"),
        role_ref=client.V1RoleRef(api_group=RBAC, kind="Role", name="py-pods"),
        subjects=[client.RbacV1Subject(kind="ServiceAccount", name="py", namespace="default")]))
    tr = core.create_namespaced_service_account_token("py", "default", client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=600)))
    assert tr.status.token and tr.spec.expiration_seconds == 600
    with _client_with_token(pilothouse_server.cluster_url(name), tr.status.token) as api_client:
        as_sa = client.CoreV1Api(api_client)
        as_sa.list_namespaced_pod("default")
        with pytest.raises(client.ApiException) as denied:
            as_sa.list_namespaced_secret("default")
        assert denied.value.status == 403
        assert json.loads(denied.value.body)["message"] == (
            'secrets is forbidden: User "system:serviceaccount:default:py" cannot list resource "secrets" in API '
            'group "" in the namespace "default"')
        who = client.AuthenticationV1Api(api_client).create_self_subject_review(client.V1SelfSubjectReview())
        assert who.status.user_info.username == "system:serviceaccount:default:py"
    with _client_with_token(pilothouse_server.cluster_url(name), "nonsense") as api_client:
        with pytest.raises(client.ApiException) as unauthorized:
            client.CoreV1Api(api_client).list_namespaced_pod("default")
        assert unauthorized.value.status == 401
    roles = {r.metadata.name for r in rbac.list_cluster_role().items}
    assert {"cluster-admin", "admin", "edit", "view"} <= roles


def test_the_admin_kubeconfig_of_an_owned_cluster(pilothouse_server, tmp_path):
    from kubernetes import client, config
    name = "api-rbac-owned"
    status, body = pilothouse_server.request("POST", "/sim/v1/clusters", {"name": name, "access": "owned"})
    assert status == 201, body
    try:
        # the kubeconfig goes only to the presenter, whose token the creation answered with
        assert pilothouse_server.request("GET", f"/sim/v1/clusters/{name}/kubeconfig")[0] == 403
        status, kubeconfig = pilothouse_server.request("GET", f"/sim/v1/clusters/{name}/kubeconfig",
                                                       token=body["token"])
        assert status == 200
        path = tmp_path / "kubeconfig"
        path.write_text(json.dumps(kubeconfig))
        api_client = config.new_client_from_config(str(path))
        with api_client:
            core = client.CoreV1Api(api_client)
            wait_until(lambda: "default" in {n.metadata.name for n in core.list_namespace().items},
                       timeout=30, interval=0.1, message="the owned cluster's default namespace")
        anonymous = client.Configuration()
        anonymous.host = pilothouse_server.cluster_url(name)
        with client.ApiClient(anonymous) as anon:
            with pytest.raises(client.ApiException) as denied:
                client.CoreV1Api(anon).list_namespace()
            assert denied.value.status == 403
    finally:
        pilothouse_server.request("DELETE", f"/sim/v1/clusters/{name}", token=body["token"])

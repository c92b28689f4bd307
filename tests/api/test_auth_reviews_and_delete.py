"""The review kinds, delete's Status and metadata.generation through the official `kubernetes`
Python client (AuthorizationV1Api, AuthenticationV1Api, AppsV1Api) and raw HTTP discovery."""
from __future__ import annotations

import requests
from kubernetes import client

from tests.conftest import wait_until


def _api_client(core: client.CoreV1Api) -> client.ApiClient:
    return core.api_client


def test_self_subject_access_review_allows(kube_client):
    core, _, _ = kube_client
    authz = client.AuthorizationV1Api(_api_client(core))
    review = authz.create_self_subject_access_review(client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(
            verb="create", resource="pods", namespace="default"))))
    assert review.status.allowed is True and not review.status.denied
    assert review.kind == "SelfSubjectAccessReview" and review.spec.resource_attributes.resource == "pods"
    rules = authz.create_self_subject_rules_review(client.V1SelfSubjectRulesReview(
        spec=client.V1SelfSubjectRulesReviewSpec(namespace="default")))
    assert [(r.verbs, r.api_groups, r.resources) for r in rules.status.resource_rules] == [(["*"], ["*"], ["*"])]
    assert rules.status.incomplete is False


def test_self_subject_review_is_anonymous(kube_client):
    core, _, _ = kube_client
    who = client.AuthenticationV1Api(_api_client(core)).create_self_subject_review(client.V1SelfSubjectReview())
    assert who.status.user_info.username == "system:anonymous"
    assert who.status.user_info.groups == ["system:unauthenticated"]


def test_discovery_lists_the_reviews_create_only(kube_client, pilothouse_server):
    _, _, name = kube_client
    base = pilothouse_server.cluster_url(name)
    # (SubjectAccessReview and TokenReview came with RBAC: docs/security/rbac.md)
    for gv, resources in (("authorization.k8s.io/v1", {"selfsubjectaccessreviews", "selfsubjectrulesreviews",
                                                       "subjectaccessreviews"}),
                          ("authentication.k8s.io/v1", {"selfsubjectreviews", "tokenreviews"})):
        listed = {r["name"]: r for r in requests.get(f"{base}/apis/{gv}", timeout=10).json()["resources"]}
        assert set(listed) == resources
        assert all(r["verbs"] == ["create"] and r["namespaced"] is False for r in listed.values())
    # Not stored, so not readable.
    assert requests.get(f"{base}/apis/authentication.k8s.io/v1/selfsubjectreviews", timeout=10).status_code == 405


def test_replicaset_delete_answers_a_status_and_scale_bumps_generation(kube_client):
    _, apps, _ = kube_client
    labels = {"app": "gen"}
    rs = client.V1ReplicaSet(
        metadata=client.V1ObjectMeta(name="gen"),
        spec=client.V1ReplicaSetSpec(replicas=1, selector=client.V1LabelSelector(match_labels=labels),
                                     template=client.V1PodTemplateSpec(
                                         metadata=client.V1ObjectMeta(labels=labels),
                                         spec=client.V1PodSpec(containers=[client.V1Container(name="c",
                                                                                              image="nginx")]))))
    created = apps.create_namespaced_replica_set("default", rs)
    assert created.metadata.generation == 1
    apps.patch_namespaced_replica_set_scale("gen", "default", {"spec": {"replicas": 2}})
    wait_until(lambda: (lambda r: (r.metadata.generation, r.status.observed_generation))(
        apps.read_namespaced_replica_set("gen", "default")) == (2, 2), timeout=30, interval=0.2,
        message="generation 2 observed")
    status = apps.delete_namespaced_replica_set("gen", "default")  # this client answers the JSON as a dict
    assert status == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                      "details": {"name": "gen", "group": "apps", "kind": "replicasets",
                                  "uid": created.metadata.uid}}

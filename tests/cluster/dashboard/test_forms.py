"""Form fields -> Kubernetes objects (cluster/dashboard/forms.py)."""
from __future__ import annotations

import pytest

from cluster.dashboard import forms


@pytest.mark.parametrize("image, name", [
    ("nginx", "nginx"),
    ("nginx:1.27", "nginx"),
    ("docker.io/library/nginx:1.27", "nginx"),
    ("registry.example:5000/team/My_App@sha256:abc", "my-app"),
    ("", "app"),
])
def test_container_name_from_image(image, name):
    assert forms.container_name(image) == name


def test_pod_from_fields():
    pod = forms.pod_from({"name": " web-1 ", "image": "nginx:1.27", "cpu": "250m", "memory": "64Mi",
                          "node_selector": "disktype=ssd, kubernetes.io/hostname=worker-2"})
    assert pod == {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "default"},
        "spec": {
            "containers": [{"name": "nginx", "image": "nginx:1.27",
                            "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}}],
            "nodeSelector": {"disktype": "ssd", "kubernetes.io/hostname": "worker-2"},
        },
    }


def test_values_the_api_judges_are_passed_through():
    # Negative CPU and a bad name are the API server's to refuse, with its own words.
    pod = forms.pod_from({"name": "Bad_Name", "cpu": "-1"})
    assert pod["metadata"]["name"] == "Bad_Name"
    assert pod["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "-1"}
    assert "resources" not in forms.pod_from({"name": "x"})["spec"]["containers"][0]


def test_replicaset_from_fields():
    rs = forms.replicaset_from({"name": "web", "replicas": "3", "image": "nginx", "cpu": "100m"})
    assert rs["apiVersion"] == "apps/v1" and rs["kind"] == "ReplicaSet"
    assert rs["spec"]["replicas"] == 3
    assert rs["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert rs["spec"]["template"]["metadata"]["labels"] == {"app": "web"}
    assert rs["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "100m"}
    assert forms.replicaset_from({"name": "web", "replicas": "-2"})["spec"]["replicas"] == -2


@pytest.mark.parametrize("fields, message", [
    ({"name": "web", "replicas": "three"}, "whole number"),
    ({"name": "web", "replicas": "1.5"}, "whole number"),
])
def test_replicas_must_be_a_whole_number(fields, message):
    with pytest.raises(forms.FormError, match=message):
        forms.replicaset_from(fields)


@pytest.mark.parametrize("text", ["disktype", "=ssd", "a=b, c"])
def test_node_selector_must_be_key_value(text):
    with pytest.raises(forms.FormError, match="key=value"):
        forms.node_selector(text)


def test_api_request_shape():
    req = forms.api_request("delete", "pods", "default", name="web")
    assert req == {"verb": "delete", "group": "", "version": "v1", "resource": "pods",
                   "namespace": "default", "name": "web", "subresource": None, "body": None,
                   "patch_type": None, "query": {}}

"""The dashboard shows objects of every served kind (issue 9): the "API objects" panel lists the
built-in kinds with their counts, and a kind defined by a CustomResourceDefinition appears,
marked CRD, with its objects, the moment it is established - and goes when the CRD does."""
from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import open_dashboard, wait_js
from tests.conftest import make_cluster

pytestmark = pytest.mark.services

CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "widgets.toys.example.com"},
       "spec": {"group": "toys.example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                    "type": "object", "properties": {"spec": {"type": "object", "properties": {
                        "size": {"type": "integer"}}}}}}}]}}

ROW_JS = """(kind) => { const tr = document.querySelector(`#kinds-table tr[data-kind="${kind}"]`);
  return tr ? [...tr.cells].map((c) => c.textContent) : null; }"""


def test_every_served_kind_is_listed_and_a_crd_kind_appears(page, browser_server):
    name = make_cluster(browser_server, "kinds")
    api = f"{browser_server.base}/clusters/{name}"
    open_dashboard(page, browser_server, name)
    wait_js(page, f"({ROW_JS})('Namespace')", 20, message="the Namespace row")
    row = page.evaluate(ROW_JS, "Namespace")
    namespaces = requests.get(f"{api}/api/v1/namespaces", timeout=10).json()["items"]
    assert row[1:4] == ["core", "Cluster", str(len(namespaces))]
    assert "default" in row[4] and "kube-system" in row[4]
    assert page.evaluate(ROW_JS, "ReplicaSet")[1:3] == ["apps", "Namespaced"]

    r = requests.post(f"{api}/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=CRD, timeout=10)
    assert r.status_code == 201, r.text

    def created() -> bool:
        w = requests.post(f"{api}/apis/toys.example.com/v1/namespaces/default/widgets", timeout=10,
                          json={"apiVersion": "toys.example.com/v1", "kind": "Widget",
                                "metadata": {"name": "blue"}, "spec": {"size": 3}})
        return w.status_code == 201

    from tests.conftest import wait_until
    wait_until(created, timeout=20, interval=0.3, message="the Widget kind to be served")
    wait_js(page, f"(({ROW_JS})('Widget') || [])[3] === '1'", 20, message="the Widget row with its object")
    row = page.evaluate(ROW_JS, "Widget")
    assert row[0] == "Widget CRD" and row[1:5] == ["toys.example.com", "Namespaced", "1", "default/blue"]
    assert "from CustomResourceDefinitions" in page.inner_text("#kinds-summary")

    requests.delete(f"{api}/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.toys.example.com",
                    timeout=10).raise_for_status()
    wait_js(page, f"({ROW_JS})('Widget') === null", 30, message="the Widget row to go with its CRD")

"""Lists in chunks (https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks)
and lists answered as Tables, as kube-apiserver serves them."""
from __future__ import annotations

import base64
import json

from sim.apiserver import continuetoken
from tests.sim.conftest import ok

CM = {"resource": "configmaps"}


def make_configmaps(c, namespace: str, names: list[str]) -> None:
    if namespace != "default":
        ok(c.request({"verb": "create", "resource": "namespaces", "body": {"metadata": {"name": namespace}}}), 201)
    for name in names:
        ok(c.request({"verb": "create", **CM, "namespace": namespace,
                      "body": {"metadata": {"name": name, "labels": {"even": str(int(name[-1]) % 2 == 0)}},
                               "data": {"k": name}}}), 201)


def pages(c, limit: int, query: dict | None = None, **req) -> list[dict]:
    out, token = [], None
    while True:
        query = {**(query or {}), "limit": str(limit), **({"continue": token} if token else {})}
        body = ok(c.request({"verb": "list", **CM, **req, "query": query}))
        out.append(body)
        token = body["metadata"].get("continue")
        if not token:
            return out


def names(body: dict) -> list[str]:
    return [i["metadata"]["name"] for i in body["items"]]


def test_chunks_follow_key_order_with_upstreams_token_and_count(cluster):
    make_configmaps(cluster, "default", [f"cm-{i}" for i in range(7)])
    make_configmaps(cluster, "zz", ["cm-0"])
    got = pages(cluster, 3, namespace="default")
    # kube-root-ca.crt is in every namespace (the root-ca controller's).
    assert [names(p) for p in got] == [["cm-0", "cm-1", "cm-2"], ["cm-3", "cm-4", "cm-5"], ["cm-6", "kube-root-ca.crt"]]
    first = got[0]["metadata"]
    assert first["remainingItemCount"] == 5
    # The token is upstream's: {"v", "rv", "start": "/<namespace>/<name>\0"}, unpadded base64url.
    token = json.loads(base64.urlsafe_b64decode(first["continue"] + "=" * (-len(first["continue"]) % 4)))
    assert token == {"v": "meta.k8s.io/v1", "rv": int(first["resourceVersion"]), "start": "/default/cm-2\x00"}
    assert "=" not in first["continue"]
    # Every page reports the first page's resourceVersion, as a list at that revision does.
    assert {p["metadata"]["resourceVersion"] for p in got} == {first["resourceVersion"]}
    # All namespaces: in key order, namespace first, each object once.
    everything = [(i["metadata"]["namespace"], i["metadata"]["name"]) for p in pages(cluster, 4) for i in p["items"]]
    assert everything == sorted(set(everything))
    assert everything[-2:] == [("zz", "cm-0"), ("zz", "kube-root-ca.crt")]


def test_a_deletion_between_chunks_neither_skips_nor_repeats(cluster):
    make_configmaps(cluster, "default", [f"cm-{i}" for i in range(6)])
    first = ok(cluster.request({"verb": "list", **CM, "namespace": "default", "query": {"limit": "3"}}))
    assert names(first) == ["cm-0", "cm-1", "cm-2"]
    # An object already served goes away: an index-based cursor would now skip cm-3.
    ok(cluster.request({"verb": "delete", **CM, "namespace": "default", "name": "cm-0"}))
    rest = ok(cluster.request({"verb": "list", **CM, "namespace": "default",
                               "query": {"limit": "3", "continue": first["metadata"]["continue"]}}))
    assert names(rest) == ["cm-3", "cm-4", "cm-5"]


def test_selectors_filter_chunks_and_hide_the_remaining_count(cluster):
    make_configmaps(cluster, "default", [f"cm-{i}" for i in range(8)])
    got = pages(cluster, 2, namespace="default", query={"labelSelector": "even=True"})
    assert [names(p) for p in got] == [["cm-0", "cm-2"], ["cm-4", "cm-6"]]
    # etcd counts the keys left, not the matches: with a selector upstream leaves the count out.
    assert "remainingItemCount" not in got[0]["metadata"]


def test_bad_continue_tokens_are_refused_as_upstream_refuses_them(cluster):
    def listed(**query):
        return cluster.request({"verb": "list", **CM, "namespace": "default", "query": query})

    def encoded(token: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(token).encode()).decode().rstrip("=")

    bad = listed(**{"continue": "not base64!"})
    assert bad["code"] == 400 and bad["body"]["message"].startswith(continuetoken.INVALID_START_RV)
    bad = listed(**{"continue": encoded({"v": "meta.k8s.io/v2", "rv": 1, "start": "/a\x00"})})
    assert bad["body"]["message"] == 'continue key is not valid: server does not recognize this encoded version "meta.k8s.io/v2"'
    assert listed(**{"continue": encoded({"v": "meta.k8s.io/v1", "rv": 0, "start": "/a"})})["body"]["message"] == \
        continuetoken.INVALID_START_RV
    assert listed(**{"continue": encoded({"v": "meta.k8s.io/v1", "rv": 5, "start": ""})})["body"]["message"] == \
        continuetoken.EMPTY_START_KEY
    traversal = listed(**{"continue": encoded({"v": "meta.k8s.io/v1", "rv": 5, "start": "/../secrets/x"})})
    assert traversal["code"] == 400 and traversal["body"]["message"] == "continue key is not valid: /../secrets/x"
    both = listed(**{"continue": encoded({"v": "meta.k8s.io/v1", "rv": 5, "start": "/a\x00"}), "resourceVersion": "5"})
    assert both["code"] == 400 and both["body"]["message"] == "specifying resource version is not allowed when using continue"


def test_a_list_asked_as_a_table_is_printed_by_the_apiserver(cluster):
    make_configmaps(cluster, "default", ["cm-1"])
    table = ok(cluster.request({"verb": "list", **CM, "namespace": "default",
                                "as": {"apiVersion": "meta.k8s.io/v1", "includeObject": "None"}}))
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Data", "Age"]
    row = next(r for r in table["rows"] if r["cells"][0] == "cm-1")
    assert row["cells"][1] == 1 and "object" not in row
    one = ok(cluster.request({"verb": "get", **CM, "namespace": "default", "name": "cm-1",
                              "as": {"apiVersion": "meta.k8s.io/v1beta1"}}))
    assert one["apiVersion"] == "meta.k8s.io/v1beta1" and one["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    # Errors stay Status objects.
    missing = cluster.request({"verb": "get", **CM, "namespace": "default", "name": "nope",
                               "as": {"apiVersion": "meta.k8s.io/v1"}})
    assert missing["code"] == 404 and missing["body"]["kind"] == "Status"

"""Paths and methods become ApiRequests as kube-apiserver's RequestInfoFactory reads them."""
import pytest

from cluster.api.requestinfo import RequestError, parse


def p(method, path, query=None, content_type="", body=b""):
    return parse(method, path.strip("/").split("/"), query or {}, content_type, body)


def test_namespaced_collection_and_item():
    r = p("GET", "api/v1/namespaces/default/pods")
    assert (r.verb, r.group, r.resource, r.namespace, r.name) == ("list", "", "pods", "default", None)
    r = p("GET", "api/v1/namespaces/default/pods/web")
    assert (r.verb, r.name, r.subresource) == ("get", "web", None)


def test_all_namespaces_list_and_cluster_scoped():
    assert p("GET", "api/v1/pods").namespace is None
    r = p("GET", "api/v1/nodes/worker-1")
    assert (r.resource, r.name, r.namespace) == ("nodes", "worker-1", None)


def test_namespace_object_is_a_name_not_a_namespace_segment():
    r = p("GET", "api/v1/namespaces/kube-system")
    assert (r.resource, r.name, r.namespace) == ("namespaces", "kube-system", None)
    r = p("PUT", "api/v1/namespaces/kube-system/status", body=b"{}")
    assert (r.resource, r.name, r.subresource, r.verb) == ("namespaces", "kube-system", "status", "update")


def test_group_resources_and_subresources():
    r = p("GET", "apis/apps/v1/namespaces/default/replicasets")
    assert (r.group, r.version, r.resource) == ("apps", "v1", "replicasets")
    r = p("POST", "api/v1/namespaces/default/pods/web/binding", body=b'{"target": {"name": "worker-1"}}')
    assert (r.verb, r.subresource, r.body) == ("create", "binding", {"target": {"name": "worker-1"}})


def test_watch_forms():
    assert p("GET", "api/v1/pods", {"watch": "true"}).verb == "watch"
    assert p("GET", "api/v1/pods", {"watch": "1"}).verb == "watch"
    assert p("GET", "api/v1/pods", {"watch": "false"}).verb == "list"
    r = p("GET", "api/v1/watch/namespaces/default/pods")
    assert (r.verb, r.namespace) == ("watch", "default")
    r = p("GET", "api/v1/namespaces/default/pods/web", {"watch": "1"})
    assert (r.verb, r.name, r.query["fieldSelector"]) == ("watch", None, "metadata.name=web")


def test_delete_and_deletecollection_take_options_from_the_body():
    r = p("DELETE", "api/v1/namespaces/default/pods/web", body=b'{"gracePeriodSeconds": 0, "propagationPolicy": "Background"}')
    assert (r.verb, r.query["gracePeriodSeconds"], r.query["propagationPolicy"]) == ("delete", "0", "Background")
    assert p("DELETE", "api/v1/namespaces/default/pods").verb == "deletecollection"


def test_patch_type_from_content_type():
    r = p("PATCH", "api/v1/namespaces/default/pods/web", content_type="application/merge-patch+json", body=b"{}")
    assert (r.verb, r.patch_type) == ("patch", "application/merge-patch+json")
    with pytest.raises(RequestError) as e:
        p("PATCH", "api/v1/namespaces/default/pods/web", content_type="text/plain", body=b"{}")
    assert e.value.code == 415


@pytest.mark.parametrize("path", ["api/v1/widgets", "apis/apps/v1/pods", "api/v2/pods", "apis/nope/v1/things",
                                  "api/v1/namespaces/default/pods/web/logs"])
def test_unknown_resources_are_404(path):
    with pytest.raises(RequestError) as e:
        p("GET", path)
    assert (e.value.code, e.value.reason) == (404, "NotFound")


def test_bad_json_and_method_not_allowed():
    with pytest.raises(RequestError) as e:
        p("POST", "api/v1/namespaces/default/pods", body=b"{nope")
    assert (e.value.code, e.value.reason) == (400, "BadRequest")
    with pytest.raises(RequestError) as e:
        p("POST", "api/v1/namespaces/default/pods/web", body=b"{}")
    assert e.value.code == 405


def test_query_parameters_decode_as_the_options_do():
    with pytest.raises(RequestError) as e:
        p("GET", "api/v1/pods", {"limit": "abc"})
    assert (e.value.code, e.value.message) == (400, 'strconv.ParseInt: parsing "abc": invalid syntax')
    with pytest.raises(RequestError) as e:
        p("POST", "api/v1/namespaces/default/pods", {"dryRun": "yes"}, body=b"{}")
    assert (e.value.code, e.value.message) == (
        422, 'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"yes"}: supported values: "All"')
    assert p("GET", "api/v1/pods", {"watch": "yes"}).verb == "watch"  # anything but false/0


def test_namespaced_kinds_outside_a_namespace():
    with pytest.raises(RequestError) as e:
        p("POST", "api/v1/pods", body=b"{}")
    assert e.value.code == 405
    with pytest.raises(RequestError) as e:
        p("GET", "api/v1/pods/web")
    assert e.value.code == 404


def test_bodies_read_as_go_reads_them():
    with pytest.raises(RequestError) as e:
        p("POST", "api/v1/namespaces/default/pods", body=b'{"spec": NaN}')
    assert e.value.message == ("the object provided is unrecognized (must be of type Pod): couldn't get version/kind; "
                               "json parse error: invalid character 'N' looking for beginning of value "
                               '({"spec": NaN})')
    with pytest.raises(RequestError) as e:
        p("POST", "api/v1/namespaces/default/pods", content_type="text/plain", body=b"{}")
    assert e.value.code == 415
    r = p("POST", "api/v1/namespaces/default/pods", content_type="application/yaml",
          body=b"metadata: {name: y}\nspec: {containers: [{name: c, image: i}]}\n")
    assert r.body["metadata"] == {"name": "y"}
    with pytest.raises(RequestError) as e:
        p("POST", "api/v1/namespaces/default/pods", content_type="application/yaml",
          body=b"a: &a [x, x]\n" + b"".join(b"b%d: &b%d [*a, *a]\n" % (i, i) for i in range(60)))
    assert "excessive aliasing" in e.value.message
    r = p("DELETE", "api/v1/namespaces/default/pods/web", body=b'{"gracePeriodSeconds": 5, "unknown": 1}')
    assert r.query["gracePeriodSeconds"] == "5" and "unknown" not in r.body

"""ServiceAccounts (pkg/registry/core/serviceaccount), the serviceaccounts controller
(pkg/controller/serviceaccount) and the ServiceAccount admission plugin
(plugin/pkg/admission/serviceaccount): a `default` one in every namespace, pods get it and the
projected kube-api-access volume, and are refused while the ServiceAccount they name is missing."""
import copy

import pytest

from sim.cluster import Cluster, ClusterConfig
from sim.registry import BUILTIN
from tests.builders import MakePod
from tests.sim.conftest import ok


MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


@pytest.fixture(scope="module")
def c():
    cluster = Cluster("sa", ClusterConfig.default(seed=7))
    cluster.advance(5)
    return cluster


def req(c, verb, resource, ns="default", name=None, body=None, **kw):
    return c.request({"verb": verb, "resource": resource, "namespace": ns, "name": name, "body": body, **kw})


def token_volume(p):
    vols = [v for v in p["spec"].get("volumes") or [] if v["name"].startswith("kube-api-access-")]
    return vols[0] if vols else None


def test_every_system_namespace_has_a_default_service_account(c):
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        sa = ok(req(c, "get", "serviceaccounts", ns, "default"))
        assert sa["metadata"]["name"] == "default"


def test_a_new_namespace_gets_one_from_the_controller(c):
    ok(req(c, "create", "namespaces", None, body={"metadata": {"name": "fresh"}}), 201)
    p = ok(req(c, "create", "pods", "fresh", body=MakePod().name("early").container("nginx:1.27", name="app").manifest()), 201)
    assert p["spec"]["serviceAccountName"] == "default"
    ok(req(c, "get", "serviceaccounts", "fresh", "default"))


def test_a_pod_gets_the_default_service_account_and_the_kube_api_access_volume(c):
    p = ok(req(c, "create", "pods", body=MakePod().name("web").container("nginx:1.27", name="app").spec(initContainers=[{"name": "init", "image": "busybox"}]).manifest()), 201)
    spec = p["spec"]
    assert spec["serviceAccountName"] == "default" and spec["serviceAccount"] == "default"
    vol = token_volume(p)
    name = vol["name"]
    assert len(name) == len("kube-api-access-") + 5
    assert vol["projected"] == {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace",
                                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}
    for container in spec["initContainers"] + spec["containers"]:
        assert container["volumeMounts"] == [{"name": name, "readOnly": True, "mountPath": MOUNT}]
    c.advance(10)
    assert ok(req(c, "get", "pods", name="web"))["status"]["phase"] == "Running"


def test_automount_false_on_the_pod_or_its_service_account(c):
    p = ok(req(c, "create", "pods", body=MakePod().name("no-token").container("nginx:1.27", name="app").spec(automountServiceAccountToken=False).manifest()), 201)
    assert token_volume(p) is None and "volumeMounts" not in p["spec"]["containers"][0]
    ok(req(c, "create", "serviceaccounts", body={"metadata": {"name": "quiet"}, "automountServiceAccountToken": False,
                                                 "imagePullSecrets": [{"name": "regcred"}]}), 201)
    p = ok(req(c, "create", "pods", body=MakePod().name("quiet-pod").container("nginx:1.27", name="app").spec(serviceAccountName="quiet").manifest()), 201)
    assert token_volume(p) is None
    assert p["spec"]["imagePullSecrets"] == [{"name": "regcred"}]
    # The pod's preference wins over its ServiceAccount's.
    p = ok(req(c, "create", "pods", body=MakePod().name("loud-pod").container("nginx:1.27", name="app").spec(serviceAccountName="quiet", automountServiceAccountToken=True).manifest()), 201)
    assert token_volume(p) is not None


def test_a_container_with_its_own_mount_at_the_token_path_is_left_alone(c):
    own = {"name": "mine", "mountPath": MOUNT}
    p = ok(req(c, "create", "pods", body=MakePod().name("own").container("nginx:1.27", name="app").spec(volumes=[{"name": "mine", "emptyDir": {}}], containers=[{"name": "a", "image": "nginx", "volumeMounts": [own]},
                                                          {"name": "b", "image": "nginx"}]).manifest()), 201)
    a, b = p["spec"]["containers"]
    assert a["volumeMounts"] == [own]
    assert b["volumeMounts"][0]["mountPath"] == MOUNT and token_volume(p) is not None


def test_a_missing_service_account_refuses_the_pod(c):
    resp = req(c, "create", "pods", body=MakePod().name("orphan").container("nginx:1.27", name="app").spec(serviceAccountName="bot").manifest())
    assert resp["code"] == 403
    assert resp["body"]["message"] == ('pods "orphan" is forbidden: error looking up service account '
                                       'default/bot: serviceaccount "bot" not found')
    ok(req(c, "create", "serviceaccounts", body={"metadata": {"name": "bot"}}), 201)
    ok(req(c, "create", "pods", body=MakePod().name("orphan").container("nginx:1.27", name="app").spec(serviceAccountName="bot").manifest()), 201)


@pytest.fixture(scope="module")
def without_controllers():
    """A cluster whose kube-controller-managers are stopped: nothing makes ServiceAccounts."""
    c = Cluster("sa-late", ClusterConfig.default(seed=8))
    c.advance(5)
    for cm in c.controller_managers:
        cm.stop()
    return c


def test_a_default_service_account_that_never_comes_refuses_the_pod_after_the_retries(without_controllers):
    c = without_controllers
    ok(req(c, "create", "namespaces", None, body={"metadata": {"name": "lonely"}}), 201)
    start = c.now
    resp = req(c, "create", "pods", "lonely", body=MakePod().name("p").container("nginx:1.27", name="app").manifest())
    assert resp["code"] == 403
    assert resp["body"]["message"] == ('pods "p" is forbidden: error looking up service account '
                                       'lonely/default: serviceaccount "default" not found')
    assert 0.9 <= c.now - start <= 2.0  # 9 more lookups, 100-200 ms apart


def test_a_pod_waits_while_the_default_service_account_is_being_made(without_controllers):
    c = without_controllers
    ok(req(c, "create", "namespaces", None, body={"metadata": {"name": "racing"}}), 201)
    pending = c.begin_request({"verb": "create", "resource": "pods", "namespace": "racing", "body": MakePod().name("p").container("nginx:1.27", name="app").manifest()})
    c.advance(0.5)
    assert c.request_reply(pending) is None  # still in admission
    ok(req(c, "create", "serviceaccounts", "racing", body={"metadata": {"name": "default"}}), 201)
    resp = c.run_request(pending)
    assert resp["code"] == 201 and resp["body"]["spec"]["serviceAccountName"] == "default"


def test_deleted_default_service_account_comes_back_and_secrets_keep_names_only(c):
    ok(req(c, "delete", "serviceaccounts", name="default"))
    c.advance(1)
    ok(req(c, "get", "serviceaccounts", name="default"))
    sa = ok(req(c, "create", "serviceaccounts", body={"metadata": {"name": "refs"},
                                                      "secrets": [{"name": "tok", "namespace": "x", "uid": "u"}]}), 201)
    assert sa["secrets"] == [{"name": "tok"}]
    res = BUILTIN.lookup("", "serviceaccounts")
    assert [col["name"] for col in res.printer.columns] == ["Name", "Secrets", "Age"]
    assert res.printer.row(sa, c.api_time)[:2] == ["refs", 1] and res.short_names == ("sa",)
    resp = req(c, "create", "serviceaccounts", body={"metadata": {"name": "Bad_Name"}})
    assert resp["code"] == 422


def test_the_deprecated_service_account_field_is_an_alias(c):
    ok(req(c, "create", "serviceaccounts", body={"metadata": {"name": "old-style"}}), 201)
    p = ok(req(c, "create", "pods", body=MakePod().name("alias").container("nginx:1.27", name="app").spec(serviceAccount="old-style").manifest()), 201)
    assert p["spec"]["serviceAccountName"] == p["spec"]["serviceAccount"] == "old-style"
    # An update that leaves the alias out keeps it.
    c.advance(5)
    body = copy.deepcopy(ok(req(c, "get", "pods", name="alias")))  # not the cached object itself
    del body["spec"]["serviceAccount"], body["metadata"]["resourceVersion"]
    body["metadata"]["labels"] = {"x": "y"}
    assert ok(req(c, "update", "pods", name="alias", body=body))["spec"]["serviceAccount"] == "old-style"


def test_a_fresh_cluster_has_the_system_service_accounts_before_the_controllers_run():
    """The bootstrap difference (README): the system namespaces start with their `default`
    ServiceAccount and kube-root-ca.crt, so a pod can be made the moment a cluster exists."""
    c = Cluster("sa-fresh", ClusterConfig.default(seed=9))
    c.advance(0.2)
    assert not any(cm.running and getattr(cm, "elector", None) and cm.elector.leading
                   for cm in c.controller_managers)
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert (ns, "default") in c.apiserver.cache.objects("serviceaccounts")
        assert (ns, "kube-root-ca.crt") in c.apiserver.cache.objects("configmaps")
    ok(req(c, "create", "pods", body=MakePod().name("first").container("nginx:1.27", name="app").manifest()), 201)


def test_a_deleted_namespace_goes_and_nothing_is_made_in_it_meanwhile(c):
    ok(req(c, "create", "namespaces", None, body={"metadata": {"name": "doomed"}}), 201)
    c.advance(1)
    ok(req(c, "get", "serviceaccounts", "doomed", "default"))
    ok(req(c, "delete", "namespaces", None, "doomed"))
    c.advance(15)
    assert req(c, "get", "namespaces", None, "doomed")["code"] == 404
    for resource in ("serviceaccounts", "configmaps"):
        assert ok(req(c, "list", resource, "doomed"))["items"] == []

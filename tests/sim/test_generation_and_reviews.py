"""metadata.generation as the 1.32 strategies keep it, status.observedGeneration from the
ReplicaSet controller, what a delete answers (a Status, or the object for pods and namespaces),
and the create-only review kinds (SelfSubjectAccessReview, SelfSubjectRulesReview,
SelfSubjectReview) of the AlwaysAllow, all-anonymous cluster."""
from tests.builders import MakePod, MakePriorityClass, MakeReplicaSet
from tests.sim.conftest import create_pod, get_pod, ok

RS = {"group": "apps", "resource": "replicasets", "namespace": "default", "name": "web"}


def _rs(c):
    ok(c.request({"verb": "create", "group": "apps", "resource": "replicasets", "namespace": "default",
                  "body": MakeReplicaSet.scenario("web", 1, "nginx:1.27", "100m", "64Mi")}), 201)


def _get_rs(c) -> dict:
    return ok(c.request({"verb": "get", **RS}))


def _patch(c, body, subresource=None):
    req = {"verb": "patch", **RS, "body": body, "patch_type": "application/merge-patch+json"}
    if subresource:
        req["subresource"] = subresource
    return ok(c.request(req))


def _generations(c) -> tuple:
    rs = _get_rs(c)
    return rs["metadata"].get("generation"), rs["status"].get("observedGeneration")


def test_replicaset_generation_follows_spec_changes_only(cluster):
    _rs(cluster)
    cluster.advance(3)
    assert _generations(cluster) == (1, 1)
    _patch(cluster, {"metadata": {"labels": {"tier": "web"}}})  # metadata only
    _patch(cluster, {"status": {"replicas": 7}}, "status")     # status only
    _patch(cluster, {"status": {"replicas": 7}})               # status through the main resource: ignored
    assert _get_rs(cluster)["metadata"]["generation"] == 1
    _patch(cluster, {"spec": {"replicas": 2}})
    assert _get_rs(cluster)["metadata"]["generation"] == 2
    _patch(cluster, {"spec": {"replicas": 3}}, "scale")        # the scale subresource changes spec.replicas
    assert _get_rs(cluster)["metadata"]["generation"] == 3
    _patch(cluster, {"spec": {"replicas": 3}})                 # no change: no new generation
    _patch(cluster, {"metadata": {"generation": 40}})          # clients cannot set it
    assert _get_rs(cluster)["metadata"]["generation"] == 3
    cluster.advance(5)
    assert _generations(cluster) == (3, 3)


def test_priorityclass_generation_stays_1(cluster):
    ok(cluster.request({"verb": "create", "group": "scheduling.k8s.io", "resource": "priorityclasses",
                        "body": MakePriorityClass().name("high").value(10).obj()}), 201)
    changed = ok(cluster.request({"verb": "patch", "group": "scheduling.k8s.io", "resource": "priorityclasses",
                                  "name": "high", "body": {"description": "now described"},
                                  "patch_type": "application/merge-patch+json"}))
    assert changed["metadata"]["generation"] == 1


def test_pod_generation_is_tracked_and_observed_by_the_kubelet(cluster):
    """KEP-5067 PodObservedGenerationTracking (GA in 1.35): 1 on create whatever the client
    sends, bumped by a spec change and by graceful deletion, never by a status write; the
    kubelet reports the generation it acted on in status.observedGeneration and its conditions."""
    manifest = (MakePod().name("gen").namespace("default").metadata(generation=5)
                .container("nginx:1.27", name="app").manifest())
    created = ok(cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": manifest}), 201)
    assert created["metadata"]["generation"] == 1
    cluster.advance(10)
    running = ok(cluster.request({"verb": "get", "resource": "pods", "namespace": "default", "name": "gen"}))
    assert running["metadata"]["generation"] == 1 and running["status"]["observedGeneration"] == 1
    assert {c["type"]: c.get("observedGeneration") for c in running["status"]["conditions"]}["Ready"] == 1
    patched = ok(cluster.request({"verb": "patch", "resource": "pods", "namespace": "default", "name": "gen",
                                  "body": {"spec": {"activeDeadlineSeconds": 600}},
                                  "patch_type": "application/merge-patch+json"}))
    assert patched["metadata"]["generation"] == 2
    deleting = ok(cluster.request({"verb": "delete", "resource": "pods", "namespace": "default", "name": "gen"}))
    assert deleting["kind"] == "Pod" and deleting["metadata"]["generation"] == 3


def test_delete_answers_a_status_except_for_pods_and_namespaces(cluster):
    _rs(cluster)
    uid = _get_rs(cluster)["metadata"]["uid"]
    gone = ok(cluster.request({"verb": "delete", **RS}), 200)
    assert gone == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                    "details": {"name": "web", "group": "apps", "kind": "replicasets", "uid": uid}}
    ok(cluster.request({"verb": "create", "group": "scheduling.k8s.io", "resource": "priorityclasses",
                        "body": MakePriorityClass().name("low").value(1).obj()}), 201)
    gone = ok(cluster.request({"verb": "delete", "group": "scheduling.k8s.io", "resource": "priorityclasses",
                               "name": "low"}))
    assert gone["kind"] == "Status" and gone["details"]["kind"] == "priorityclasses"
    # A pod is answered as the object (ReturnDeletedObject), deleted at once or not.
    ok(create_pod(cluster, "huge", cpu="64"))
    cluster.advance(1)
    assert ok(cluster.request({"verb": "delete", "resource": "pods", "namespace": "default",
                               "name": "huge"}))["kind"] == "Pod"
    assert get_pod(cluster, "huge")["code"] == 404
    # Held by a finalizer: the object, marked for deletion, for every kind.
    _rs(cluster)
    _patch(cluster, {"metadata": {"finalizers": ["example.com/hold"]}})
    held = ok(cluster.request({"verb": "delete", **RS}))
    assert held["kind"] == "ReplicaSet" and held["metadata"]["deletionTimestamp"]
    assert held["metadata"]["generation"] == 2  # markAsDeleting bumps a set generation
    # A dry-run delete answers the same Status and deletes nothing.
    ok(cluster.request({"verb": "create", "group": "scheduling.k8s.io", "resource": "priorityclasses",
                        "body": MakePriorityClass().name("kept").value(1).obj()}), 201)
    dry = ok(cluster.request({"verb": "delete", "group": "scheduling.k8s.io", "resource": "priorityclasses",
                              "name": "kept", "query": {"dryRun": "All"}}))
    assert dry["kind"] == "Status" and dry["details"]["name"] == "kept"
    assert cluster.request({"verb": "get", "group": "scheduling.k8s.io", "resource": "priorityclasses",
                            "name": "kept"})["code"] == 200


def test_the_reviews_answer_for_the_anonymous_all_allowed_cluster(cluster):
    sar = ok(cluster.request({"verb": "create", "group": "authorization.k8s.io",
                              "resource": "selfsubjectaccessreviews",
                              "body": {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                                       "spec": {"resourceAttributes": {"verb": "create", "resource": "pods",
                                                                       "namespace": "default"}}}}), 201)
    assert sar["status"] == {"allowed": True}
    assert sar["spec"]["resourceAttributes"]["resource"] == "pods"
    neither = cluster.request({"verb": "create", "group": "authorization.k8s.io",
                               "resource": "selfsubjectaccessreviews", "body": {"spec": {}}})
    assert neither["code"] == 422 and neither["body"]["message"] == (
        'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: '
        '"null": exactly one of nonResourceAttributes or resourceAttributes must be specified')
    both = cluster.request({"verb": "create", "group": "authorization.k8s.io", "resource": "selfsubjectaccessreviews",
                            "body": {"spec": {"resourceAttributes": {"verb": "get"},
                                              "nonResourceAttributes": {"path": "/healthz", "verb": "get"}}}})
    assert both["code"] == 422 and both["body"]["details"]["causes"][0]["field"] == "spec.nonResourceAttributes"
    assert both["body"]["message"].endswith("cannot be specified in combination with resourceAttributes")
    rules = ok(cluster.request({"verb": "create", "group": "authorization.k8s.io",
                                "resource": "selfsubjectrulesreviews",
                                "body": {"spec": {"namespace": "default"}}}), 201)
    assert rules["status"]["resourceRules"] == [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
    assert rules["status"]["incomplete"] is False and rules["spec"] == {}  # a new object, as upstream's
    no_ns = cluster.request({"verb": "create", "group": "authorization.k8s.io", "resource": "selfsubjectrulesreviews",
                             "body": {"spec": {}}})
    assert no_ns["code"] == 400 and no_ns["body"]["message"] == "no namespace on request"
    who = ok(cluster.request({"verb": "create", "group": "authentication.k8s.io",
                              "resource": "selfsubjectreviews", "body": {}}), 201)
    assert (who["kind"], who["apiVersion"]) == ("SelfSubjectReview", "authentication.k8s.io/v1")
    assert who["status"]["userInfo"] == {"username": "system:anonymous", "groups": ["system:unauthenticated"]}
    assert who["metadata"]["creationTimestamp"].endswith("Z")
    # Not stored: there is nothing to get or list.
    assert cluster.request({"verb": "list", "group": "authentication.k8s.io",
                            "resource": "selfsubjectreviews"})["code"] == 404

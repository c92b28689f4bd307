"""PriorityClasses in kube-apiserver (scheduling.k8s.io/v1), the Priority admission plugin, and
the API calls DefaultPreemption makes (pods/status nominatedNodeName and DisruptionTarget,
graceful deletion of victims).  Messages are upstream's: pkg/apis/scheduling/validation,
plugin/pkg/admission/priority, pkg/registry/scheduling/priorityclass/storage."""
import pytest

from sim.cluster import Cluster, ClusterConfig, NodeSpec
from tests.builders import MakePod, MakePriorityClass, MakeReplicaSet
from tests.sim.conftest import create_pod, get_pod, ok


PC = {"group": "scheduling.k8s.io", "version": "v1", "resource": "priorityclasses"}
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"


def pc_request(c, verb, name=None, body=None, **kw):
    return c.request({**PC, "verb": verb, "name": name, "body": body, **kw})


def create_pc(c, name, value, **fields):
    return pc_request(c, "create", body=MakePriorityClass().name(name).value(value).fields(**fields).manifest())


def pod_request(c, verb, name, body=None, **kw):
    return c.request({"verb": verb, "resource": "pods", "namespace": "default", "name": name, "body": body, **kw})


# -- the system classes ------------------------------------------------------------------------
def test_apiserver_creates_the_system_priority_classes_at_startup(cluster):
    items = ok(pc_request(cluster, "list"))["items"]
    by_name = {pc["metadata"]["name"]: pc for pc in items}
    assert set(by_name) == {"system-node-critical", "system-cluster-critical"}
    node, clus = by_name["system-node-critical"], by_name["system-cluster-critical"]
    assert (node["value"], clus["value"]) == (2000001000, 2000000000)
    assert node["description"] == "Used for system critical pods that must not be moved from their current node."
    assert clus["description"] == ("Used for system critical pods that must run in the cluster, but can be "
                                   "moved to another node if necessary.")
    for pc in items:
        assert pc["preemptionPolicy"] == "PreemptLowerPriority" and "globalDefault" not in pc
        assert pc["metadata"]["generation"] == 1 and pc["apiVersion"] == "scheduling.k8s.io/v1"


def test_every_apiserver_of_an_ha_control_plane_runs_the_hook_but_each_class_is_created_once():
    nodes = [NodeSpec(f"cp-{i}", "control-plane", "4", "16Gi") for i in (1, 2, 3)] + [NodeSpec("worker-1")]
    c = Cluster("ha", ClusterConfig(seed=5, nodes=nodes, etcd_members=3))
    c.advance(30)
    created = [e["text"] for e in c.drain_events() if e["kind"] == "action" and "created PriorityClass" in e["text"]]
    assert sorted(created) == ["kube-apiserver created PriorityClass system-cluster-critical with value 2000000000",
                               "kube-apiserver created PriorityClass system-node-critical with value 2000001000"]
    assert all(a.post_start_hooks[0].done for a in c.apiservers)
    # A restart finds them in etcd and writes nothing.
    restored = Cluster.restore("ha", c.topology(), c.committed_since(0), c.now)
    restored.advance(30)
    assert not [e for e in restored.drain_events() if e["kind"] == "action" and "created PriorityClass" in e["text"]]
    assert len(ok(pc_request(restored, "list"))["items"]) == 2


def test_system_priority_classes_cannot_be_deleted(cluster):
    resp = pc_request(cluster, "delete", "system-node-critical")
    assert resp["code"] == 403 and resp["body"]["reason"] == "Forbidden"
    assert resp["body"]["message"] == ('priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: '
                                       'this is a system priority class and cannot be deleted')
    assert resp["body"]["details"] == {"name": "system-node-critical", "group": "scheduling.k8s.io",
                                       "kind": "priorityclasses"}
    assert ok(pc_request(cluster, "get", "system-node-critical"))["value"] == 2000001000


def test_deletecollection_removes_them_as_upstream_and_an_apiserver_restart_brings_them_back(cluster):
    # The generic store's DeleteCollection bypasses REST.Delete's guard (upstream's PriorityClass
    # e2e test avoids DeleteCollection for that reason); the post-start hook restores them.
    ok(create_pc(cluster, "mine", 1))
    deleted = ok(pc_request(cluster, "deletecollection"))
    assert sorted(pc["metadata"]["name"] for pc in deleted["items"]) == \
        ["mine", "system-cluster-critical", "system-node-critical"]
    assert ok(pc_request(cluster, "list"))["items"] == []
    cluster.kill_node("cp-1")
    cluster.advance(5)
    cluster.restore_node("cp-1")
    cluster.advance(30)
    assert sorted(pc["metadata"]["name"] for pc in ok(pc_request(cluster, "list"))["items"]) == \
        ["system-cluster-critical", "system-node-critical"]


# -- validation --------------------------------------------------------------------------------
@pytest.mark.parametrize("name, value, fields, message", [
    ("system-mine", 5, {}, "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for "
                           "system use only. error: system-mine is not a known system priority class"),
    ("system-node-critical", 7, {}, "metadata.name: Forbidden: priority class names with 'system-' prefix are "
                                    "reserved for system use only. error: value of system-node-critical "
                                    "PriorityClass must be 2000001000"),
    ("huge", 1000000001, {}, "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"),
    ("odd", 5, {"preemptionPolicy": "Sometimes"},
     'preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"'),
    ("Bad_Name", 5, {}, 'metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain'),
])
def test_invalid_priority_classes_are_422_with_upstream_messages(cluster, name, value, fields, message):
    resp = create_pc(cluster, name, value, **fields)
    assert resp["code"] == 422 and resp["body"]["reason"] == "Invalid", resp
    assert resp["body"]["message"].startswith(f'PriorityClass.scheduling.k8s.io "{name}" is invalid: {message}')
    assert resp["body"]["details"]["group"] == "scheduling.k8s.io"


def test_the_highest_user_value_is_allowed_and_defaults_apply(cluster):
    body = ok(create_pc(cluster, "top", 1000000000, description="", globalDefault=False), 201)
    assert body["value"] == 1000000000 and body["preemptionPolicy"] == "PreemptLowerPriority"
    assert "globalDefault" not in body and "description" not in body  # omitempty
    assert ok(create_pc(cluster, "negative", -5), 201)["value"] == -5


def test_value_and_preemption_policy_are_immutable(cluster):
    ok(create_pc(cluster, "mid", 100, description="first"))
    patch = dict(PC, verb="patch", name="mid", patch_type=MERGE)
    resp = cluster.request(dict(patch, body={"value": 200}))
    assert resp["code"] == 422
    assert resp["body"]["message"] == ('PriorityClass.scheduling.k8s.io "mid" is invalid: '
                                       'value: Forbidden: may not be changed in an update.')
    resp = cluster.request(dict(patch, body={"preemptionPolicy": "Never"}))
    assert resp["code"] == 422 and 'preemptionPolicy: Invalid value: "Never": field is immutable' in resp["body"]["message"]
    # Everything else may change, through any patch type.
    changed = ok(cluster.request(dict(patch, body={"description": "second", "metadata": {"labels": {"tier": "b"}}})))
    assert changed["description"] == "second" and changed["value"] == 100
    changed = ok(cluster.request(dict(patch, patch_type=STRATEGIC, body={"metadata": {"annotations": {"a": "1"}}})))
    assert changed["metadata"]["annotations"] == {"a": "1"} and changed["metadata"]["generation"] == 1


def test_wrong_json_types_are_400_decoding_errors(cluster):
    resp = create_pc(cluster, "typed", "1000")
    assert resp["code"] == 400 and resp["body"]["message"] == (
        'PriorityClass in version "v1" cannot be handled as a PriorityClass: json: cannot unmarshal string '
        'into Go struct field PriorityClass.value of type int32')
    resp = create_pc(cluster, "typed", 3000000000)
    assert resp["code"] == 400 and "cannot unmarshal number 3000000000 into Go struct field PriorityClass.value" \
        in resp["body"]["message"]
    resp = create_pod(cluster, "typed", priority="5")
    assert resp["code"] == 400 and resp["body"]["message"] == (
        'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field '
        'PodSpec.spec.priority of type int32')


def test_unknown_fields_are_refused_with_strict_field_validation(cluster):
    body = {"metadata": {"name": "typo"}, "vaule": 10}
    resp = cluster.request({**PC, "verb": "create", "body": body, "query": {"fieldValidation": "Strict"}})
    assert resp["code"] == 400 and 'strict decoding error: unknown field "vaule"' in resp["body"]["message"]
    warned = cluster.request({**PC, "verb": "create", "body": body})
    assert warned["code"] == 201 and warned["warnings"] == ['unknown field "vaule"'] and warned["body"]["value"] == 0


def test_only_one_global_default(cluster):
    ok(create_pc(cluster, "default-low", 10, globalDefault=True))
    resp = create_pc(cluster, "default-two", 20, globalDefault=True)
    assert resp["code"] == 403 and resp["body"]["message"] == (
        'priorityclasses.scheduling.k8s.io "default-two" is forbidden: PriorityClass default-low is already '
        'marked as default. Only one default can exist')
    ok(create_pc(cluster, "other", 20))
    resp = cluster.request(dict(PC, verb="patch", name="other", patch_type=MERGE, body={"globalDefault": True}))
    assert resp["code"] == 403 and "PriorityClass default-low is already marked as default" in resp["body"]["message"]
    # The default itself may be updated and stay the default.
    ok(cluster.request(dict(PC, verb="patch", name="default-low", patch_type=MERGE, body={"description": "d"})))


# -- the Priority admission plugin -------------------------------------------------------------
def test_a_pod_without_a_class_gets_priority_zero_and_preempt_lower_priority(cluster):
    spec = ok(create_pod(cluster, "plain"), 201)["spec"]
    assert spec["priority"] == 0 and spec["preemptionPolicy"] == "PreemptLowerPriority"
    assert "priorityClassName" not in spec


def test_a_pod_gets_its_class_value_and_policy(cluster):
    ok(create_pc(cluster, "batch", 500, preemptionPolicy="Never"))
    spec = ok(create_pod(cluster, "job", priorityClassName="batch"), 201)["spec"]
    assert (spec["priority"], spec["preemptionPolicy"], spec["priorityClassName"]) == (500, "Never", "batch")
    spec = ok(create_pod(cluster, "critical", priorityClassName="system-cluster-critical"), 201)["spec"]
    assert spec["priority"] == 2000000000  # allowed in any namespace since 1.17
    # Stating the same values itself is fine.
    spec = ok(create_pod(cluster, "same", priorityClassName="batch", priority=500, preemptionPolicy="Never"))["spec"]
    assert spec["priority"] == 500


def test_the_global_default_class_applies_to_pods_that_name_none(cluster):
    ok(create_pc(cluster, "standard", 100, globalDefault=True))
    spec = ok(create_pod(cluster, "web"), 201)["spec"]
    assert (spec["priority"], spec["priorityClassName"], spec["preemptionPolicy"]) == \
        (100, "standard", "PreemptLowerPriority")


def test_unknown_class_and_inconsistent_priority_are_forbidden(cluster):
    ok(create_pc(cluster, "batch", 500, preemptionPolicy="Never"))
    resp = create_pod(cluster, "lost", priorityClassName="nope")
    assert resp["code"] == 403 and resp["body"]["reason"] == "Forbidden"
    assert resp["body"]["message"] == 'pods "lost" is forbidden: no PriorityClass with name nope was found'
    assert resp["body"]["details"] == {"name": "lost", "kind": "pods"}
    resp = create_pod(cluster, "sneaky", priority=1000000)
    assert resp["code"] == 403 and resp["body"]["message"] == (
        'pods "sneaky" is forbidden: the integer value of priority (1000000) must not be provided in pod spec; '
        'priority admission controller computed 0 from the given PriorityClass name')
    resp = create_pod(cluster, "pushy", priorityClassName="batch", preemptionPolicy="PreemptLowerPriority")
    assert resp["code"] == 403 and resp["body"]["message"] == (
        'pods "pushy" is forbidden: the string value of PreemptionPolicy (PreemptLowerPriority) must not be '
        'provided in pod spec; priority admission controller computed Never from the given PriorityClass name')
    # A generated name does not exist yet when admission runs: the error names the generateName.
    body = MakePod().name("x").namespace("default").container("nginx:1.27", name="app", cpu="100m", memory="64Mi").priority_class_name("nope").manifest()
    body["metadata"] = {"generateName": "web-", "namespace": "default"}
    resp = cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body})
    assert resp["body"]["message"] == 'pods "web-" is forbidden: no PriorityClass with name nope was found'
    names = [p["metadata"]["name"] for p in ok(cluster.request({"verb": "list", "resource": "pods",
                                                                "namespace": "default"}))["items"]]
    assert not {"lost", "sneaky", "pushy"} & set(names)


def test_replicaset_pods_get_their_priority_at_creation_not_in_the_template(cluster):
    ok(create_pc(cluster, "frontend", 300))
    rs = (MakeReplicaSet().name("shop").namespace("default").replicas(2).selector({"app": "shop"})
          .template(MakePod().labels({"app": "shop"}).container("nginx:1.27", name="app", cpu="100m", memory="64Mi")
                    .priority_class_name("frontend")).manifest())
    created = ok(cluster.request({"verb": "create", "group": "apps", "resource": "replicasets",
                                  "namespace": "default", "body": rs}))
    tspec = created["spec"]["template"]["spec"]
    assert "priority" not in tspec and "preemptionPolicy" not in tspec
    cluster.advance(10)
    pods = ok(cluster.request({"verb": "list", "resource": "pods", "namespace": "default",
                               "query": {"labelSelector": "app=shop"}}))["items"]
    assert len(pods) == 2 and {p["spec"]["priority"] for p in pods} == {300}


def test_priority_survives_an_update_that_omits_it_and_cannot_be_changed(cluster):
    ok(create_pc(cluster, "batch", 500))
    cur = ok(create_pod(cluster, "job", priorityClassName="batch"))
    body = {**cur, "spec": {k: v for k, v in cur["spec"].items() if k not in ("priority", "preemptionPolicy")},
            "metadata": {**cur["metadata"], "labels": {"x": "y"}}}
    updated = ok(pod_request(cluster, "update", "job", body))
    assert updated["spec"]["priority"] == 500 and updated["metadata"]["labels"] == {"x": "y"}
    resp = pod_request(cluster, "patch", "job", {"spec": {"priorityClassName": "system-node-critical"}},
                       patch_type=MERGE)
    assert resp["code"] == 422 and "pod updates may not change fields" in resp["body"]["message"]
    resp = pod_request(cluster, "patch", "job", {"spec": {"priority": 7}}, patch_type=MERGE)
    assert resp["code"] == 422
    assert ok(get_pod(cluster, "job"))["spec"]["priority"] == 500


def test_priority_classes_are_watchable(cluster):
    start = ok(pc_request(cluster, "list"))["metadata"]["resourceVersion"]
    ok(create_pc(cluster, "w", 1))
    ok(pc_request(cluster, "delete", "w"))
    resp = cluster.request({**PC, "verb": "watch", "query": {"resourceVersion": start}})
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in resp["events"]] == [("ADDED", "w"), ("DELETED", "w")]


# -- the API side of preemption --------------------------------------------------------------
def _running_on(c, name):
    for _ in range(40):
        p = ok(get_pod(c, name))
        if p["status"].get("phase") == "Running":
            return p
        c.advance(0.5)
    raise AssertionError(f"{name} not Running: {p['status']}")


def test_the_api_calls_of_default_preemption(cluster):
    """What DefaultPreemption does once it has chosen a node and its victims
    (pkg/scheduler/framework/preemption Evaluator.prepareCandidate, then the scheduler's
    failure handler): patch each victim's status with a DisruptionTarget condition, delete it
    (gracefully), and patch the preemptor's status with nominatedNodeName.  The preemptor here
    names a scheduler no one runs, so the test is that scheduler."""
    ok(create_pc(cluster, "low", 10))
    ok(create_pc(cluster, "high", 1000))
    ok(create_pod(cluster, "victim", cpu="3", priorityClassName="low"))
    victim = _running_on(cluster, "victim")
    node = victim["spec"]["nodeName"]
    preemptor = ok(create_pod(cluster, "urgent", cpu="3", priorityClassName="high",
                              schedulerName="example.com/manual", nodeSelector={"kubernetes.io/hostname": node}))
    assert preemptor["spec"]["priority"] == 1000 > victim["spec"]["priority"] == 10

    # 1. The victim's DisruptionTarget condition, as util.PatchPodStatus sends it (a two-way
    #    strategic merge patch of the status).
    cond = {"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler",
            "message": "default-scheduler: preempting to accommodate a higher priority pod",
            "lastTransitionTime": cluster.apiserver.timestamp()}
    order = [{"type": c["type"]} for c in victim["status"]["conditions"]] + [{"type": "DisruptionTarget"}]
    patched = ok(pod_request(cluster, "patch", "victim", {"status": {"$setElementOrder/conditions": order,
                                                                     "conditions": [cond]}},
                             subresource="status", patch_type=STRATEGIC))
    conds = {c["type"]: c for c in patched["status"]["conditions"]}
    assert conds["DisruptionTarget"] == {**cond, "lastProbeTime": None}  # a zero metav1.Time is stored as null
    assert conds["Ready"]["status"] == "True" and patched["status"]["phase"] == "Running"

    # 2. util.DeletePod: DeleteOptions{} - the victim's own grace period.
    deleted = ok(pod_request(cluster, "delete", "victim"))
    assert deleted["metadata"]["deletionGracePeriodSeconds"] == 30 and deleted["metadata"]["deletionTimestamp"]
    assert any(c["type"] == "DisruptionTarget" for c in deleted["status"]["conditions"])

    # 3. The preemptor: PodScheduled False and the nominated node.
    unsched = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "lastProbeTime": None,
               "message": "0/4 nodes are available: 1 Insufficient cpu.",
               "lastTransitionTime": cluster.apiserver.timestamp()}
    nominated = ok(pod_request(cluster, "patch", "urgent",
                               {"status": {"$setElementOrder/conditions": [{"type": "PodScheduled"}],
                                           "conditions": [unsched], "nominatedNodeName": node}},
                               subresource="status", patch_type=STRATEGIC))
    assert nominated["status"]["nominatedNodeName"] == node and nominated["status"]["conditions"] == [unsched]
    listed = ok(cluster.request({"verb": "list", "resource": "pods", "namespace": "default",
                                 "query": {"fieldSelector": f"status.nominatedNodeName={node}"}}))["items"]
    assert [p["metadata"]["name"] for p in listed] == ["urgent"]

    # 4. The victim's kubelet ends it after its grace period; then the room is there to bind.
    cluster.advance(35)
    assert get_pod(cluster, "victim")["code"] == 404
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "urgent"},
               "target": {"apiVersion": "v1", "kind": "Node", "name": node}}
    ok(pod_request(cluster, "create", "urgent", binding, subresource="binding"), 201)
    assert _running_on(cluster, "urgent")["spec"]["nodeName"] == node


def test_nominated_node_name_is_cleared_with_a_null_and_must_be_a_node_name(cluster):
    ok(create_pod(cluster, "waiting", schedulerName="example.com/manual"))
    status = dict(subresource="status", patch_type=MERGE)
    ok(pod_request(cluster, "patch", "waiting", {"status": {"nominatedNodeName": "worker-2"}}, **status))
    # util.ClearNominatedNodeName
    cleared = ok(pod_request(cluster, "patch", "waiting", {"status": {"nominatedNodeName": None}}, **status))
    assert "nominatedNodeName" not in cleared["status"]
    resp = pod_request(cluster, "patch", "waiting", {"status": {"nominatedNodeName": "Worker_2"}}, **status)
    assert resp["code"] == 422 and resp["body"]["message"].startswith(
        'Pod "waiting" is invalid: status.nominatedNodeName: Invalid value: "Worker_2": a lowercase RFC 1123 subdomain')
    resp = pod_request(cluster, "patch", "waiting", {"status": {"conditions": [{"type": "not a type!", "status": "True"}]}},
                       **status)
    assert resp["code"] == 422 and 'metadata.conditions[0].Type: Invalid value: "not a type!"' in resp["body"]["message"]
    # The status subresource cannot bind a pod: spec changes through it are ignored.
    same = ok(pod_request(cluster, "patch", "waiting", {"spec": {"nodeName": "worker-1"},
                                                        "status": {"message": "hi"}}, **status))
    assert "nodeName" not in same["spec"] and same["status"]["message"] == "hi"

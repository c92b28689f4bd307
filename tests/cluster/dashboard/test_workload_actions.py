"""The Workloads view's actions without a server: kubectl rollout undo's plan (rollback_plan),
kubectl drain's pod filters, the Create form's objects (kubectl create / autoscale), where a
kind keeps its pod template."""
from __future__ import annotations

import pytest

from cluster.dashboard import forms, workloadforms
from cluster.workloads import ANNOTATIONS_TO_SKIP, drain_filter, pause_refusal, pod_template_path, rollback_plan


def _template(image, hash_=None, extra_labels=None):
    labels = {"app": "web", **(extra_labels or {})}
    if hash_:
        labels["pod-template-hash"] = hash_
    return {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "nginx", "image": image}]}}


def _rs(rev, image, hash_, uid="d1", annotations=None):
    return {"metadata": {"name": f"web-{hash_}", "annotations": {"deployment.kubernetes.io/revision": str(rev),
                                                                   **(annotations or {})},
                         "ownerReferences": [{"uid": uid, "controller": True}]},
            "spec": {"template": _template(image, hash_)}}


DEP = {"metadata": {"name": "web", "annotations": {"deployment.kubernetes.io/revision": "3",
                                                   "kubectl.kubernetes.io/last-applied-configuration": "{}",
                                                   "team": "blue"}},
       "spec": {"template": _template("nginx:1.29")}}
RSS = [_rs(1, "nginx:1.27", "aaa", annotations={"kubernetes.io/change-cause": "first"}),
       _rs(3, "nginx:1.29", "ccc"), _rs(2, "nginx:1.28", "bbb")]


def test_undo_goes_to_the_revision_before_the_newest():
    patch, msg = rollback_plan(DEP, RSS, 0)
    assert msg == "rolled back"
    (tmpl, ann) = patch
    assert tmpl == {"op": "replace", "path": "/spec/template", "value": _template("nginx:1.28")}
    assert "pod-template-hash" not in tmpl["value"]["metadata"]["labels"]
    # The Deployment keeps its own revision and last-applied; other annotations are the RS's.
    assert ann["path"] == "/metadata/annotations"
    assert ann["value"] == {"deployment.kubernetes.io/revision": "3",
                            "kubectl.kubernetes.io/last-applied-configuration": "{}"}


def test_undo_to_a_chosen_revision_copies_its_annotations():
    patch, _ = rollback_plan(DEP, RSS, 1)
    assert patch[0]["value"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert patch[1]["value"]["kubernetes.io/change-cause"] == "first"
    assert set(patch[1]["value"]) - {"kubernetes.io/change-cause"} <= set(ANNOTATIONS_TO_SKIP)


@pytest.mark.parametrize("deployment, rss, revision, message", [
    (DEP, RSS, 7, "unable to find specified revision 7 in history"),
    (DEP, RSS, -1, "unable to find specified revision -1 in history"),
    (DEP, RSS[1:2], 0, 'no rollout history found for deployment "web"'),
    (DEP, RSS, 3, "skipped rollback (current template already matches revision 3)"),
    ({**DEP, "spec": {**DEP["spec"], "paused": True}}, RSS, 0,
     "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume deployment/web' and try again"),
])
def test_undo_refusals_in_kubectls_words(deployment, rss, revision, message):
    assert rollback_plan(deployment, rss, revision) == (None, message)


def _pod(owner_kind=None, phase="Running", volumes=(), mirror=False):
    md = {"name": "p", "namespace": "default"}
    if owner_kind:
        md["ownerReferences"] = [{"kind": owner_kind, "name": "x", "uid": "u", "controller": True}]
    if mirror:
        md["annotations"] = {"kubernetes.io/config.mirror": "abc"}
    return {"metadata": md, "spec": {"volumes": list(volumes)}, "status": {"phase": phase}}


def test_drain_filters_as_kubectl():
    assert drain_filter(_pod("ReplicaSet"), True, True, False) == ("evict", "")
    assert drain_filter(_pod("DaemonSet"), True, True, False)[0] == "skip"
    assert drain_filter(_pod("DaemonSet"), False, True, False) == (
        "refuse", "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)")
    assert drain_filter(_pod(mirror=True), True, True, False) == ("skip", "")
    assert drain_filter(_pod(), True, True, False) == (
        "refuse", "cannot delete Pods that declare no controller (use --force to override)")
    assert drain_filter(_pod(), True, True, True) == ("evict", "")
    assert drain_filter(_pod(phase="Succeeded"), True, True, False) == ("evict", "")
    empty_dir = [{"name": "scratch", "emptyDir": {}}]
    assert drain_filter(_pod("ReplicaSet", volumes=empty_dir), True, False, False) == (
        "refuse", "cannot delete Pods with local storage (use --delete-emptydir-data to override)")


def test_create_form_objects_as_kubectl_create_builds_them():
    kind, dep = workloadforms.workload_from({"kind": "Deployment", "name": "web", "image": "nginx:1.27",
                                              "replicas": "4", "cpu": "100m"})
    assert kind == "Deployment" and dep["apiVersion"] == "apps/v1" and dep["spec"]["replicas"] == 4
    assert dep["spec"]["selector"] == {"matchLabels": {"app": "web"}} == {"matchLabels": dep["spec"]["template"]["metadata"]["labels"]}
    _, ds = workloadforms.workload_from({"kind": "DaemonSet", "name": "agent"})
    assert "replicas" not in ds["spec"]
    _, ss = workloadforms.workload_from({"kind": "StatefulSet", "name": "db", "replicas": "2"})
    assert ss["spec"]["serviceName"] == "db"
    _, job = workloadforms.workload_from({"kind": "Job", "name": "pi", "image": "perl",
                                          "command": "perl -Mbignum=bpi -wle 'print bpi(20)'", "completions": "3"})
    c = job["spec"]["template"]["spec"]
    assert c["restartPolicy"] == "Never" and c["containers"][0]["command"] == ["perl", "-Mbignum=bpi", "-wle", "print bpi(20)"]
    assert job["spec"]["completions"] == 3 and job["apiVersion"] == "batch/v1"
    _, cj = workloadforms.workload_from({"kind": "CronJob", "name": "tick", "schedule": "*/1 * * * *",
                                         "concurrency_policy": "Forbid"})
    assert cj["spec"]["schedule"] == "*/1 * * * *" and cj["spec"]["concurrencyPolicy"] == "Forbid"
    assert cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"
    _, hpa = workloadforms.workload_from({"kind": "HorizontalPodAutoscaler", "name": "web", "min": "1", "max": "5",
                                          "cpu_percent": "50"})
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"] == {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                           "minReplicas": 1, "maxReplicas": 5, "metrics": [{"type": "Resource", "resource": {
                               "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}


@pytest.mark.parametrize("fields, message", [
    ({"kind": "Pod", "name": "x"}, "is not one of"),
    ({"kind": "Deployment", "name": "x", "replicas": "many"}, "whole number"),
    ({"kind": "Job", "name": "x", "command": "sh -c 'unterminated"}, "command"),
])
def test_create_form_refuses_what_is_no_object(fields, message):
    with pytest.raises(forms.FormError, match=message):
        workloadforms.workload_from(fields)


def test_pod_template_paths():
    assert pod_template_path({"spec": {"template": {}}}) == ["spec", "template"]
    assert pod_template_path({"spec": {"jobTemplate": {"spec": {"template": {}}}}}) == \
        ["spec", "jobTemplate", "spec", "template"]
    assert pod_template_path({"spec": {"scaleTargetRef": {}}}) is None


def test_pause_and_resume_refuse_a_no_op_in_kubectls_words():
    # kubectl 1.27 and 1.37 alike: error: deployments.apps "web" is already paused / is not paused
    deployments = {"name": "deployments", "group": "apps", "kind": "Deployment"}
    assert pause_refusal(deployments, "web", True) == 'deployments.apps "web" is already paused'
    assert pause_refusal(deployments, "web", False) == 'deployments.apps "web" is not paused'
    assert pause_refusal({"name": "widgets", "group": ""}, "w", True) == 'widgets "w" is already paused'

"""batch/v1 Jobs: the kind (sim/registry/batch/jobs.py), the Job controller (sim/controllers/job.py)
and the TTL-after-finished controller, over pods whose containers really run and exit."""
import copy

from sim.api.meta import parse_timestamp
from sim.controllers.job import remaining_backoff
from sim.registry.batch.jobs import RESOURCE as JOBS, format_indexes, indexes_of
from tests.sim.conftest import advance_until, ok


def job_manifest(name, command, restart="Never", image="busybox:1.36", **spec):
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {**spec, "template": {"spec": {"containers": [{"name": "c", "image": image, "command": command}],
                                                   "restartPolicy": restart}}}}


def create_job(c, body, code=201):
    resp = c.request({"verb": "create", "group": "batch", "resource": "jobs", "namespace": "default", "body": body})
    assert resp["code"] == code, resp
    return resp["body"]


def get_job(c, name):
    return ok(c.request({"verb": "get", "group": "batch", "resource": "jobs", "namespace": "default", "name": name}))


def job_pods(c, name):
    items = ok(c.request({"verb": "list", "resource": "pods", "namespace": "default",
                          "query": {"labelSelector": f"batch.kubernetes.io/job-name={name}"}}))["items"]
    return sorted(items, key=lambda p: (p["metadata"]["creationTimestamp"], p["metadata"]["name"]))


def conditions(job):
    return [(x["type"], x["status"], x.get("reason")) for x in job["status"].get("conditions") or []]


def finished(c, name):
    return any(t in ("Complete", "Failed") and s == "True" for t, s, _ in conditions(get_job(c, name)))


def job_events(c, name):
    items = ok(c.request({"verb": "list", "resource": "events", "namespace": "default",
                          "query": {"fieldSelector": f"involvedObject.name={name}"}}))["items"]
    items.sort(key=lambda e: int(e["metadata"]["resourceVersion"]))
    return [(e["type"], e["reason"], e["message"]) for e in items if e["involvedObject"]["kind"] == "Job"]


def log_of(c, pod):
    return c.request({"verb": "get", "resource": "pods", "namespace": "default", "name": pod["metadata"]["name"],
                      "subresource": "log", "query": {}})["text"]


def finish_time(pod):
    return parse_timestamp(pod["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"])


# -- the kind -------------------------------------------------------------------------------
def test_defaults_generated_selector_and_labels(cluster):
    job = create_job(cluster, job_manifest("pi", ["perl", "-Mbignum=bpi", "-wle", "print bpi(20)"],
                                           image="perl:5.34.0"))
    uid, spec = job["metadata"]["uid"], job["spec"]
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"], spec["completionMode"], spec["suspend"],
            spec["manualSelector"], spec["podReplacementPolicy"]) == (1, 1, 6, "NonIndexed", False, False,
                                                                     "TerminatingOrFailed")
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    expected = {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "pi",
                "controller-uid": uid, "job-name": "pi"}
    assert spec["template"]["metadata"]["labels"] == expected
    assert job["metadata"]["labels"] == expected      # the Job shows its template's labels
    assert job["metadata"]["generation"] == 1 and job["status"] == {}
    # A podFailurePolicy makes only failed pods replaced; conditions default to status True.
    pfp = job_manifest("p", ["true"], podFailurePolicy={"rules": [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]})
    spec = create_job(cluster, pfp)["spec"]
    assert spec["podReplacementPolicy"] == "Failed"
    assert spec["podFailurePolicy"]["rules"][0]["onPodConditions"] == [{"type": "DisruptionTarget", "status": "True"}]


def test_validation(cluster):
    def message(body):
        resp = cluster.request({"verb": "create", "group": "batch", "resource": "jobs", "namespace": "default",
                                "body": body})
        assert resp["code"] == 422, resp
        return resp["body"]["message"]

    assert message(job_manifest("a", ["true"], restart="Always")) == \
        'Job.batch "a" is invalid: spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'
    assert 'spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0' in \
        message(job_manifest("b", ["true"], backoffLimit=-1))
    assert "spec.completions: Required value: when completion mode is Indexed" in \
        message(job_manifest("c", ["true"], completionMode="Indexed", parallelism=2))
    assert 'only "Never" is supported when podFailurePolicy is specified' in message(job_manifest(
        "d", ["true"], restart="OnFailure",
        podFailurePolicy={"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [1]}}]}))
    assert "spec.completionMode: Invalid value: \"NonIndexed\": requires indexed completion mode" in message(
        job_manifest("e", ["true"], successPolicy={"rules": [{"succeededCount": 1}]}))
    manual = job_manifest("f", ["true"], manualSelector=True, selector={"matchLabels": {"app": "x"}})
    assert "`selector` does not match template `labels`" in message(manual)
    # The template is immutable, but for the scheduling directives of a suspended Job never started.
    create_job(cluster, job_manifest("s", ["true"], suspend=True))
    cur = get_job(cluster, "s")
    moved = copy.deepcopy(cur)
    moved["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/hostname": "worker-2"}
    ok(cluster.request({"verb": "update", "group": "batch", "resource": "jobs", "namespace": "default", "name": "s",
                        "body": moved}))
    changed = copy.deepcopy(get_job(cluster, "s"))   # never mutate what the server answered
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1.37"
    resp = cluster.request({"verb": "update", "group": "batch", "resource": "jobs", "namespace": "default",
                            "name": "s", "body": changed})
    assert resp["code"] == 422 and "spec.template: Invalid value" in resp["body"]["message"] \
        and "field is immutable" in resp["body"]["message"]


def test_index_intervals():
    assert format_indexes({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8"
    assert indexes_of("0-2,5,7-8", 8) == {0, 1, 2, 5, 7}
    # 10 s, doubling per failure after the first, at most 6 minutes, less the time since
    assert [remaining_backoff(100.0, n, 100.0) for n in (0, 1, 2, 3, 6, 7, 20)] == \
        [0, 10, 20, 40, 320, 360, 360]
    assert remaining_backoff(100.0, 2, 95.0) == 15


# -- the controller ---------------------------------------------------------------------------
def test_backoff_limit_two_makes_three_attempts_with_the_back_off_between_them(cluster):
    create_job(cluster, job_manifest("fail", ["sh", "-c", "exit 1"], backoffLimit=2))
    advance_until(cluster, lambda: finished(cluster, "fail"), 120)
    job = get_job(cluster, "fail")
    pods = job_pods(cluster, "fail")
    assert len(pods) == 3 and all(p["status"]["phase"] == "Failed" for p in pods)
    assert all(p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 1 for p in pods)
    created = [parse_timestamp(p["metadata"]["creationTimestamp"]) for p in pods]
    failed_at = [finish_time(p) for p in pods]
    # the first retry 10 s after the first failure, the second 20 s after the second
    # (whole-second timestamps, and the 1 s batching of pod events)
    assert 10 <= created[1] - failed_at[0] <= 12
    assert 20 <= created[2] - failed_at[1] <= 22
    # FailureTarget first, Failed once every pod is counted; every finalizer removed
    assert conditions(job) == [("FailureTarget", "True", "BackoffLimitExceeded"),
                               ("Failed", "True", "BackoffLimitExceeded")]
    assert job["status"]["conditions"][1]["message"] == "Job has reached the specified backoff limit"
    assert job["status"]["failed"] == 3 and not job["status"].get("succeeded") and "completionTime" not in job["status"]
    assert job["status"]["uncountedTerminatedPods"] == {}
    assert all(not p["metadata"].get("finalizers") for p in pods)
    events = job_events(cluster, "fail")
    assert [e for e in events if e[1] == "SuccessfulCreate"] == [
        ("Normal", "SuccessfulCreate", f"Created pod: {p['metadata']['name']}") for p in pods]
    assert events[-1] == ("Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit")


def test_completions_and_parallelism(cluster):
    create_job(cluster, job_manifest("work", ["sh", "-c", "sleep 5"], completions=5, parallelism=2))
    most = [0]

    def done():
        pods = job_pods(cluster, "work")
        most[0] = max(most[0], sum(1 for p in pods if p["status"].get("phase") in ("Pending", "Running")))
        return finished(cluster, "work")

    advance_until(cluster, done, 120)
    job = get_job(cluster, "work")
    assert most[0] == 2
    assert len(job_pods(cluster, "work")) == 5
    assert conditions(job) == [("SuccessCriteriaMet", "True", "CompletionsReached"),
                               ("Complete", "True", "CompletionsReached")]
    assert job["status"]["succeeded"] == 5 and job["status"]["completionTime"]
    table = JOBS.printer.row(job, cluster.now)
    assert table[1:4] == ["Complete", "5/5", table[3]] and table[3].endswith("s")
    assert ("Normal", "Completed", "Job completed") in job_events(cluster, "work")


def test_indexed_job_pods_see_their_index(cluster):
    create_job(cluster, job_manifest("idx", ["sh", "-c", "echo index=$JOB_COMPLETION_INDEX host=$(hostname)"],
                                     completions=3, parallelism=3, completionMode="Indexed"))
    advance_until(cluster, lambda: finished(cluster, "idx"), 60)
    job = get_job(cluster, "idx")
    assert job["status"]["completedIndexes"] == "0-2" and job["status"]["succeeded"] == 3
    by_index = {p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]: p
                for p in job_pods(cluster, "idx")}
    assert sorted(by_index) == ["0", "1", "2"]
    for ix, pod in by_index.items():
        assert pod["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] == ix
        assert pod["metadata"]["name"].startswith(f"idx-{ix}-")
        assert pod["spec"]["hostname"] == f"idx-{ix}"
        assert log_of(cluster, pod) == f"index={ix} host=idx-{ix}\n"


def test_active_deadline_seconds(cluster):
    create_job(cluster, job_manifest("slow", ["sh", "-c", "sleep 300"], activeDeadlineSeconds=15))
    start = cluster.now
    advance_until(cluster, lambda: finished(cluster, "slow"), 90)
    job = get_job(cluster, "slow")
    assert conditions(job) == [("FailureTarget", "True", "DeadlineExceeded"), ("Failed", "True", "DeadlineExceeded")]
    target = parse_timestamp(job["status"]["conditions"][0]["lastTransitionTime"])
    assert 14 <= target - start <= 17    # whole-second timestamps
    assert job["status"]["conditions"][1]["message"] == "Job was active longer than specified deadline"
    # The active pod was deleted; `sh` as PID 1 ignores SIGTERM, so it went at the end of its
    # 30 s grace period, and only then the Job is Failed, with the pod counted as a failure.
    failed_at = parse_timestamp(job["status"]["conditions"][1]["lastTransitionTime"])
    assert 29 <= failed_at - target <= 33
    assert job_pods(cluster, "slow") == [] and job["status"]["failed"] == 1


def test_pod_failure_policy_fail_job_and_ignore(cluster):
    policy = {"rules": [{"action": "FailJob", "onExitCodes": {"containerName": "c", "operator": "In", "values": [42]}},
                        {"action": "Ignore", "onExitCodes": {"operator": "In", "values": [3]}}]}
    create_job(cluster, job_manifest("pfp", ["sh", "-c", "exit 42"], backoffLimit=6, podFailurePolicy=policy))
    advance_until(cluster, lambda: finished(cluster, "pfp"), 60)
    job = get_job(cluster, "pfp")
    pod, = job_pods(cluster, "pfp")      # no retry: the rule failed the Job at once
    assert conditions(job) == [("FailureTarget", "True", "PodFailurePolicy"), ("Failed", "True", "PodFailurePolicy")]
    assert job["status"]["conditions"][1]["message"] == (
        f"Container c for pod default/{pod['metadata']['name']} failed with exit code 42 matching FailJob rule at index 0")
    # An ignored exit code does not count against backoffLimit 0: retried until it succeeds.
    create_job(cluster, job_manifest("ign", ["sh", "-c", "exit 3"], backoffLimit=0, podFailurePolicy=policy))
    advance_until(cluster, lambda: len(job_pods(cluster, "ign")) >= 3, 60)
    job = get_job(cluster, "ign")
    assert not finished(cluster, "ign") and not job["status"].get("failed")


def test_success_policy(cluster):
    body = job_manifest("lead", ["sh", "-c", "if [ $JOB_COMPLETION_INDEX = 0 ]; then exit 0; fi; sleep 300"],
                        completions=3, parallelism=3, completionMode="Indexed",
                        successPolicy={"rules": [{"succeededIndexes": "0"}]})
    create_job(cluster, body)
    advance_until(cluster, lambda: finished(cluster, "lead"), 90)
    job = get_job(cluster, "lead")
    assert conditions(job) == [("SuccessCriteriaMet", "True", "SuccessPolicy"), ("Complete", "True", "SuccessPolicy")]
    assert job["status"]["conditions"][1]["message"] == "Matched rules at index 0"
    assert job["status"]["completedIndexes"] == "0" and job["status"]["succeeded"] == 1
    # the other indexes' pods were deleted, and are not counted as failures
    assert not job["status"].get("failed")
    assert [p["status"]["phase"] for p in job_pods(cluster, "lead")] == ["Succeeded"]


def test_suspend_and_resume(cluster):
    create_job(cluster, job_manifest("later", ["sh", "-c", "sleep 5"], suspend=True))
    cluster.advance(5)
    job = get_job(cluster, "later")
    assert job_pods(cluster, "later") == [] and "startTime" not in job["status"]
    assert conditions(job) == [("Suspended", "True", "JobSuspended")]
    assert JOBS.printer.row(job, cluster.now)[1] == "Suspended"
    ok(cluster.request({"verb": "patch", "group": "batch", "resource": "jobs", "namespace": "default", "name": "later",
                        "body": {"spec": {"suspend": False}}, "patch_type": "application/merge-patch+json"}))
    advance_until(cluster, lambda: finished(cluster, "later"), 60)
    job = get_job(cluster, "later")
    assert conditions(job)[0] == ("Suspended", "False", "JobResumed")
    assert ("Normal", "Resumed", "Job resumed") in job_events(cluster, "later")
    assert job["status"]["succeeded"] == 1


def test_ttl_after_finished_deletes_the_job_and_its_pods(cluster):
    create_job(cluster, job_manifest("brief", ["sh", "-c", "exit 0"], ttlSecondsAfterFinished=10))
    advance_until(cluster, lambda: finished(cluster, "brief"), 30, 0.5)
    done_at = cluster.now
    assert len(job_pods(cluster, "brief")) == 1

    def gone():
        return cluster.request({"verb": "get", "group": "batch", "resource": "jobs", "namespace": "default",
                                "name": "brief"})["code"] == 404

    advance_until(cluster, gone, 30, 0.5)
    assert 9 <= cluster.now - done_at <= 12
    assert job_pods(cluster, "brief") == []    # Foreground: the pods went first


def test_a_node_kill_replaces_the_running_job_pod(cluster):
    body = job_manifest("long", ["sh", "-c", "sleep 60"])
    # leave the unreachable node after 5 s instead of the default 300 s
    body["spec"]["template"]["spec"]["tolerations"] = [
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}]
    create_job(cluster, body)
    advance_until(cluster, lambda: any(p["status"].get("phase") == "Running" for p in job_pods(cluster, "long")), 30)
    first, = job_pods(cluster, "long")
    cluster.kill_node(first["spec"]["nodeName"])
    advance_until(cluster, lambda: len(job_pods(cluster, "long")) == 2, 120)
    old, new = job_pods(cluster, "long")
    assert old["metadata"]["name"] == first["metadata"]["name"] and old["metadata"].get("deletionTimestamp")
    assert new["spec"].get("nodeName") != first["spec"]["nodeName"] or new["spec"].get("nodeName") is None
    advance_until(cluster, lambda: get_job(cluster, "long")["status"].get("failed") == 1, 30)
    # the replacement runs to the end; the Job completes once the dead node's pod is gone
    cluster.restore_node(first["spec"]["nodeName"])
    advance_until(cluster, lambda: finished(cluster, "long"), 240)
    job = get_job(cluster, "long")
    assert job["status"]["succeeded"] == 1 and job["status"]["failed"] == 1


def test_backoff_limit_per_index(cluster):
    create_job(cluster, job_manifest("pix", ["sh", "-c", "if [ $JOB_COMPLETION_INDEX = 1 ]; then exit 1; fi"],
                                     completions=3, parallelism=3, completionMode="Indexed", backoffLimitPerIndex=1))
    advance_until(cluster, lambda: finished(cluster, "pix"), 60)
    job = get_job(cluster, "pix")
    st = job["status"]
    assert (st["completedIndexes"], st["failedIndexes"], st["succeeded"], st["failed"]) == ("0,2", "1", 2, 2)
    assert conditions(job) == [("FailureTarget", "True", "FailedIndexes"), ("Failed", "True", "FailedIndexes")]
    index1 = [p for p in job_pods(cluster, "pix") if p["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] == "1"]
    # the index's own retry, 10 s after its failure, carries the index's failure count
    assert [p["metadata"]["annotations"]["batch.kubernetes.io/job-index-failure-count"] for p in index1] == ["0", "1"]
    assert 10 <= parse_timestamp(index1[1]["metadata"]["creationTimestamp"]) - finish_time(index1[0]) <= 12


def test_restart_policy_on_failure_counts_restarts_against_the_backoff_limit(cluster):
    create_job(cluster, job_manifest("onf", ["sh", "-c", "exit 1"], restart="OnFailure", backoffLimit=2))
    advance_until(cluster, lambda: finished(cluster, "onf"), 120)
    job = get_job(cluster, "onf")
    assert conditions(job) == [("FailureTarget", "True", "BackoffLimitExceeded"),
                               ("Failed", "True", "BackoffLimitExceeded")]
    # one pod, restarted in place by the kubelet, then deleted when the Job failed
    assert [e[1] for e in job_events(cluster, "onf")] == ["SuccessfulCreate", "SuccessfulDelete", "BackoffLimitExceeded"]
    assert job["status"]["failed"] == 1 and job_pods(cluster, "onf") == []


def test_a_crash_while_answers_come_in_releases_the_job(cluster, monkeypatch):
    """A handler of an answer that raises ends that sync (recorded like a panic) and the Job is
    synced again: it is never held by a sync that will not finish."""
    from sim.controllers.job import JobController
    from sim.kernel import Kernel

    monkeypatch.setattr(Kernel, "really_crash", False)
    real, calls = JobController._enact_job_finished, []

    def flaky(self, ctx):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return real(self, ctx)

    monkeypatch.setattr(JobController, "_enact_job_finished", flaky)
    create_job(cluster, job_manifest("crash", ["sh", "-c", "exit 0"]))
    advance_until(cluster, lambda: finished(cluster, "crash"), 60)
    assert any("boom" in e["message"] for e in cluster.kernel.errors)
    assert get_job(cluster, "crash")["status"]["succeeded"] == 1


def test_the_docs_pi_job_prints_pi_as_perl_does(cluster):
    body = job_manifest("pi", ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"], image="perl:5.34.0", backoffLimit=4)
    create_job(cluster, body)
    advance_until(cluster, lambda: finished(cluster, "pi"), 60)
    pod, = job_pods(cluster, "pi")
    digits = log_of(cluster, pod)
    # 2,000 significant digits, the last one rounded (the next digits are 99465...)
    assert digits.startswith("3.14159265358979323846264338327950288419716939937510")
    assert len(digits) == 2002 and digits.endswith("4780275901\n")
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0


def test_a_work_queue_job_completes_once_one_pod_succeeded_and_none_runs(cluster):
    """completions unset, parallelism 2: pods run until one succeeds; then none is replaced and
    the Job completes when the others have finished."""
    create_job(cluster, job_manifest("wq", ["sh", "-c", "sleep 3"], parallelism=2))
    assert get_job(cluster, "wq")["spec"].get("completions") is None
    advance_until(cluster, lambda: finished(cluster, "wq"), 60)
    job = get_job(cluster, "wq")
    assert job["status"]["succeeded"] == 2 and len(job_pods(cluster, "wq")) == 2
    assert JOBS.printer.row(job, cluster.now)[1:3] == ["Complete", "2/1 of 2"]


def test_a_name_that_is_not_a_dns_label_is_warned_of(cluster):
    resp = cluster.request({"verb": "create", "group": "batch", "resource": "jobs", "namespace": "default",
                            "body": job_manifest("nightly.report", ["true"])})
    assert resp["code"] == 201
    assert resp["warnings"] == [
        "metadata.name: this is used in Pod names and hostnames, which can result in surprising behavior; a DNS "
        "label is recommended: [a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
        "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
        "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')]"]
    assert "warnings" not in cluster.request({"verb": "create", "group": "batch", "resource": "jobs",
                                              "namespace": "default", "body": job_manifest("nightly", ["true"])})

"""CronJobs in virtual time: the kind (defaults, validation with upstream's messages) and the
CronJob controller (pkg/controller/cronjob) - schedules evaluated on the virtual clock,
concurrency policies, starting deadlines, missed schedules, history limits, suspend."""
import calendar
import datetime as dt

import pytest

from sim.api.cronschedule import CronError, parse_standard
from sim.cluster import Cluster, ClusterConfig
from sim.controllers.cronjob import most_recent_schedule_time
from tests.sim.conftest import ok

UTC = dt.timezone.utc


def _cluster(start: str | None = None) -> Cluster:
    """A default cluster whose virtual time 0 is `start` (UTC), booted for 20 s."""
    cfg = ClusterConfig.default(seed=3)
    if start:
        cfg.start_unix_time = calendar.timegm(dt.datetime.fromisoformat(start).timetuple())
    c = Cluster("t", cfg)
    c.advance(20)
    return c


def _cronjob(name="hello", schedule="*/1 * * * *", command=("sh", "-c", "date; echo Hello"), **spec):
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name, "namespace": "default"},
            "spec": {"schedule": schedule, **spec, "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure",
                "containers": [{"name": "hello", "image": "busybox:1.28", "command": list(command)}]}}}}}}


def _create(c, body):
    return c.request({"verb": "create", "group": "batch", "resource": "cronjobs", "namespace": "default", "body": body})


def _get(c, name="hello"):
    return ok(c.request({"verb": "get", "group": "batch", "resource": "cronjobs", "namespace": "default",
                         "name": name}))


def _patch(c, spec, name="hello"):
    ok(c.request({"verb": "patch", "group": "batch", "resource": "cronjobs", "namespace": "default", "name": name,
                  "body": {"spec": spec}, "patch_type": "application/merge-patch+json"}))


def _jobs(c):
    items = ok(c.request({"verb": "list", "group": "batch", "resource": "jobs", "namespace": "default"}))["items"]
    return sorted(items, key=lambda j: j["metadata"]["name"])


def _events(c, reason):
    items = ok(c.request({"verb": "list", "resource": "events", "namespace": "default"}))["items"]
    return [e for e in items if e["involvedObject"]["kind"] == "CronJob" and e["reason"] == reason]


def _minutes(iso: str) -> int:
    """getTimeHashInMinutes of a UTC time."""
    return calendar.timegm(dt.datetime.fromisoformat(iso).timetuple()) // 60


def _until(c, cond, limit: float, step: float = 5.0):
    """Advance the cluster until cond() holds, at most `limit` virtual seconds."""
    waited = 0.0
    while not cond():
        assert waited < limit, "condition not reached in time"
        c.advance(step)
        waited += step


# -- the schedule grammar (robfig/cron's ParseStandard) ----------------------------------------
@pytest.mark.parametrize("spec,message", [
    ("foo", "expected exactly 5 fields, found 1: [foo]"),
    ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
    ("61 * * * *", "end of range (61) above maximum (59): 61"),
    ("*/0 * * * *", "step of range should be a positive number: */0"),
    ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
    ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
    ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
    ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
    ("@fortnightly", "unrecognized descriptor: @fortnightly"),
    ("@every 5d", 'failed to parse duration @every 5d: time: unknown unit "d" in duration "5d"'),
    ("", "empty spec string"),
])
def test_bad_schedules_fail_with_robfig_cron_messages(spec, message):
    with pytest.raises(CronError) as e:
        parse_standard(spec)
    assert str(e.value) == message


def test_schedules_follow_robfig_cron():
    t = dt.datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)  # a Thursday
    nxt = lambda spec, at=t: parse_standard(spec).next(at).isoformat()  # noqa: E731
    assert nxt("*/1 * * * *") == "2026-01-01T00:01:00+00:00"
    assert nxt("@hourly") == "2026-01-01T01:00:00+00:00"
    assert nxt("@daily") == "2026-01-02T00:00:00+00:00"
    assert nxt("@weekly") == "2026-01-04T00:00:00+00:00"          # Sunday
    assert nxt("0 0 * * mon") == "2026-01-05T00:00:00+00:00"
    assert nxt("0 0 13 * 5") == "2026-01-02T00:00:00+00:00"       # day-of-month OR day-of-week
    assert nxt("0 0 */10 * 5") == "2026-01-02T00:00:00+00:00"     # a stepped star restricts too
    assert nxt("0 0 * * 5") == "2026-01-02T00:00:00+00:00"
    assert nxt("@every 90s") == "2026-01-01T00:02:00+00:00"
    assert nxt("TZ=Asia/Tokyo 0 9 * * *") == "2026-01-02T00:00:00+00:00"
    assert parse_standard("59 23 31 2 *").next(t) is None          # never: robfig's zero time


def test_missed_schedules_are_estimated_as_upstream_does():
    cj = {"metadata": {"creationTimestamp": "2026-01-01T00:00:00Z"}, "spec": {}, "status": {}}
    sched = parse_standard("*/1 * * * *")
    now = dt.datetime(2026, 1, 1, 1, 40, 30, tzinfo=UTC)
    earliest, recent, missed, err = most_recent_schedule_time(cj, now, sched, True)
    assert (recent.isoformat(), missed, err) == ("2026-01-01T01:40:00+00:00", "few", None)
    now = dt.datetime(2026, 1, 1, 1, 41, 30, tzinfo=UTC)  # 101 missed
    assert most_recent_schedule_time(cj, now, sched, True)[2] == "many"
    cj["spec"]["startingDeadlineSeconds"] = 200  # only the last 200 s count
    assert most_recent_schedule_time(cj, now, sched, True)[1:] == (
        dt.datetime(2026, 1, 1, 1, 41, tzinfo=UTC), "few", None)


# -- the kind -------------------------------------------------------------------------------------
def test_defaults_and_printer(cluster):
    cj = ok(_create(cluster, _cronjob()), 201)
    spec = cj["spec"]
    assert (spec["concurrencyPolicy"], spec["suspend"], spec["successfulJobsHistoryLimit"],
            spec["failedJobsHistoryLimit"]) == ("Allow", False, 3, 1)
    assert cj["metadata"]["generation"] == 1 and cj["status"] == {}
    # the template's pod spec is defaulted, the JobSpec is not (each Job is, when created)
    jspec = spec["jobTemplate"]["spec"]
    assert jspec["template"]["spec"]["dnsPolicy"] == "ClusterFirst" and "backoffLimit" not in jspec
    table = ok(cluster.request({"verb": "list", "group": "batch", "resource": "cronjobs", "namespace": "default",
                                "as": {"apiVersion": "meta.k8s.io/v1", "includeObject": "None"}}))
    assert [col["name"] for col in table["columnDefinitions"]] == [
        "Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age", "Containers", "Images",
        "Selector"]
    assert table["rows"][0]["cells"][:6] == ["hello", "*/1 * * * *", "<none>", "False", 0, "<none>"]


@pytest.mark.parametrize("change,field,message", [
    ({"spec": {"schedule": "61 * * * *"}}, "spec.schedule",
     'Invalid value: "61 * * * *": end of range (61) above maximum (59): 61'),
    ({"spec": {"schedule": "TZ=UTC * * * * *"}}, "spec.schedule",
     'Invalid value: "TZ=UTC * * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead'),
    ({"spec": {"timeZone": "Mars/Olympus"}}, "spec.timeZone",
     'Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'),
    ({"spec": {"timeZone": "Local"}}, "spec.timeZone",
     'Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'),
    ({"spec": {"concurrencyPolicy": "Sometimes"}}, "spec.concurrencyPolicy",
     'Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"'),
    ({"spec": {"startingDeadlineSeconds": -1}}, "spec.startingDeadlineSeconds",
     "Invalid value: -1: must be greater than or equal to 0"),
    ({"metadata": {"name": "a" * 53}}, "metadata.name", f'Invalid value: "{"a" * 53}": must be no more than 52 characters'),
])
def test_validation(cluster, change, field, message):
    body = _cronjob()
    for part, values in change.items():
        body[part].update(values)
    resp = _create(cluster, body)
    assert resp["code"] == 422, resp
    assert f"{field}: {message}" in resp["body"]["message"]


def test_job_template_is_validated_as_a_job(cluster):
    body = _cronjob()
    body["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    resp = _create(cluster, body)
    assert resp["code"] == 422
    assert "spec.jobTemplate.spec.template.spec.restartPolicy: Required value" in resp["body"]["message"]


# -- the controller -----------------------------------------------------------------------------
def test_every_minute_creates_named_jobs_on_the_virtual_minute(cluster):
    ok(_create(cluster, _cronjob(command=("sh", "-c", "sleep 30"))))
    cluster.advance(45)  # 00:01:05
    job, = _jobs(cluster)
    assert job["metadata"]["name"] == f"hello-{_minutes('2026-01-01T00:01:00')}"
    md = job["metadata"]
    # requeued for the schedule time plus 100 ms: created within that second, no polling
    assert md["creationTimestamp"] == "2026-01-01T00:01:00Z"
    assert md["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == "2026-01-01T00:01:00Z"
    assert md["ownerReferences"][0]["kind"] == "CronJob" and md["ownerReferences"][0]["controller"] is True
    status = _get(cluster)["status"]
    assert status["lastScheduleTime"] == "2026-01-01T00:01:00Z"
    assert [a["name"] for a in status["active"]] == [md["name"]]
    assert [e["message"] for e in _events(cluster, "SuccessfulCreate")] == [f"Created job {md['name']}"]


def test_forbid_skips_while_one_runs():
    """The issue's scenario: `*/1 * * * *` with Forbid and a Job that runs for 150 s."""
    c = _cluster()
    ok(_create(c, _cronjob(command=("sh", "-c", "sleep 150"), concurrencyPolicy="Forbid")))
    c.advance(185)  # 00:03:25: the 00:02 and 00:03 runs were skipped
    first, = _jobs(c)
    assert first["metadata"]["name"] == f"hello-{_minutes('2026-01-01T00:01:00')}"
    skipped = _events(c, "JobAlreadyActive")
    assert skipped and skipped[0]["count"] == 2
    assert skipped[0]["message"] == ("Not starting job because prior execution is running and concurrency "
                                     "policy is Forbid")
    # The first Job ends at about 00:03:31 (150 s after it started).  As upstream's controller
    # does, that sync starts the most recent schedule time it skipped, 00:03, at once (late):
    # only a startingDeadlineSeconds shorter than the wait would drop it.
    _until(c, lambda: len(_jobs(c)) == 2, 60)
    done, late = _jobs(c)
    assert late["metadata"]["name"] == f"hello-{_minutes('2026-01-01T00:03:00')}"
    finished = done["status"]["completionTime"]
    assert finished.startswith("2026-01-01T00:03:3") and late["metadata"]["creationTimestamp"] == finished
    assert _events(c, "SawCompletedJob")[0]["message"] == \
        f"Saw completed job: {done['metadata']['name']}, condition: Complete"
    status = _get(c)["status"]
    assert status["lastSuccessfulTime"] == finished and status["lastScheduleTime"] == "2026-01-01T00:03:00Z"


def test_allow_runs_concurrently(cluster):
    ok(_create(cluster, _cronjob(command=("sh", "-c", "sleep 150"))))
    cluster.advance(185)
    jobs = _jobs(cluster)
    assert len(jobs) == 3
    assert len(_get(cluster)["status"]["active"]) == 3


def test_replace_deletes_the_running_job(cluster):
    ok(_create(cluster, _cronjob(command=("sh", "-c", "sleep 150"), concurrencyPolicy="Replace")))
    cluster.advance(45)
    first, = _jobs(cluster)
    cluster.advance(60)  # 00:02:05
    job, = [j for j in _jobs(cluster) if not j["metadata"].get("deletionTimestamp")]
    assert job["metadata"]["name"] == f"hello-{_minutes('2026-01-01T00:02:00')}"
    assert [a["name"] for a in _get(cluster)["status"]["active"]] == [job["metadata"]["name"]]
    assert [e["message"] for e in _events(cluster, "SuccessfulDelete")] == [
        f"Deleted job {first['metadata']['name']}"]


def test_hourly_fires_on_the_hour():
    c = _cluster("2026-03-08T06:58:00")
    ok(_create(c, _cronjob(schedule="@hourly")))
    c.advance(95)  # 06:59:55
    assert _jobs(c) == []
    c.advance(10)  # 07:00:05
    job, = _jobs(c)
    assert job["metadata"]["name"] == f"hello-{_minutes('2026-03-08T07:00:00')}"
    assert _get(c)["status"]["lastScheduleTime"] == "2026-03-08T07:00:00Z"


def test_time_zone():
    """09:00 in Tokyo is midnight UTC; the annotation keeps the zone's offset."""
    c = _cluster("2026-05-31T23:58:00")
    ok(_create(c, _cronjob(name="tokyo", schedule="0 9 * * *", timeZone="Asia/Tokyo")))
    ok(_create(c, _cronjob(name="utc", schedule="0 9 * * *")))
    c.advance(110)  # 00:00:10 UTC
    job, = _jobs(c)
    assert job["metadata"]["name"] == f"tokyo-{_minutes('2026-06-01T00:00:00')}"
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == \
        "2026-06-01T09:00:00+09:00"
    table = ok(c.request({"verb": "get", "group": "batch", "resource": "cronjobs", "namespace": "default",
                          "name": "tokyo", "as": {"apiVersion": "meta.k8s.io/v1", "includeObject": "None"}}))
    assert table["rows"][0]["cells"][2] == "Asia/Tokyo"


def test_suspend_and_starting_deadline(cluster):
    """Resumed 45 s after a schedule time: without a deadline the late run starts at once; with
    startingDeadlineSeconds 30 that time is past the deadline and the next one is waited for."""
    ok(_create(cluster, _cronjob(suspend=True)))
    ok(_create(cluster, _cronjob(name="deadline", suspend=True, startingDeadlineSeconds=30)))
    cluster.advance(145)  # 00:02:45
    assert _jobs(cluster) == []
    _patch(cluster, {"suspend": False})
    _patch(cluster, {"suspend": False}, name="deadline")
    cluster.advance(5)
    assert [j["metadata"]["name"] for j in _jobs(cluster)] == [f"hello-{_minutes('2026-01-01T00:02:00')}"]
    cluster.advance(20)  # 00:03:10
    assert [j["metadata"]["name"] for j in _jobs(cluster)] == [
        f"deadline-{_minutes('2026-01-01T00:03:00')}", f"hello-{_minutes('2026-01-01T00:02:00')}",
        f"hello-{_minutes('2026-01-01T00:03:00')}"]


def test_more_than_100_missed_start_times():
    """Suspended for ten minutes on `@every 5s`, then resumed: 120 start times were missed since
    the CronJob was made.  The controller warns TooManyMissedTimes and, as the v2 controller
    does (1.21+), starts only the most recent one; startingDeadlineSeconds keeps the count small
    (only the times within the deadline count), so that CronJob gets no warning."""
    c = _cluster()
    ok(_create(c, _cronjob(schedule="@every 5s", suspend=True)))            # made at 00:00:20
    ok(_create(c, _cronjob(name="bounded", schedule="@every 5s", suspend=True, startingDeadlineSeconds=30)))
    c.advance(602)  # 00:10:22
    _patch(c, {"suspend": False})
    _patch(c, {"suspend": False}, name="bounded")
    c.advance(2)
    warning, = _events(c, "TooManyMissedTimes")
    assert warning["involvedObject"]["name"] == "hello" and warning["type"] == "Warning"
    assert warning["message"] == ("too many missed start times. Set or decrease .spec.startingDeadlineSeconds "
                                  "or check clock skew")
    assert [j["metadata"]["name"] for j in _jobs(c)] == [
        f"bounded-{_minutes('2026-01-01T00:10:00')}", f"hello-{_minutes('2026-01-01T00:10:00')}"]
    # @every counts from the time it is asked about (robfig's ConstantDelaySchedule): from the
    # creation time for `hello`, from now - 30 s for `bounded`
    assert _get(c, "hello")["status"]["lastScheduleTime"] == "2026-01-01T00:10:20Z"
    assert _get(c, "bounded")["status"]["lastScheduleTime"].startswith("2026-01-01T00:10:2")


def test_history_limits():
    c = _cluster()
    ok(_create(c, _cronjob(name="ok", command=("sh", "-c", "exit 0"), successfulJobsHistoryLimit=1)))
    failing = _cronjob(name="bad", command=("sh", "-c", "exit 1"), failedJobsHistoryLimit=1)
    failing["spec"]["jobTemplate"]["spec"].update(backoffLimit=0)
    failing["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    ok(_create(c, failing))
    c.advance(60 * 4)  # 00:04:20: four runs of each
    names = [j["metadata"]["name"] for j in _jobs(c)]
    assert names == [f"bad-{_minutes('2026-01-01T00:04:00')}", f"ok-{_minutes('2026-01-01T00:04:00')}"]
    deleted = sorted(e["message"] for e in _events(c, "SuccessfulDelete"))
    assert f"Deleted job ok-{_minutes('2026-01-01T00:01:00')}" in deleted
    assert f"Deleted job bad-{_minutes('2026-01-01T00:01:00')}" in deleted
    assert _get(c, "ok")["status"]["lastSuccessfulTime"].startswith("2026-01-01T00:04:")
    assert "lastSuccessfulTime" not in _get(c, "bad")["status"]


def test_schedule_change_requeues_for_the_new_time(cluster):
    ok(_create(cluster, _cronjob(schedule="@daily")))
    cluster.advance(20)
    _patch(cluster, {"schedule": "*/1 * * * *"})
    cluster.advance(30)  # 00:01:10
    assert len(_jobs(cluster)) == 1

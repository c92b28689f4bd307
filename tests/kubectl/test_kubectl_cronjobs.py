"""CronJobs with the real kubectl (1.27 .. 1.37) and the official Python client: `kubectl create
cronjob`, `get cronjobs` (upstream's columns, `-o wide`, the `cj` short name), `create job
--from=cronjob/x`, and the documentation's example (https://k8s.io/examples/application/job/
cronjob.yaml) starting a Job every minute whose pod prints the date and its greeting.

The module's cluster runs at 50x, so a virtual minute passes in 1.2 s: the waits below are
bounded in wall time and wait on what the cluster reports, never on a sleep."""
from __future__ import annotations

import json

from kubernetes import client

from tests.conftest import wait_until
from tests.kubectl.conftest import BINARIES, kubectl_minor, kubectl_runner, rows

# the documentation's example is applied as a reader of the 1.33 docs would
DOCS_BINARY = next((b for b in BINARIES if kubectl_minor(b) == "1.33"), BINARIES[-1] if BINARIES else None)

# https://k8s.io/examples/application/job/cronjob.yaml, as the documentation has it
DOCS_CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: hello
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: hello
            image: busybox:1.28
            imagePullPolicy: IfNotPresent
            command:
            - /bin/sh
            - -c
            - date; echo Hello from the Kubernetes cluster
          restartPolicy: OnFailure
"""


def test_create_cronjob_and_job_from_it(kubectl):
    """Every version: the create generators (from 1.32 their bodies are protobuf).  A yearly
    schedule, so that ten CronJobs do not keep the module's cluster busy."""
    name, manual = f"hello-{kubectl.suffix}", f"manual-{kubectl.suffix}"
    out = kubectl("create", "cronjob", name, "--image=busybox", "--schedule=0 0 1 1 *", "--", "date").stdout
    assert out.strip() == f"cronjob.batch/{name} created"
    out = kubectl("create", "job", manual, f"--from=cronjob/{name}").stdout
    assert out.strip() == f"job.batch/{manual} created"


def test_get_cronjobs_and_the_job_made_from_one(kubectl_some):
    kubectl = kubectl_some
    name, manual = f"get-{kubectl.suffix}", f"manual-get-{kubectl.suffix}"
    kubectl("create", "cronjob", name, "--image=busybox", "--schedule=*/1 * * * *", "--", "date")
    table = rows(kubectl("get", "cj", name, "-o", "wide").stdout)
    assert table[0] == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE", "CONTAINERS",
                        "IMAGES", "SELECTOR"]
    assert table[1][:4] == [name, "*/1 * * * *", "<none>", "False"]
    assert table[1][-3:] == [name, "busybox", "<none>"]
    kubectl("create", "job", manual, f"--from=cronjob/{name}")
    job = json.loads(kubectl("get", "job", manual, "-o", "json").stdout)
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    owner, = job["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"]) == ("CronJob", name)
    template = job["spec"]["template"]["spec"]
    assert template["containers"][0]["command"] == ["date"] and template["restartPolicy"] == "OnFailure"
    described = kubectl("describe", "cronjob", name).stdout
    for line in (f"Name:                          {name}", "Schedule:                      */1 * * * *",
                 "Concurrency Policy:            Allow", "Suspend:                       False",
                 "Successful Job History Limit:  3", "Failed Job History Limit:      1"):
        assert line in described, described
    kubectl("delete", "cronjob", name)
    bad = kubectl("create", "cronjob", f"bad-{kubectl.suffix}", "--image=busybox", "--schedule=61 * * * *",
                  check=False)
    assert bad.returncode == 1
    assert bad.stderr.strip() == (f'error: failed to create cronjob: CronJob.batch "bad-{kubectl.suffix}" is invalid: '
                                  'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61')


def test_docs_example_starts_a_job_every_minute(kube_env, pilothouse_server, kube_cluster, tmp_path):
    kubectl = kubectl_runner(DOCS_BINARY, kube_env)
    ns = f"cron-{kubectl.suffix}"
    kubectl("create", "namespace", ns)
    manifest = tmp_path / "cronjob.yaml"
    manifest.write_text(DOCS_CRONJOB)
    assert kubectl("apply", "-n", ns, "-f", str(manifest)).stdout.strip() == "cronjob.batch/hello created"
    # a virtual minute and a half at once (the control API), rather than 1.8 s of a loaded machine
    status, body = pilothouse_server.request("POST", f"/clusters/{kube_cluster}/sim/v1/clock", {"advance": "90s"})
    assert status == 200, body

    def completed_jobs():
        items = json.loads(kubectl("get", "jobs", "-n", ns, "-o", "json").stdout)["items"]
        return [j["metadata"]["name"] for j in items
                if any(c["type"] == "Complete" and c["status"] == "True"
                       for c in (j.get("status") or {}).get("conditions") or [])]

    done = wait_until(completed_jobs, timeout=30, interval=0.5, message="a completed Job of the CronJob")
    job = sorted(done)[0]
    assert job.startswith("hello-") and job.removeprefix("hello-").isdigit() and len(job) == len("hello-") + 8
    logs = kubectl("logs", f"job/{job}", "-n", ns).stdout.splitlines()
    assert logs[-1] == "Hello from the Kubernetes cluster"
    table = rows(kubectl("get", "cronjob", "hello", "-n", ns).stdout)
    assert table[1][0] == "hello" and table[1][5] != "<none>"   # LAST SCHEDULE
    kubectl("delete", "namespace", ns, "--wait=false")


RICH_CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: rich}
spec:
  schedule: "0 0 1 1 *"
  jobTemplate:
    metadata: {labels: {team: a}}
    spec:
      backoffLimit: 0
      activeDeadlineSeconds: 60
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 0
          securityContext: {runAsUser: 0, runAsNonRoot: false}
          volumes:
          - {name: cfg, configMap: {name: settings, defaultMode: 0, optional: false}}
          - {name: scratch, emptyDir: {sizeLimit: 64Mi}}
          containers:
          - name: main
            image: busybox:1.28
            command: [sh, -c, "sleep 5"]
            env: [{name: MODE, value: batch}]
            resources: {limits: {cpu: 200m, memory: 64Mi}}
            volumeMounts: [{name: cfg, mountPath: /etc/cfg}]
            readinessProbe: {exec: {command: [cat, /etc/cfg/ok]}, periodSeconds: 5}
            securityContext: {privileged: false, allowPrivilegeEscalation: false}
"""


def test_job_from_cronjob_keeps_its_whole_template_in_protobuf(kube_env, tmp_path):
    """`create job --from` copies the CronJob's template into a Job sent as protobuf (1.33):
    embedded structs (a volume's source, a probe's handler), quantities, maps and pointer fields
    whose zero value means something (backoffLimit 0, runAsUser 0, defaultMode 0) survive."""
    kubectl = kubectl_runner(DOCS_BINARY, kube_env)
    manifest = tmp_path / "rich.yaml"
    manifest.write_text(RICH_CRONJOB.replace("name: rich}", f"name: rich-{kubectl.suffix}}}"))
    kubectl("apply", "-f", str(manifest))
    kubectl("create", "job", f"from-rich-{kubectl.suffix}", f"--from=cronjob/rich-{kubectl.suffix}")
    job = json.loads(kubectl("get", "job", f"from-rich-{kubectl.suffix}", "-o", "json").stdout)
    spec = job["spec"]
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"]) == (0, 60)
    pod = spec["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 0 and pod["restartPolicy"] == "Never"
    assert pod["securityContext"] == {"runAsUser": 0, "runAsNonRoot": False}
    cfg, scratch = pod["volumes"]
    assert cfg == {"name": "cfg", "configMap": {"name": "settings", "defaultMode": 0, "optional": False}}
    assert scratch == {"name": "scratch", "emptyDir": {"sizeLimit": "64Mi"}}
    c, = pod["containers"]
    assert c["command"] == ["sh", "-c", "sleep 5"] and c["env"] == [{"name": "MODE", "value": "batch"}]
    assert c["resources"]["limits"] == {"cpu": "200m", "memory": "64Mi"}
    assert c["volumeMounts"] == [{"name": "cfg", "mountPath": "/etc/cfg"}]
    assert c["readinessProbe"]["exec"] == {"command": ["cat", "/etc/cfg/ok"]}
    assert c["readinessProbe"]["periodSeconds"] == 5
    assert c["securityContext"] == {"privileged": False, "allowPrivilegeEscalation": False}
    assert job["metadata"]["labels"]["team"] == "a"
    kubectl("delete", "cronjob", f"rich-{kubectl.suffix}")


def test_python_client_reads_cronjob_status(pilothouse_server, kube_cluster):
    cfg = client.Configuration()
    cfg.host = pilothouse_server.cluster_url(kube_cluster)
    with client.ApiClient(cfg) as api_client:
        batch = client.BatchV1Api(api_client)
        body = client.V1CronJob(
            metadata=client.V1ObjectMeta(name="py-cron"),
            spec=client.V1CronJobSpec(
                schedule="@every 30s", concurrency_policy="Forbid", time_zone="Europe/Paris",
                job_template=client.V1JobTemplateSpec(spec=client.V1JobSpec(template=client.V1PodTemplateSpec(
                    spec=client.V1PodSpec(restart_policy="Never", containers=[
                        client.V1Container(name="c", image="busybox:1.28", command=["sh", "-c", "sleep 3600"])]))))))
        made = batch.create_namespaced_cron_job("default", body)
        assert made.spec.successful_jobs_history_limit == 3 and made.spec.suspend is False
        cj = wait_until(lambda: (c := batch.read_namespaced_cron_job("py-cron", "default")).status.active and c,
                        timeout=20, interval=0.2, message="an active Job")
        assert cj.status.last_schedule_time is not None
        assert cj.status.active[0].kind == "Job" and cj.status.active[0].name.startswith("py-cron-")
        batch.delete_namespaced_cron_job("py-cron", "default", propagation_policy="Background")

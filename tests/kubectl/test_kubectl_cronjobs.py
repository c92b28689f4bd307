"""CronJobs with the real kubectl (1.27 .. 1.37) and the official Python client: `kubectl create
cronjob`, `get cronjobs` (upstream's columns, `-o wide`, the `cj` short name), `create job
--from=cronjob/x`, and the documentation's example (https://k8s.io/examples/application/job/
cronjob.yaml) starting a Job every minute whose pod prints the date and its greeting.

The module's cluster runs at 50x, so a virtual minute passes in 1.2 s: the waits below are
bounded in wall time and wait on what the cluster reports, never on a sleep."""
from __future__ import annotations

import json

import pytest
from kubernetes import client

from tests.conftest import wait_until
from tests.kubectl.conftest import BINARIES, kubectl_minor, kubectl_runner, rows

SMOKE = [b for b in BINARIES if kubectl_minor(b) in ("1.27", "1.37")] or BINARIES[-1:]

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


def test_create_cronjob_get_and_create_job_from_it(kubectl):
    name = f"hello-{kubectl.suffix}"
    out = kubectl("create", "cronjob", name, "--image=busybox", "--schedule=*/1 * * * *", "--", "date").stdout
    assert out.strip() == f"cronjob.batch/{name} created"
    table = rows(kubectl("get", "cj", name, "-o", "wide").stdout)
    assert table[0] == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE", "CONTAINERS",
                        "IMAGES", "SELECTOR"]
    assert table[1][:4] == [name, "*/1 * * * *", "<none>", "False"]
    assert table[1][-3:] == [name, "busybox", "<none>"]
    manual = f"manual-{kubectl.suffix}"
    out = kubectl("create", "job", manual, f"--from=cronjob/{name}").stdout
    assert out.strip() == f"job.batch/{manual} created"
    job = json.loads(kubectl("get", "job", manual, "-o", "json").stdout)
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    owner, = job["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"]) == ("CronJob", name)
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["date"]
    kubectl("delete", "cronjob", name)


@pytest.mark.parametrize("binary", SMOKE, ids=lambda b: f"kubectl.{kubectl_minor(b)}")
def test_docs_example_starts_a_job_every_minute(binary, kube_env, tmp_path):
    kubectl = kubectl_runner(binary, kube_env)
    ns = f"cron-{kubectl.suffix}"
    kubectl("create", "namespace", ns)
    manifest = tmp_path / "cronjob.yaml"
    manifest.write_text(DOCS_CRONJOB)
    assert kubectl("apply", "-n", ns, "-f", str(manifest)).stdout.strip() == "cronjob.batch/hello created"

    def completed_jobs():
        items = json.loads(kubectl("get", "jobs", "-n", ns, "-o", "json").stdout)["items"]
        return [j["metadata"]["name"] for j in items
                if any(c["type"] == "Complete" and c["status"] == "True"
                       for c in (j.get("status") or {}).get("conditions") or [])]

    # a minute of virtual time is 1.2 s here: the first run is due within it, and its pod runs
    # `date; echo ...` and exits
    done = wait_until(completed_jobs, timeout=30, interval=0.5, message="a completed Job of the CronJob")
    job = sorted(done)[0]
    assert job.startswith("hello-") and job.removeprefix("hello-").isdigit() and len(job) == len("hello-") + 8
    logs = kubectl("logs", f"job/{job}", "-n", ns).stdout.splitlines()
    assert logs[-1] == "Hello from the Kubernetes cluster"
    table = rows(kubectl("get", "cronjob", "hello", "-n", ns).stdout)
    assert table[1][0] == "hello" and table[1][5] != "<none>"   # LAST SCHEDULE
    kubectl("delete", "namespace", ns, "--wait=false")


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

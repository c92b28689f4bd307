"""Jobs with the real kubectl: the documentation's pi Job (https://k8s.io/examples/controllers/
job.yaml) applied, waited for (`kubectl wait --for=condition=complete`), its π read back with
`kubectl logs job/pi`, described, and deleted with its pods; `kubectl create job` with a command
on every version, listed with the server's columns (NAME STATUS COMPLETIONS DURATION AGE)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import wait_until
from tests.kubectl.conftest import BINARIES, kubectl_minor, kubectl_runner, rows

PI_JOB = Path(__file__).resolve().parents[1] / "testdata" / "manifests" / "job.yaml"
# The full sequence on the oldest and the newest kubectl; the smoke on every one.
ENDS = [b for b in BINARIES if kubectl_minor(b) in ("1.27", "1.37")] or BINARIES[-1:]


@pytest.fixture(params=ENDS or [None], ids=lambda b: f"kubectl.{kubectl_minor(b)}" if b else "missing")
def kubectl_ends(request, kube_env):
    return kubectl_runner(request.param, kube_env)


def test_the_docs_pi_job_completes_prints_pi_and_cascades(kubectl_ends):
    kubectl = kubectl_ends
    ns = f"pi-{kubectl.suffix}"
    kubectl("create", "namespace", ns)
    out = kubectl("apply", "-n", ns, "-f", str(PI_JOB)).stdout
    assert out.strip() == "job.batch/pi created"
    out = kubectl("wait", "-n", ns, "--for=condition=complete", "job/pi", "--timeout=90s", timeout=120).stdout
    assert out.strip() == "job.batch/pi condition met"

    # applied again unchanged: nothing to do; with a new image: the template is immutable
    assert kubectl("apply", "-n", ns, "-f", str(PI_JOB)).stdout.strip() == "job.batch/pi unchanged"
    changed = PI_JOB.read_text().replace("perl:5.34.0", "perl:5.40.0")
    failed = subprocess.run([kubectl.binary, "apply", "-n", ns, "-f", "-"], input=changed, env=kubectl.env,
                            capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1
    assert 'The Job "pi" is invalid: spec.template: Invalid value:' in failed.stderr
    assert "field is immutable" in failed.stderr

    digits = kubectl("logs", "-n", ns, "job/pi").stdout
    assert digits.startswith("3.14159265358979323846264338327950288419716939937510")
    assert len(digits.strip()) == 2001 and digits.endswith("4780275901\n")   # rounded, as Math::BigFloat does

    table = rows(kubectl("get", "jobs", "-n", ns).stdout)
    assert table[0] == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert table[1][:3] == ["pi", "Complete", "1/1"] and table[1][3].endswith("s")

    job = json.loads(kubectl("get", "job", "pi", "-n", ns, "-o", "json").stdout)
    assert [c["type"] for c in job["status"]["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    assert job["status"]["succeeded"] == 1 and job["spec"]["backoffLimit"] == 4

    explained = kubectl("explain", "job.spec.backoffLimit").stdout
    assert "KIND:" in explained and "Job" in explained and "backoffLimit" in explained

    described = kubectl("describe", "job", "pi", "-n", ns).stdout
    assert "Pods Statuses:    0 Active (0 Ready) / 1 Succeeded / 0 Failed" in described
    assert "batch.kubernetes.io/job-name=pi" in described
    assert "Completed" in described and "Created pod: pi-" in described

    assert "job.batch/pi" in kubectl("get", "all", "-n", ns).stdout      # the `all` category
    pod = rows(kubectl("get", "pods", "-n", ns, "-l", "job-name=pi").stdout)[1]
    assert pod[0].startswith("pi-") and pod[2] == "Completed"
    # kubectl deletes with propagationPolicy=Background: the pod goes with the Job.
    assert kubectl("delete", "job", "pi", "-n", ns).stdout.strip() == kubectl.deleted('job.batch "pi"', ns)
    wait_until(lambda: "No resources found" in kubectl("get", "pods", "-n", ns, check=False).stderr, 30,
               message="the Job's pod deleted with it")


def test_create_job_with_a_command_and_list_it(kubectl):
    name = f"sleeper-{kubectl.suffix}"
    out = kubectl("create", "job", name, "--image=busybox", "--", "sh", "-c", "sleep 5").stdout
    assert out.strip() == f"job.batch/{name} created"
    table = rows(kubectl("get", "jobs", name).stdout)
    assert table[0] == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    # A quick cluster may have finished it already: since 1.31 the Job controller first adds
    # SuccessCriteriaMet, then Complete once its pods are gone, and kubectl 1.31+ prints either.
    assert table[1][0] == name and table[1][1] in ("Running", "SuccessCriteriaMet", "Complete"), table[1]
    assert table[1][2] in ("0/1", "1/1"), table[1]
    job = json.loads(kubectl("get", "job", name, "-o", "json").stdout)
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["sh", "-c", "sleep 5"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # a delete without --cascade still cascades from kubectl (Background)
    assert kubectl("delete", "job", name).stdout.strip() == kubectl.deleted(f'job.batch "{name}"', "default")


def test_the_python_client_watches_an_indexed_job_to_complete(pilothouse_server, kube_cluster):
    """The official client's typed models read the Job's status as the controller writes it."""
    from kubernetes import client, watch

    cfg = client.Configuration()
    cfg.host = pilothouse_server.cluster_url(kube_cluster)
    with client.ApiClient(cfg) as api_client:
        batch = client.BatchV1Api(api_client)
        job = client.V1Job(
            metadata=client.V1ObjectMeta(name="indexed"),
            spec=client.V1JobSpec(
                completions=3, parallelism=3, completion_mode="Indexed",
                template=client.V1PodTemplateSpec(spec=client.V1PodSpec(
                    restart_policy="Never",
                    containers=[client.V1Container(name="c", image="busybox:1.36",
                                                   command=["sh", "-c", "echo $JOB_COMPLETION_INDEX"])]))))
        created = batch.create_namespaced_job("default", job)
        assert created.spec.backoff_limit == 6 and created.spec.suspend is False
        assert created.spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": created.metadata.uid}
        done = None
        for event in watch.Watch().stream(batch.list_namespaced_job, "default", field_selector="metadata.name=indexed",
                                          timeout_seconds=60):
            st = event["object"].status
            if any(c.type == "Complete" and c.status == "True" for c in st.conditions or []):
                done = event["object"]
                break
        assert done is not None, "the Job did not complete"
        st = done.status
        assert st.succeeded == 3 and st.completed_indexes == "0-2" and st.ready == 0 and st.terminating == 0
        assert st.uncounted_terminated_pods.succeeded is None and st.completion_time >= st.start_time
        assert [c.type for c in st.conditions] == ["SuccessCriteriaMet", "Complete"]
        assert st.conditions[1].reason == "CompletionsReached"
        batch.delete_namespaced_job("indexed", "default", propagation_policy="Background")

"""The Kubernetes documentation's pod configuration examples, applied with the newest kubectl
as a reader of the docs would, behave as the documentation describes: the downward API volume
example prints the pod's labels and annotations, a projected volume holds both secrets' files, a
ConfigMap mounted as a volume lists its keys, `$(VAR)` in a command expands ConfigMap-fed env,
the two-container example shares an emptyDir, the lifecycle example's postStart writes its
message, and the QoS example is Guaranteed.  (The manifests are the docs' objects, written
here in flow style.)"""
from __future__ import annotations

import pytest

from tests.conftest import wait_until
from tests.kubectl.conftest import BINARIES, kubectl_minor, kubectl_runner, pod_json, status_column

NEWEST = [b for b in BINARIES if kubectl_minor(b) == "1.37"] or BINARIES[-1:]

MANIFESTS = """
apiVersion: v1
kind: Pod
metadata:
  name: kubernetes-downwardapi-volume-example
  labels: {zone: us-est-coast, cluster: test-cluster1, rack: rack-22}
  annotations: {build: two, builder: john-doe}
spec:
  containers:
  - name: client-container
    image: registry.k8s.io/busybox:1.27.2
    command: ["sh", "-c"]
    args: ["while true; do if [[ -e /etc/podinfo/labels ]]; then echo -en '\\\\n\\\\n'; cat /etc/podinfo/labels; fi; if [[ -e /etc/podinfo/annotations ]]; then echo -en '\\\\n\\\\n'; cat /etc/podinfo/annotations; fi; sleep 5; done;"]
    volumeMounts: [{name: podinfo, mountPath: /etc/podinfo}]
  volumes:
  - name: podinfo
    downwardAPI:
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: annotations, fieldRef: {fieldPath: metadata.annotations}}
---
apiVersion: v1
kind: Pod
metadata: {name: test-projected-volume}
spec:
  containers:
  - name: test-projected-volume
    image: busybox:1.28
    args: [sleep, "86400"]
    volumeMounts: [{name: all-in-one, mountPath: /projected-volume, readOnly: true}]
  volumes:
  - name: all-in-one
    projected:
      sources: [{secret: {name: user}}, {secret: {name: pass}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: special-config}
data: {SPECIAL_LEVEL: very, SPECIAL_TYPE: charm}
---
apiVersion: v1
kind: Pod
metadata: {name: dapi-test-pod}
spec:
  containers:
  - name: test-container
    image: registry.k8s.io/busybox
    command: ["/bin/sh", "-c", "ls /etc/config/"]
    volumeMounts: [{name: config-volume, mountPath: /etc/config}]
  volumes: [{name: config-volume, configMap: {name: special-config}}]
  restartPolicy: Never
---
apiVersion: v1
kind: Pod
metadata: {name: dapi-test-pod-env}
spec:
  containers:
  - name: test-container
    image: registry.k8s.io/busybox
    command: ["/bin/echo", "$(SPECIAL_LEVEL_KEY) $(SPECIAL_TYPE_KEY)"]
    env:
    - {name: SPECIAL_LEVEL_KEY, valueFrom: {configMapKeyRef: {name: special-config, key: SPECIAL_LEVEL}}}
    - {name: SPECIAL_TYPE_KEY, valueFrom: {configMapKeyRef: {name: special-config, key: SPECIAL_TYPE}}}
  restartPolicy: Never
---
apiVersion: v1
kind: Pod
metadata: {name: two-containers}
spec:
  restartPolicy: Never
  volumes: [{name: shared-data, emptyDir: {}}]
  containers:
  - name: nginx-container
    image: nginx
    volumeMounts: [{name: shared-data, mountPath: /usr/share/nginx/html}]
  - name: debian-container
    image: debian
    volumeMounts: [{name: shared-data, mountPath: /pod-data}]
    command: ["/bin/sh"]
    args: ["-c", "echo Hello from the debian container > /pod-data/index.html"]
---
apiVersion: v1
kind: Pod
metadata: {name: lifecycle-demo}
spec:
  containers:
  - name: lifecycle-demo-container
    image: nginx
    lifecycle:
      postStart: {exec: {command: ["/bin/sh", "-c", "echo Hello from the postStart handler > /usr/share/message"]}}
      preStop: {exec: {command: ["/bin/sh", "-c", "nginx -s quit; while killall -0 nginx; do sleep 1; done"]}}
---
apiVersion: v1
kind: Pod
metadata: {name: qos-demo}
spec:
  containers:
  - name: qos-demo-ctr
    image: nginx
    resources:
      limits: {memory: "200Mi", cpu: "700m"}
      requests: {memory: "200Mi", cpu: "700m"}
"""


@pytest.fixture(params=NEWEST or [None], ids=lambda b: f"kubectl.{kubectl_minor(b)}" if b else "kubectl")
def kubectl_newest(request, kube_env):
    return kubectl_runner(request.param, kube_env)


def test_the_documentations_pod_configuration_examples(kubectl_newest, tmp_path):
    k = kubectl_newest
    (tmp_path / "username.txt").write_text("admin")
    (tmp_path / "password.txt").write_text("1f2d1e2e67df")
    k("create", "secret", "generic", "user", f"--from-file={tmp_path / 'username.txt'}")
    k("create", "secret", "generic", "pass", f"--from-file={tmp_path / 'password.txt'}")
    (tmp_path / "examples.yaml").write_text(MANIFESTS)
    k("apply", "-f", str(tmp_path / "examples.yaml"))
    for name, status in (("kubernetes-downwardapi-volume-example", "Running"), ("test-projected-volume", "Running"),
                         ("dapi-test-pod", "Completed"), ("dapi-test-pod-env", "Completed"),
                         ("two-containers", "NotReady"), ("lifecycle-demo", "Running"), ("qos-demo", "Running")):
        wait_until(lambda: status_column(k, name) == status, 60, 0.5, f"{name} {status}")

    logs = k("logs", "kubernetes-downwardapi-volume-example").stdout
    assert 'cluster="test-cluster1"\nrack="rack-22"\nzone="us-est-coast"' in logs
    assert 'build="two"\nbuilder="john-doe"\n' in logs
    assert k("exec", "test-projected-volume", "--", "ls", "/projected-volume/").stdout == "password.txt\nusername.txt\n"
    assert k("logs", "dapi-test-pod").stdout == "SPECIAL_LEVEL\nSPECIAL_TYPE\n"
    assert k("logs", "dapi-test-pod-env").stdout == "very charm\n"
    assert k("exec", "two-containers", "-c", "nginx-container", "--", "cat",
             "/usr/share/nginx/html/index.html").stdout == "Hello from the debian container\n"
    assert k("exec", "lifecycle-demo", "--", "cat", "/usr/share/message").stdout == "Hello from the postStart handler\n"
    assert pod_json(k, "qos-demo")["status"]["qosClass"] == "Guaranteed"

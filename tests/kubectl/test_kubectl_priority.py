"""PriorityClasses and pod priority with the machine's real kubectl (the dispatcher and every
kubectl 1.27-1.33, 1.36 and 1.37): what `kubectl get/create/delete priorityclass` print against
a real cluster, and the request bodies `kubectl create priorityclass` sends (JSON up to 1.31, protobuf from 1.32)."""
from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import threading
from pathlib import Path


from cluster.api import protobuf
from tests.builders import MakeNamespace, MakePriorityClass
from tests.conftest import wait_until
from tests.kubectl.conftest import rows


def captured_create(binary: str, home: Path, *args: str) -> tuple[str, bytes]:
    """(Content-Type, body) of the POST `kubectl <args>` sends, caught by a local HTTP server
    that answers every request with a 500 Status."""
    seen: list[tuple[str, bytes]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append((self.headers.get("Content-Type", ""),
                         self.rfile.read(int(self.headers.get("Content-Length") or 0))))
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"kind":"Status","apiVersion":"v1","status":"Failure","message":"caught","code":500}')

        def log_message(self, *a):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config = home / "capture-config"
        config.write_text(f"apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: "
                          f"'http://127.0.0.1:{server.server_address[1]}'}}\ncontexts:\n- name: c\n  context: "
                          f"{{cluster: c, user: u}}\ncurrent-context: c\nusers:\n- name: u\n  user: {{}}\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        subprocess.run([binary, *args], env={**env, "HOME": str(home), "KUBECONFIG": str(config)},
                       capture_output=True, timeout=60)
    finally:
        server.shutdown()
        thread.join()
    assert len(seen) == 1, seen
    return seen[0]


def body_of(content_type: str, raw: bytes) -> dict:
    if content_type.startswith(protobuf.CONTENT_TYPE):
        return protobuf.decode(raw)
    body = json.loads(raw)
    body["metadata"].pop("creationTimestamp", None)  # null: kubectl's generators leave it unset
    return {k: v for k, v in body.items() if v != {}}  # empty spec/status: absent in protobuf


def test_the_body_kubectl_create_priorityclass_sends(kubectl, tmp_path):
    ctype, raw = captured_create(kubectl.binary, tmp_path, "create", "priorityclass", "high", "--value=1000",
                                 "--description=for the demo", "--global-default", "--preemption-policy=Never")
    assert ctype in ("application/json", protobuf.CONTENT_TYPE)
    assert body_of(ctype, raw) == (MakePriorityClass().name("high").value(1000).global_default()
                                   .description("for the demo").preemption_policy("Never").manifest())
    # The same holds for the other generator kubectl users meet first.
    ctype, raw = captured_create(kubectl.binary, tmp_path, "create", "namespace", "lab")
    assert body_of(ctype, raw) == MakeNamespace().name("lab").manifest()


def test_get_priorityclasses_shows_the_system_classes(kubectl):
    wait_until(lambda: "system-node-critical" in kubectl("get", "pc", "-o", "name").stdout, timeout=20,
               interval=0.2, message="system priority classes")
    table = rows(kubectl("get", "priorityclasses").stdout)
    assert table[0] == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
    by_name = {r[0]: r for r in table[1:]}
    assert by_name["system-cluster-critical"][1:3] == ["2000000000", "false"]
    assert by_name["system-node-critical"][1:3] == ["2000001000", "false"]
    assert by_name["system-node-critical"][4] == "PreemptLowerPriority"


def test_create_priorityclass_and_a_pod_that_uses_it(kubectl, tmp_path):
    high, web = f"high-{kubectl.suffix}", f"web-{kubectl.suffix}"
    # kubectl 1.32+ sends this create as protobuf (see the test above); the API reads both.
    out = kubectl("create", "priorityclass", high, "--value=1000", "--description=for the demo")
    assert out.stdout.strip() == f"priorityclass.scheduling.k8s.io/{high} created"
    row = {r[0]: r for r in rows(kubectl("get", "priorityclass", high).stdout)}[high]
    assert row[1:3] == ["1000", "false"] and row[4] == "PreemptLowerPriority"
    overrides = json.dumps({"apiVersion": "v1", "spec": {"priorityClassName": high}})
    assert kubectl("run", web, "--image=nginx", f"--overrides={overrides}").stdout.strip() == f"pod/{web} created"
    assert kubectl("get", "pod", web, "-o", "jsonpath={.spec.priority}").stdout == "1000"
    assert kubectl("get", "pod", web, "-o", "jsonpath={.spec.priorityClassName}").stdout == high
    described = kubectl("describe", "pod", web).stdout
    assert re.search(r"^Priority:\s+1000$", described, re.M), described
    assert re.search(rf"^Priority Class Name:\s+{high}$", described, re.M), described
    kubectl("delete", "pod", web, "--wait=false")
    assert kubectl("delete", "pc", high).stdout.strip() == f'priorityclass.scheduling.k8s.io "{high}" deleted'


def test_refusals_read_as_upstream(kubectl, tmp_path):
    manifest = tmp_path / "reserved.yaml"
    manifest.write_text(f"apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n"
                        f"  name: system-{kubectl.suffix}\nvalue: 5\n")
    reserved = kubectl("create", "-f", str(manifest), check=False)
    assert reserved.returncode != 0
    assert (f'The PriorityClass "system-{kubectl.suffix}" is invalid: metadata.name: Forbidden: priority class '
            f"names with 'system-' prefix are reserved for system use only. error: system-{kubectl.suffix} is not "
            "a known system priority class") in reserved.stderr
    protected = kubectl("delete", "priorityclass", "system-node-critical", check=False)
    assert protected.returncode != 0
    assert ('Error from server (Forbidden): priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: '
            "this is a system priority class and cannot be deleted") in protected.stderr
    overrides = json.dumps({"apiVersion": "v1", "spec": {"priorityClassName": "no-such-class"}})
    orphan = kubectl("run", f"orphan-{kubectl.suffix}", "--image=nginx", f"--overrides={overrides}", check=False)
    assert orphan.returncode != 0
    assert (f'Error from server (Forbidden): pods "orphan-{kubectl.suffix}" is forbidden: no PriorityClass with '
            "name no-such-class was found") in orphan.stderr


def test_nominated_node_shows_in_wide_output(kubectl):
    name = f"nominee-{kubectl.suffix}"
    overrides = json.dumps({"apiVersion": "v1", "spec": {"schedulerName": "example.com/manual"}})
    kubectl("run", name, "--image=nginx", f"--overrides={overrides}")
    kubectl("patch", "pod", name, "--subresource=status", "--type=merge",
            "-p", '{"status":{"nominatedNodeName":"worker-2"}}')
    table = rows(kubectl("get", "pod", name, "-o", "wide").stdout)
    assert table[0][:8] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE"]
    assert table[1][0] == name and table[1][7] == "worker-2"
    kubectl("delete", "pod", name, "--wait=false")


def test_apply_configures_a_class_but_its_value_is_immutable(kubectl, tmp_path):
    name = f"applied-{kubectl.suffix}"
    manifest = tmp_path / "pc.yaml"
    template = ("apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: {name}\n"
                "value: {value}\ndescription: {description}\n")
    manifest.write_text(template.format(name=name, value=100, description="first"))
    assert kubectl("apply", "-f", str(manifest)).stdout.strip() == f"priorityclass.scheduling.k8s.io/{name} created"
    manifest.write_text(template.format(name=name, value=100, description="second"))
    assert kubectl("apply", "-f", str(manifest)).stdout.strip() == f"priorityclass.scheduling.k8s.io/{name} configured"
    assert kubectl("get", "pc", name, "-o", "jsonpath={.description}").stdout == "second"
    manifest.write_text(template.format(name=name, value=200, description="second"))
    refused = kubectl("apply", "-f", str(manifest), check=False)
    assert refused.returncode != 0
    assert (f'The PriorityClass "{name}" is invalid: value: Forbidden: may not be changed in an update.'
            in refused.stderr), refused.stderr
    kubectl("delete", "-f", str(manifest))

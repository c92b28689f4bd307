"""ConfigMaps, Secrets and ServiceAccounts with the machine's real kubectl (the dispatcher and
every kubectl 1.27-1.33, 1.36 and 1.37): the `create configmap|secret|serviceaccount` generators (JSON up to
1.31, protobuf from 1.32), `get` tables, base64 data, the `default` ServiceAccount of a new
namespace and the kube-api-access volume every pod gets."""
from __future__ import annotations

import base64
import subprocess

import pytest

from cluster.api import protobuf
from tests.conftest import wait_until
from tests.kubectl.conftest import rows
from tests.kubectl.test_kubectl_priority import body_of, captured_create


@pytest.fixture(scope="module")
def tls_pair(tmp_path_factory):
    """A self-signed certificate and key made by the openssl CLI."""
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "tls.key"),
                    "-out", str(d / "tls.crt"), "-days", "1", "-subj", "/CN=pilothouse"],
                   check=True, capture_output=True, timeout=60)
    return d / "tls.crt", d / "tls.key"


def test_the_bodies_the_generators_send_decode(kubectl, tmp_path, tls_pair):
    crt, key = tls_pair
    expected = {
        ("configmap", "x", "--from-literal=a=b"): {"kind": "ConfigMap", "data": {"a": "b"}},
        ("secret", "generic", "x", "--from-literal=p=q"): {"kind": "Secret", "data": {"p": "cQ=="}},
        ("secret", "tls", "x", f"--cert={crt}", f"--key={key}"): {
            "kind": "Secret", "type": "kubernetes.io/tls",
            "data": {"tls.crt": base64.b64encode(crt.read_bytes()).decode(),
                     "tls.key": base64.b64encode(key.read_bytes()).decode()}},
        ("serviceaccount", "x"): {"kind": "ServiceAccount"},
        ("quota", "x", "--hard=pods=2,cpu=1"): {"kind": "ResourceQuota", "spec": {"hard": {"cpu": "1", "pods": "2"}}},
    }
    for args, want in expected.items():
        ctype, raw = captured_create(kubectl.binary, tmp_path, "create", *args)
        assert ctype in ("application/json", protobuf.CONTENT_TYPE)
        assert body_of(ctype, raw) == {"apiVersion": "v1", "metadata": {"name": "x"}, **want}, args


def test_create_and_get_configmaps(kubectl):
    name = f"cfg-{kubectl.suffix}"
    out = kubectl("create", "configmap", name, "--from-literal=a=b", "--from-literal=c=d")
    assert out.stdout.strip() == f"configmap/{name} created"
    table = rows(kubectl("get", "cm").stdout)
    assert table[0] == ["NAME", "DATA", "AGE"]
    by_name = {r[0]: r for r in table[1:]}
    assert by_name[name][1] == "2" and by_name["kube-root-ca.crt"][1] == "1"
    assert kubectl("get", "configmap", name, "-o", "jsonpath={.data.c}").stdout == "d"
    # Immutable: the data may no longer change.
    kubectl("patch", "cm", name, "--type=merge", "-p", '{"immutable": true}')
    refused = kubectl("patch", "cm", name, "--type=merge", "-p", '{"data": {"a": "z"}}', check=False)
    assert refused.returncode != 0
    assert (f'The ConfigMap "{name}" is invalid: data: Forbidden: field is immutable when `immutable` is set'
            in refused.stderr), refused.stderr
    assert kubectl("delete", "cm", name).stdout.strip() == kubectl.deleted(f'configmap "{name}"', "default")


def test_create_and_get_secrets(kubectl, tls_pair):
    generic, tls = f"gen-{kubectl.suffix}", f"tls-{kubectl.suffix}"
    crt, key = tls_pair
    assert kubectl("create", "secret", "generic", generic, "--from-literal=p=q").stdout.strip() == \
        f"secret/{generic} created"
    assert kubectl("create", "secret", "tls", tls, f"--cert={crt}", f"--key={key}").stdout.strip() == \
        f"secret/{tls} created"
    assert kubectl("get", "secret", generic, "-o", "jsonpath={.data.p}").stdout == "cQ=="
    assert base64.b64decode(kubectl("get", "secret", tls, "-o", "jsonpath={.data.tls\\.crt}").stdout) == \
        crt.read_bytes()
    table = rows(kubectl("get", "secrets").stdout)
    assert table[0] == ["NAME", "TYPE", "DATA", "AGE"]
    by_name = {r[0]: r for r in table[1:]}
    assert by_name[generic][1:3] == ["Opaque", "1"]
    assert by_name[tls][1:3] == ["kubernetes.io/tls", "2"]
    selected = kubectl("get", "secrets", "--field-selector", "type=kubernetes.io/tls", "-o", "name").stdout.split()
    assert f"secret/{tls}" in selected and f"secret/{generic}" not in selected
    kubectl("delete", "secret", generic, tls)


def test_secret_refusals_read_as_upstream(kubectl, tmp_path):
    name = f"bad-{kubectl.suffix}"
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\ndata:\n  k: not-base64\n")
    refused = kubectl("create", "-f", str(manifest), "--validate=false", check=False)
    assert refused.returncode != 0
    assert ('Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3'
            in refused.stderr), refused.stderr
    manifest.write_text(f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\ntype: kubernetes.io/tls\n"
                        f"stringData:\n  tls.crt: x\n")
    refused = kubectl("create", "-f", str(manifest), check=False)
    assert f'The Secret "{name}" is invalid: data[tls.key]: Required value' in refused.stderr, refused.stderr


def test_service_accounts_and_the_default_one_of_a_new_namespace(kubectl):
    ns, bot = f"team-{kubectl.suffix}", f"bot-{kubectl.suffix}"
    assert kubectl("create", "namespace", ns).stdout.strip() == f"namespace/{ns} created"
    wait_until(lambda: "default" in kubectl("get", "sa", "-n", ns, "-o", "name", check=False).stdout,
               timeout=20, interval=0.2, message="default ServiceAccount")
    assert kubectl("create", "serviceaccount", bot, "-n", ns).stdout.strip() == f"serviceaccount/{bot} created"
    table = rows(kubectl("get", "sa", "-n", ns).stdout)
    assert table[0] == ["NAME", "SECRETS", "AGE"]
    assert sorted(r[:2] for r in table[1:]) == sorted([["default", "0"], [bot, "0"]])
    wait_until(lambda: kubectl("get", "cm", "kube-root-ca.crt", "-n", ns, check=False).returncode == 0,
               timeout=20, interval=0.2, message="kube-root-ca.crt")
    kubectl("delete", "namespace", ns, "--wait=false")


def test_a_pod_gets_the_kube_api_access_volume(kubectl):
    name = f"tok-{kubectl.suffix}"
    assert kubectl("run", name, "--image=nginx").stdout.strip() == f"pod/{name} created"
    manifest = kubectl("get", "pod", name, "-o", "yaml").stdout
    assert "serviceAccountName: default" in manifest
    assert "- mountPath: /var/run/secrets/kubernetes.io/serviceaccount\n      name: kube-api-access-" in manifest
    assert "readOnly: true" in manifest
    for line in ("expirationSeconds: 3607", "name: kube-root-ca.crt", "fieldPath: metadata.namespace",
                 "defaultMode: 420"):
        assert line in manifest, manifest
    missing = kubectl("run", f"nosa-{kubectl.suffix}", "--image=nginx", "--overrides",
                      '{"apiVersion": "v1", "spec": {"serviceAccountName": "ghost"}}', check=False)
    assert missing.returncode != 0
    assert (f'Error from server (Forbidden): pods "nosa-{kubectl.suffix}" is forbidden: error looking up service '
            'account default/ghost: serviceaccount "ghost" not found') in missing.stderr
    kubectl("delete", "pod", name, "--wait=false")

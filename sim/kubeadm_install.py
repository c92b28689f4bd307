"""Installing a cluster the way a student does on real machines: `kubeadm init` on the
control-plane host, a pod network, then `kubeadm join` on each worker.

A cluster created with `"install": "kubeadm"` (sim/clusterconfig.py) starts as hosts with
their packages installed and containerd running, nothing else: no etcd, no control plane, no
kubelet (its systemd unit would restart in a loop without /var/lib/kubelet/config.yaml).

`kubeadm init` (cmd/kubeadm/app/cmd/phases/init, in upstream's order) prints what upstream
prints and does what each phase does, in virtual time, as a component of its own
(`kubeadm@<host>`, so its API requests travel in the diagram):

  preflight, certs, kubeconfig, etcd, control-plane   files only (the lines say which)
  kubelet-start        the kubelet starts and runs the static pods: etcd, then the control plane
  wait-control-plane   until the kubelet and the API server are healthy
  upload-config        ConfigMaps kubeadm-config and kubelet-config in kube-system
  mark-control-plane   the node's control-plane labels (the taint it registered with)
  bootstrap-token      a token Secret, its RBAC, and kube-public/cluster-info signed with the token
  addon                CoreDNS and kube-proxy (sim/kubeadm_dns.py, sim/kubeadm_proxy.py)

then the join command.  The nodes stay NotReady until the pod network's manifest is applied
(`Cluster.kubeadm_pod_network`, as `kubectl apply -f kube-flannel.yml` would): the runtime's
network is not ready before the CNI plugin's agent writes its configuration.

`kubeadm join` validates the token against cluster-info's JWS signature (discovery), reads the
cluster's configuration, starts the kubelet with a bootstrap kubeconfig (the token) and waits,
up to 5 minutes, for the kubelet's TLS bootstrap: its CertificateSigningRequest approved by
kube-controller-manager's csrapproving controller (or by `kubectl certificate approve`) and
signed by csrsigning (sim/kubelet/certificate.py); then for its Node.  What is not modelled:
`--discovery-token-ca-cert-hash` pinning (printed, the cluster CA's real SPKI hash, not
checked), `kubeadm reset`.

`kubeadm init --upload-certs` stores the control-plane certificates, AES-GCM encrypted with a
new certificate key, in the Secret kube-system/kubeadm-certs, and prints the control-plane join
command.  `kubeadm join --control-plane --certificate-key <key>` discovers the cluster as a
worker's join does, downloads and decrypts the certificates (a wrong key: "cipher: message
authentication failed"), writes the control-plane manifests, performs the kubelet's TLS
bootstrap, adds the host's etcd member as a learner and promotes it once in sync (kubeadm's
learner mode, GA in v1.32), then the host is a control-plane node as one configured from the
start is (Cluster.kubeadm_add_control_plane): its kube-apiserver on its local member, its
kube-controller-manager and kube-scheduler in the Lease elections."""
from __future__ import annotations

import base64
import ipaddress
import json
import re
from typing import TYPE_CHECKING, Any, Callable, Generator

from sim import kubeadm_dns, kubeadm_proxy
from sim.auth.serviceaccount import _b64, _sign
from sim.client import KUBE_VERSION, ClientComponent

if TYPE_CHECKING:
    from sim.cluster import Cluster

# bootstraputil.BootstrapTokenPattern / BootstrapTokenChars (k8s.io/cluster-bootstrap/token)
TOKEN_PATTERN = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
TOKEN_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"
TOKEN_TTL = 24 * 3600                     # kubeadm's default --token-ttl
DEFAULT_TOKEN_GROUP = "system:bootstrappers:kubeadm:default-node-token"
RBAC = "rbac.authorization.k8s.io"
API_PORT = 6443
POLL = 0.2                                # how often a wait looks again, virtual seconds
WAIT_TIMEOUT = 240.0                      # "This can take up to 4m0s"
TLS_BOOTSTRAP_TIMEOUT = 300.0             # JoinConfiguration timeouts.tlsBootstrap: 5m0s
# kubeadmJoinFailMsg (cmd/kubeadm/app/cmd/phases/join/kubelet.go).
JOIN_FAIL_MSG = ("", "Unfortunately, an error has occurred:", "\t{}", "", "This error is likely caused by:",
                 "\t- The kubelet is not running",
                 "\t- The kubelet is unhealthy due to a misconfiguration of the node in some way "
                 "(required cgroups disabled)", "",
                 "If you are on a systemd-powered system, you can try to troubleshoot the error with the following "
                 "commands:", "\t- 'systemctl status kubelet'", "\t- 'journalctl -xeu kubelet'", "")


class KubeadmError(Exception):
    """kubeadm's failure: what it prints, e.g. "error execution phase preflight: ..."."""


def _sleep(seconds: float):
    return ("sleep", seconds)


def _until(predicate: Callable[[], bool], what: str, timeout: float | None = None):
    return ("until", predicate, what, timeout or WAIT_TIMEOUT)


def _api(req: dict):
    return ("api", req)


class Kubeadm(ClientComponent):
    """One run of `kubeadm init` or `kubeadm join` on a host: a generator of steps (sleep, wait
    until, API request) driven by the kernel.  `output` is what kubeadm printed so far."""
    component = "kubeadm"

    def __init__(self, cluster: "Cluster", host: str, command: str):
        serving = cluster.serving_apiserver() or cluster.apiservers[0]
        # Through the control-plane load balancer: the serving apiserver first, then the others.
        super().__init__(host, [serving.address] + [a.address for a in cluster.apiservers if a is not serving])
        self.cluster, self.command = cluster, command
        self.output: list[str] = []
        self.state = "running"            # running, succeeded, failed
        self.error = ""
        self._steps: Generator | None = None

    def status(self, lines: int | None = None) -> dict:
        output = self.output if lines is None else self.output[-lines:]
        return {"node": self.host, "command": self.command, "state": self.state, "output": list(output),
                "lines": len(self.output), "error": self.error}

    def say(self, *lines: str) -> None:
        for line in lines:
            self.output.append(line)
            if line.strip():
                self.action(line)

    def run(self, steps: Generator) -> None:
        self._steps = steps
        self._resume(None)

    def on_stop(self) -> None:
        if self.state == "running":
            self._fail("the host went down while kubeadm ran")

    def _fail(self, message: str) -> None:
        self.state, self.error = "failed", message
        self.output.append(message)
        self.action(message)

    def _resume(self, value: Any, error: KubeadmError | None = None) -> None:
        try:
            op = self._steps.send(value) if error is None else self._steps.throw(error)
        except StopIteration:
            self.state = "succeeded"
            return
        except KubeadmError as e:
            self._fail(str(e))
            return
        if op[0] == "sleep":
            self.call_later(op[1], lambda: self._resume(None))
        elif op[0] == "until":
            self._poll(op[1], op[2], self.now, self.now + op[3])
        else:
            self.api.request(op[1], self._resume)

    def _poll(self, predicate, what: str, since: float, deadline: float) -> None:
        if predicate():
            self._resume(self.now - since)
        elif self.now >= deadline:
            # Raised where kubeadm waited, so its deferred clean-ups run.
            self._resume(None, KubeadmError(f"error execution phase {what}: timed out waiting for the condition"))
        else:
            self.call_later(POLL, lambda: self._poll(predicate, what, since, deadline))


# -- what kubeadm writes ---------------------------------------------------------------------

def new_token(rng) -> str:
    """bootstraputil.GenerateBootstrapToken: "[a-z0-9]{6}.[a-z0-9]{16}" (from the seeded generator)."""
    pick = lambda n: "".join(TOKEN_CHARS[rng.randrange(len(TOKEN_CHARS))] for _ in range(n))  # noqa: E731
    return f"{pick(6)}.{pick(16)}"


def ca_cert_hash(c: "Cluster") -> str:
    """--discovery-token-ca-cert-hash: pubkeypin.Hash, SHA-256 of the cluster CA's
    SubjectPublicKeyInfo."""
    return c.ca.spki_sha256()


def detached_jws(payload: str, token_id: str, token_secret: str) -> str:
    """bootstrap/jws ComputeDetachedSignature: a compact HS256 JWS of the kubeconfig, keyed with
    the token's secret, its payload left out ("header..signature")."""
    header = _b64(json.dumps({"alg": "HS256", "kid": token_id}, separators=(",", ":")).encode())
    return f"{header}..{_sign(token_secret, header + '.' + _b64(payload.encode()))}"


def first_service_ip(service_subnet: str) -> str:
    """The `kubernetes` Service's ClusterIP: the first address of the (first) service CIDR."""
    net = ipaddress.ip_network(service_subnet.split(",")[0].strip(), strict=False)
    return str(net.network_address + 1)


def _b64data(values: dict[str, str]) -> dict[str, str]:
    return {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}


def cluster_info_kubeconfig(server: str, ca_pem: str) -> str:
    """The kubeconfig kube-public/cluster-info holds: the cluster's CA and address, no user."""
    ca = base64.b64encode(ca_pem.encode()).decode()
    return (f"apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {ca}\n"
            f"    server: {server}\n  name: \"\"\ncontexts: null\ncurrent-context: \"\"\nkind: Config\n"
            "preferences: {}\nusers: null\n")


def cluster_configuration(cluster: "Cluster") -> str:
    """kube-system/kubeadm-config's ClusterConfiguration (kubeadm.k8s.io/v1beta4), as kubeadm
    init uploads it."""
    cfg = cluster.config
    return (f"apiServer: {{}}\napiVersion: kubeadm.k8s.io/v1beta4\ncaCertificateValidityPeriod: 87600h0m0s\n"
            f"certificateValidityPeriod: 8760h0m0s\ncertificatesDir: /etc/kubernetes/pki\nclusterName: kubernetes\n"
            f"controllerManager: {{}}\ndns: {{}}\nencryptionAlgorithm: RSA-2048\netcd:\n  local:\n"
            f"    dataDir: /var/lib/etcd\nimageRepository: registry.k8s.io\nkind: ClusterConfiguration\n"
            f"kubernetesVersion: {KUBE_VERSION}\nnetworking:\n  dnsDomain: cluster.local\n"
            f"  podSubnet: {cfg.pod_subnet}\n  serviceSubnet: {cfg.service_subnet}\nproxy: {{}}\nscheduler: {{}}\n")


def kubelet_configuration(cluster: "Cluster") -> str:
    """kube-system/kubelet-config's KubeletConfiguration: what every kubelet kubeadm starts reads."""
    dns = kubeadm_dns.dns_ip(cluster.config.service_subnet)
    return ("apiVersion: kubelet.config.k8s.io/v1beta1\nauthentication:\n  anonymous:\n    enabled: false\n"
            "  webhook:\n    enabled: true\nauthorization:\n  mode: Webhook\ncgroupDriver: systemd\n"
            f"clusterDNS:\n- {dns}\nclusterDomain: cluster.local\nkind: KubeletConfiguration\n"
            "rotateCertificates: true\nstaticPodPath: /etc/kubernetes/manifests\n")


def _cm(namespace: str, name: str, data: dict) -> dict:
    return _api({"verb": "create", "resource": "configmaps", "namespace": namespace,
                 "body": {"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": name, "namespace": namespace}, "data": data}})


def _binding(name: str, role: str, subject: dict, namespace: str | None = None, role_kind: str = "ClusterRole"):
    kind, resource = ("RoleBinding", "rolebindings") if namespace else ("ClusterRoleBinding", "clusterrolebindings")
    md = {"name": name, **({"namespace": namespace} if namespace else {})}
    return _api({"verb": "create", "group": RBAC, "resource": resource, "namespace": namespace,
                 "body": {"apiVersion": f"{RBAC}/v1", "kind": kind, "metadata": md,
                          "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role},
                          "subjects": [subject]}})


def _group(name: str) -> dict:
    return {"apiGroup": RBAC, "kind": "Group", "name": name}


def _ok(resp: dict, what: str, phase: str) -> None:
    """A create kubeadm needs: created, or there already (a second init's objects)."""
    if resp.get("code") not in (200, 201, 409):
        message = ((resp.get("body") or {}).get("message")) or f"HTTP {resp.get('code')}"
        raise KubeadmError(f"error execution phase {phase}: {what}: {message}")


# -- kubeadm init ------------------------------------------------------------------------------

def init_steps(run: Kubeadm, upload_certs: bool = False) -> Generator:
    c, host = run.cluster, run.host
    ip = c.node_components[host][1].internal_ip
    endpoint = f"{ip}:{API_PORT}"
    run.say(f"[init] Using Kubernetes version: {KUBE_VERSION}", "[preflight] Running pre-flight checks")
    yield _sleep(0.5)
    if c.host_installed(host):
        raise KubeadmError(
            "[preflight] Some fatal errors occurred:\n"
            f"\t[ERROR Port-{API_PORT}]: Port {API_PORT} is in use\n"
            "\t[ERROR FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml]: "
            "/etc/kubernetes/manifests/kube-apiserver.yaml already exists\n"
            "error execution phase preflight: [preflight] Some fatal errors occurred")
    run.say("[preflight] Pulling images required for setting up a Kubernetes cluster",
            "[preflight] This might take a minute or two, depending on the speed of your internet connection",
            "[preflight] You can also perform this action beforehand using 'kubeadm config images pull'")
    yield _sleep(3.0)
    sans = f"[{host} kubernetes kubernetes.default kubernetes.default.svc kubernetes.default.svc.cluster.local]"
    svc_ip = first_service_ip(c.config.service_subnet)
    run.say('[certs] Using certificateDir folder "/etc/kubernetes/pki"',
            '[certs] Generating "ca" certificate and key',
            '[certs] Generating "apiserver" certificate and key',
            f"[certs] apiserver serving cert is signed for DNS names {sans} and IPs [{svc_ip} {ip}]",
            '[certs] Generating "apiserver-kubelet-client" certificate and key',
            '[certs] Generating "front-proxy-ca" certificate and key',
            '[certs] Generating "front-proxy-client" certificate and key',
            '[certs] Generating "etcd/ca" certificate and key',
            '[certs] Generating "etcd/server" certificate and key',
            f"[certs] etcd/server serving cert is signed for DNS names [{host} localhost] and IPs [{ip} 127.0.0.1 ::1]",
            '[certs] Generating "etcd/peer" certificate and key',
            f"[certs] etcd/peer serving cert is signed for DNS names [{host} localhost] and IPs [{ip} 127.0.0.1 ::1]",
            '[certs] Generating "etcd/healthcheck-client" certificate and key',
            '[certs] Generating "apiserver-etcd-client" certificate and key',
            '[certs] Generating "sa" key and public key')
    yield _sleep(1.0)
    run.say('[kubeconfig] Using kubeconfig folder "/etc/kubernetes"',
            '[kubeconfig] Writing "admin.conf" kubeconfig file',
            '[kubeconfig] Writing "super-admin.conf" kubeconfig file',
            '[kubeconfig] Writing "kubelet.conf" kubeconfig file',
            '[kubeconfig] Writing "controller-manager.conf" kubeconfig file',
            '[kubeconfig] Writing "scheduler.conf" kubeconfig file',
            '[etcd] Creating static Pod manifest for local etcd in "/etc/kubernetes/manifests"',
            '[control-plane] Using manifest folder "/etc/kubernetes/manifests"',
            '[control-plane] Creating static Pod manifest for "kube-apiserver"',
            '[control-plane] Creating static Pod manifest for "kube-controller-manager"',
            '[control-plane] Creating static Pod manifest for "kube-scheduler"',
            '[kubelet-start] Writing kubelet environment file with flags to file "/var/lib/kubelet/kubeadm-flags.env"',
            '[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"',
            "[kubelet-start] Starting the kubelet")
    yield _sleep(0.5)
    c.kubeadm_start_host(host)
    run.say("[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods "
            'from directory "/etc/kubernetes/manifests"',
            "[kubelet-check] Waiting for a healthy kubelet at http://127.0.0.1:10248/healthz. This can take up to 4m0s")
    kubelet = c.node_components[host][1]
    took = yield _until(lambda: kubelet.running, "wait-control-plane")
    run.say(f"[kubelet-check] The kubelet is healthy after {max(took, 0.001):.3f}s",
            "[api-check] Waiting for a healthy API server. This can take up to 4m0s")

    def api_healthy() -> bool:
        api = c.serving_apiserver()
        return api is not None and api.synced and ("", "kube-system") in api.cache.objects("namespaces")
    took = yield _until(api_healthy, "wait-control-plane")
    run.say(f"[api-check] The API server is healthy after {took:.3f}s",
            '[upload-config] Storing the configuration used in ConfigMap "kubeadm-config" in the "kube-system" Namespace')
    _ok((yield _cm("kube-system", "kubeadm-config", {"ClusterConfiguration": cluster_configuration(c)})),
        "kubeadm-config", "upload-config/kubeadm")
    run.say('[kubelet] Creating a ConfigMap "kubelet-config" in namespace kube-system with the configuration '
            "for the kubelets in the cluster")
    _ok((yield _cm("kube-system", "kubelet-config", {"kubelet": kubelet_configuration(c)})),
        "kubelet-config", "upload-config/kubelet")
    if upload_certs:
        # uploadcerts.UploadCerts: the control-plane certificates, encrypted with a new key,
        # in the Secret kube-system/kubeadm-certs, owned by a bootstrap token of its own that
        # expires in two hours (the token cleaner deletes it, the garbage collector the Secret).
        key = c.kernel.rng.getrandbits(256).to_bytes(32, "big").hex()
        run.say('[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace')
        owner = new_token(c.kernel.rng)
        owner_id, owner_secret = TOKEN_PATTERN.match(owner).groups()
        owner_resp = yield _api({"verb": "create", "resource": "secrets", "namespace": "kube-system", "body": {
            "apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
            "metadata": {"name": f"bootstrap-token-{owner_id}", "namespace": "kube-system"},
            "data": _b64data({"token-id": owner_id, "token-secret": owner_secret,
                              "description": "Proxy for managing TTL for the kubeadm-certs secret",
                              "expiration": run.timestamp(run.now + CERTS_TTL)})}})
        _ok(owner_resp, "kubeadm-certs owner token", "upload-certs")
        owner_uid = ((owner_resp.get("body") or {}).get("metadata") or {}).get("uid")
        _ok((yield _api({"verb": "create", "resource": "secrets", "namespace": "kube-system", "body": {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": CERTS_SECRET, "namespace": "kube-system",
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Secret", "name": f"bootstrap-token-{owner_id}",
                                              "uid": owner_uid, "controller": True, "blockOwnerDeletion": True}]},
            "data": encrypt_certs(c, key)}})), CERTS_SECRET, "upload-certs")
        _ok((yield _api({"verb": "create", "group": RBAC, "resource": "roles", "namespace": "kube-system",
                         "body": {"apiVersion": f"{RBAC}/v1", "kind": "Role",
                                  "metadata": {"name": "kubeadm:kubeadm-certs", "namespace": "kube-system"},
                                  "rules": [{"apiGroups": [""], "resources": ["secrets"],
                                             "resourceNames": [CERTS_SECRET], "verbs": ["get"]}]}})),
            "kubeadm:kubeadm-certs", "upload-certs")
        _ok((yield _binding("kubeadm:kubeadm-certs", "kubeadm:kubeadm-certs", _group(DEFAULT_TOKEN_GROUP),
                            "kube-system", "Role")), "kubeadm:kubeadm-certs", "upload-certs")
        c.config.kubeadm["certificateKey"] = key
        run.say("[upload-certs] Using certificate key:", key)
    else:
        run.say("[upload-certs] Skipping phase. Please see --upload-certs")
    # mark-control-plane: once the kubelet has registered the Node (kubeadm waits for it too).
    yield _until(lambda: c.node_registered(host), "mark-control-plane")
    yield from _mark_control_plane(run, host)
    token = c.config.kubeadm.get("token") or new_token(c.kernel.rng)
    token_id, token_secret = TOKEN_PATTERN.match(token).groups()
    run.say(f"[bootstrap-token] Using token: {token}",
            "[bootstrap-token] Configuring bootstrap tokens, cluster-info ConfigMap, RBAC Roles")
    expiration = run.timestamp(run.now + TOKEN_TTL)
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
              "metadata": {"name": f"bootstrap-token-{token_id}", "namespace": "kube-system"},
              "data": _b64data({"token-id": token_id, "token-secret": token_secret,
                                "description": "The default bootstrap token generated by 'kubeadm init'.",
                                "expiration": expiration,
                                "usage-bootstrap-authentication": "true", "usage-bootstrap-signing": "true",
                                "auth-extra-groups": DEFAULT_TOKEN_GROUP})}
    _ok((yield _api({"verb": "create", "resource": "secrets", "namespace": "kube-system", "body": secret})),
        "bootstrap token", "bootstrap-token")
    c.config.kubeadm["token"] = token
    _ok((yield _api({"verb": "create", "group": RBAC, "resource": "clusterroles",
                     "body": {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "kubeadm:get-nodes"},
                              "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]}})),
        "kubeadm:get-nodes", "bootstrap-token")
    _ok((yield _binding("kubeadm:get-nodes", "kubeadm:get-nodes", _group(DEFAULT_TOKEN_GROUP))),
        "kubeadm:get-nodes", "bootstrap-token")
    run.say("[bootstrap-token] Configured RBAC rules to allow Node Bootstrap tokens to get nodes")
    _ok((yield _binding("kubeadm:kubelet-bootstrap", "system:node-bootstrapper", _group(DEFAULT_TOKEN_GROUP))),
        "kubeadm:kubelet-bootstrap", "bootstrap-token")
    run.say("[bootstrap-token] Configured RBAC rules to allow Node Bootstrap tokens to post CSRs in order for "
            "nodes to get long term certificate credentials")
    _ok((yield _binding("kubeadm:node-autoapprove-bootstrap",
                        "system:certificates.k8s.io:certificatesigningrequests:nodeclient", _group(DEFAULT_TOKEN_GROUP))),
        "kubeadm:node-autoapprove-bootstrap", "bootstrap-token")
    run.say("[bootstrap-token] Configured RBAC rules to allow the csrapprover controller automatically approve "
            "CSRs from a Node Bootstrap Token")
    _ok((yield _binding("kubeadm:node-autoapprove-certificate-rotation",
                        "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
                        _group("system:nodes"))), "kubeadm:node-autoapprove-certificate-rotation", "bootstrap-token")
    run.say("[bootstrap-token] Configured RBAC rules to allow certificate rotation for all node client "
            "certificates in the cluster",
            '[bootstrap-token] Creating the "cluster-info" ConfigMap in the "kube-public" namespace')
    kubeconfig = cluster_info_kubeconfig(f"https://{endpoint}", c.ca.certificate_pem)
    # Upstream the bootstrap signer (kube-controller-manager) adds the signature; here kubeadm does.
    _ok((yield _cm("kube-public", "cluster-info", {
        "kubeconfig": kubeconfig, f"jws-kubeconfig-{token_id}": detached_jws(kubeconfig, token_id, token_secret)})),
        "cluster-info", "bootstrap-token")
    _ok((yield _api({"verb": "create", "group": RBAC, "resource": "roles", "namespace": "kube-public",
                     "body": {"apiVersion": f"{RBAC}/v1", "kind": "Role",
                              "metadata": {"name": "kubeadm:bootstrap-signer-clusterinfo", "namespace": "kube-public"},
                              "rules": [{"apiGroups": [""], "resources": ["configmaps"],
                                         "resourceNames": ["cluster-info"], "verbs": ["get"]}]}})),
        "cluster-info Role", "bootstrap-token")
    _ok((yield _binding("kubeadm:bootstrap-signer-clusterinfo", "kubeadm:bootstrap-signer-clusterinfo",
                        {"apiGroup": RBAC, "kind": "User", "name": "system:anonymous"}, "kube-public", "Role")),
        "cluster-info RoleBinding", "bootstrap-token")
    run.say('[kubelet-finalize] Updating "/etc/kubernetes/kubelet.conf" to point to a rotatable kubelet client '
            "certificate and key")
    for group, resource, body in kubeadm_dns.objects(c.config.service_subnet):
        _ok((yield _api({"verb": "create", "group": group, "resource": resource,
                         "namespace": body["metadata"].get("namespace"), "body": body})), resource, "addon/coredns")
    run.say("[addons] Applied essential addon: CoreDNS")
    for group, resource, body in kubeadm_proxy.objects(c.config.kube_proxy_mode, c.config.pod_subnet, endpoint):
        _ok((yield _api({"verb": "create", "group": group, "resource": resource,
                         "namespace": body["metadata"].get("namespace"), "body": body})), resource, "addon/kube-proxy")
    run.say("[addons] Applied essential addon: kube-proxy")
    c.config.kubeadm["addons"] = True
    run.say("", "Your Kubernetes control-plane has initialized successfully!", "",
            "To start using your cluster, you need to run the following as a regular user:", "",
            "  mkdir -p $HOME/.kube", "  sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config",
            "  sudo chown $(id -u):$(id -g) $HOME/.kube/config", "",
            "You should now deploy a pod network to the cluster.",
            'Run "kubectl apply -f [podnetwork].yaml" with one of the options listed at:',
            "  https://kubernetes.io/docs/concepts/cluster-administration/addons/", "",
            *((("You can now join any number of control-plane nodes running the following command on each as root:",
                 "", "  " + control_plane_join_command(c), "",
                 "Please note that the certificate-key gives access to cluster sensitive data, keep it secret!",
                 "As a safeguard, uploaded-certs will be deleted in two hours; If necessary, you can use",
                 '"kubeadm init phase upload-certs --upload-certs" to reload certs afterward.', "")
               if upload_certs else ())),
            "Then you can join any number of worker nodes by running the following on each as root:", "",
            join_command(c))


def join_command(c: "Cluster") -> str:
    """What `kubeadm token create --print-join-command` prints."""
    token = c.config.kubeadm.get("token")
    if not token:
        return ""
    ip = c.node_components[c.cp_host][1].internal_ip
    return f"kubeadm join {ip}:{API_PORT} --token {token} --discovery-token-ca-cert-hash {ca_cert_hash(c)}"


def control_plane_join_command(c: "Cluster") -> str:
    """The join command init prints for control-plane nodes (with --upload-certs)."""
    key = c.config.kubeadm.get("certificateKey")
    base = join_command(c)
    return f"{base} --control-plane --certificate-key {key}" if base and key else ""


# The control-plane certificates `kubeadm init --upload-certs` shares (copycerts.certsToTransfer).
CERTS_SECRET = "kubeadm-certs"
CERTS_TTL = 2 * 3600                      # kubeadmconstants.DefaultCertTokenDuration
CERT_FILES = ("ca.crt", "ca.key", "sa.key", "sa.pub", "front-proxy-ca.crt", "front-proxy-ca.key",
              "etcd-ca.crt", "etcd-ca.key")


def _cert_contents(c: "Cluster") -> dict[str, bytes]:
    from cryptography.hazmat.primitives import serialization
    ca_key = c.ca.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    out = {"ca.crt": c.ca.certificate_pem.encode(), "ca.key": ca_key}
    for name in CERT_FILES[2:]:
        out[name] = f"(the simulator's {name}: not a real file)\n".encode()
    return out


def encrypt_certs(c: "Cluster", key: str) -> dict[str, str]:
    """copycerts.getDataFromDisk + cryptoutil.EncryptBytes: each file AES-GCM encrypted with the
    certificate key, the nonce in front, base64 in the Secret's data (the nonces from the
    cluster's seeded generator)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    aead = AESGCM(bytes.fromhex(key))
    data = {}
    for name, content in _cert_contents(c).items():
        nonce = c.kernel.rng.getrandbits(96).to_bytes(12, "big")
        sealed = nonce + aead.encrypt(nonce, content, None)
        data[name] = base64.b64encode(sealed).decode()
    return data


def decrypt_certs(data: dict, key: str) -> dict[str, bytes]:
    """copycerts.DownloadCerts: KubeadmError with kubeadm's message when the key is not the one."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    phase = "error execution phase control-plane-prepare/download-certs: error downloading certs: "
    try:
        raw = bytes.fromhex(key)
    except ValueError:
        raise KubeadmError(phase + "error decoding certificate key: encoding/hex: invalid byte") from None
    if len(raw) != 32:
        raise KubeadmError(phase + "error decoding secret data with provided key: crypto/aes: invalid key size "
                           f"{len(raw)}")
    aead = AESGCM(raw)
    out = {}
    for name, value in data.items():
        sealed = base64.b64decode(value)
        try:
            out[name] = aead.decrypt(sealed[:12], sealed[12:], None)
        except InvalidTag:
            raise KubeadmError(phase + "error decoding secret data with provided key: "
                               "cipher: message authentication failed") from None
    return out


# -- kubeadm join ------------------------------------------------------------------------------

def join_steps(run: Kubeadm, token: str, control_plane: bool = False, certificate_key: str = "") -> Generator:
    c, host = run.cluster, run.host
    run.say("[preflight] Running pre-flight checks")
    yield _sleep(0.5)
    m = TOKEN_PATTERN.match(token or "")
    if not m:
        raise KubeadmError(f'[discovery.bootstrapToken.token: Invalid value: "{token}": the bootstrap token '
                           f'"{token}" was not of the form "{TOKEN_PATTERN.pattern}"]')
    if c.host_installed(host):
        raise KubeadmError("[preflight] Some fatal errors occurred:\n"
                           "\t[ERROR FileAvailable--etc-kubernetes-kubelet.conf]: /etc/kubernetes/kubelet.conf already exists\n"
                           "error execution phase preflight: [preflight] Some fatal errors occurred")
    token_id, token_secret = m.groups()
    endpoint = f"{c.node_components[c.cp_host][1].internal_ip}:{API_PORT}"
    if not c.host_installed(c.cp_host):
        raise KubeadmError(f'error execution phase preflight: couldn\'t validate the identity of the API Server: '
                           f'Get "https://{endpoint}/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": '
                           f"dial tcp {endpoint}: connect: connection refused")
    # Discovery: the anonymous read of cluster-info, its signature checked with the token.
    resp = yield _api({"verb": "get", "resource": "configmaps", "namespace": "kube-public", "name": "cluster-info"})
    data = (resp.get("body") or {}).get("data") or {} if resp.get("code") == 200 else {}
    signature = data.get(f"jws-kubeconfig-{token_id}")
    if not signature:
        raise KubeadmError("error execution phase preflight: couldn't validate the identity of the API Server: "
                           f'could not find a JWS signature in the cluster-info ConfigMap for token ID "{token_id}"')
    if signature != detached_jws(data.get("kubeconfig", ""), token_id, token_secret):
        raise KubeadmError("error execution phase preflight: couldn't validate the identity of the API Server: "
                           f'failed to verify JWS signature of received cluster info object, can\'t trust this API Server')
    run.say("[preflight] Reading configuration from the cluster...",
            "[preflight] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'")
    resp = yield _api({"verb": "get", "resource": "configmaps", "namespace": "kube-system", "name": "kubeadm-config"})
    if resp.get("code") != 200:
        raise KubeadmError("error execution phase preflight: unable to fetch the kubeadm-config ConfigMap: "
                           + str((resp.get("body") or {}).get("message", f"HTTP {resp.get('code')}")))
    if control_plane:
        yield from _control_plane_prepare(run, certificate_key)
    run.say('[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"',
            '[kubelet-start] Writing kubelet environment file with flags to file "/var/lib/kubelet/kubeadm-flags.env"',
            "[kubelet-start] Starting the kubelet")
    yield _sleep(0.5)
    # The kubelet gets /etc/kubernetes/bootstrap-kubelet.conf (the token), not a kubelet.conf:
    # it asks for its client certificate with a CertificateSigningRequest before it registers.
    c.kubeadm_start_host(host, bootstrap_token=token, control_plane=control_plane)
    kubelet = c.node_components[host][1]
    try:
        run.say("[kubelet-check] Waiting for a healthy kubelet at http://127.0.0.1:10248/healthz. "
                "This can take up to 4m0s")
        took = yield _until(lambda: kubelet.running, "kubelet-start")
        run.say(f"[kubelet-check] The kubelet is healthy after {max(took, 0.001):.3f}s",
                "[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap")
        # waitForTLSBootstrappedClient: until kubelet.conf exists - its CSR approved and issued.
        try:
            yield _until(lambda: c.kubelet_bootstrapped(host), "kubelet-start", TLS_BOOTSTRAP_TIMEOUT)
        except KubeadmError:
            run.say(*(line.format("context deadline exceeded") for line in JOIN_FAIL_MSG))
            raise KubeadmError("error execution phase kubelet-start: context deadline exceeded") from None
    finally:
        c.kubeadm_remove_bootstrap_kubeconfig(host)   # deferred os.Remove(bootstrapKubeConfigFile)
    # AnnotateCRISocket patches the Node with the new credentials: the Node must be there.
    yield _until(lambda: c.node_registered(host), "kubelet-start")
    if control_plane:
        yield from _control_plane_join(run)
        run.say("", "This node has joined the cluster and a new control plane instance was created:", "",
                "* Certificate signing request was sent to apiserver and approval was received.",
                "* The Kubelet was informed of the new secure connection details.",
                "* Control plane label and taint were applied to the new node.",
                "* The Kubernetes control plane instances scaled up.",
                "* A new etcd member was added to the local/stacked etcd cluster.", "",
                "To start administering your cluster from this node, you need to run the following as a regular user:",
                "", "\tmkdir -p $HOME/.kube", "\tsudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config",
                "\tsudo chown $(id -u):$(id -g) $HOME/.kube/config", "",
                "Run 'kubectl get nodes' to see this node join the cluster.", "")
        return
    run.say("", "This node has joined the cluster:",
            "* Certificate signing request was sent to apiserver and a response was received.",
            "* The Kubelet was informed of the new secure connection details.", "",
            "Run 'kubectl get nodes' on the control-plane to see this node join the cluster.")


# -- kubeadm join --control-plane (cmd/kubeadm/app/cmd/phases/join: controlplaneprepare.go,
# controlplanejoin.go; etcd in learner mode, GA in v1.32) ------------------------------------

ETCD_JOIN_TIMEOUT = 40.0                  # "This can take up to 40s"
ETCD_REQUEST_TIMEOUT = 7.0                # etcd's request timeout, as for etcdctl


def _control_plane_prepare(run: Kubeadm, certificate_key: str) -> Generator:
    """preflight's control-plane checks, then control-plane-prepare: download-certs, certs,
    kubeconfig, control-plane (the files; the static pods run once etcd has joined)."""
    c, host = run.cluster, run.host
    ip = c.node_components[host][1].internal_ip
    run.say("[preflight] Running pre-flight checks before initializing the new control plane instance",
            "[preflight] Pulling images required for setting up a Kubernetes cluster",
            "[preflight] This might take a minute or two, depending on the speed of your internet connection",
            "[preflight] You can also perform this action beforehand using 'kubeadm config images pull'")
    yield _sleep(3.0)
    if not certificate_key:
        # Without --certificate-key the shared certificates must already be on the host.
        raise KubeadmError(
            "error execution phase preflight: \none or more conditions for hosting a new control plane instance "
            "is not satisfied.\n\n[failure loading certificate for CA: couldn't load the certificate file "
            "/etc/kubernetes/pki/ca.crt: open /etc/kubernetes/pki/ca.crt: no such file or directory]\n\n"
            "Please ensure that:\n* The cluster has a stable controlPlaneEndpoint address.\n"
            "* The certificates that must be shared among control plane instances are provided.")
    run.say(f'[download-certs] Downloading the certificates in Secret "{CERTS_SECRET}" in the "kube-system" Namespace')
    resp = yield _api({"verb": "get", "resource": "secrets", "namespace": "kube-system", "name": CERTS_SECRET})
    if resp.get("code") != 200:
        raise KubeadmError("error execution phase control-plane-prepare/download-certs: error downloading certs: "
                           "error downloading the secret: "
                           + str((resp.get("body") or {}).get("message", f"HTTP {resp.get('code')}")))
    decrypt_certs((resp.get("body") or {}).get("data") or {}, certificate_key)
    run.say('[download-certs] Saving the certificates to the folder: "/etc/kubernetes/pki"')
    yield _sleep(0.5)
    sans = f"[{host} kubernetes kubernetes.default kubernetes.default.svc kubernetes.default.svc.cluster.local]"
    svc_ip = first_service_ip(c.config.service_subnet)
    run.say('[certs] Using certificateDir folder "/etc/kubernetes/pki"',
            '[certs] Generating "etcd/server" certificate and key',
            f"[certs] etcd/server serving cert is signed for DNS names [{host} localhost] and IPs [{ip} 127.0.0.1 ::1]",
            '[certs] Generating "etcd/peer" certificate and key',
            f"[certs] etcd/peer serving cert is signed for DNS names [{host} localhost] and IPs [{ip} 127.0.0.1 ::1]",
            '[certs] Generating "etcd/healthcheck-client" certificate and key',
            '[certs] Generating "apiserver-etcd-client" certificate and key',
            '[certs] Generating "apiserver" certificate and key',
            f"[certs] apiserver serving cert is signed for DNS names {sans} and IPs [{svc_ip} {ip}]",
            '[certs] Generating "apiserver-kubelet-client" certificate and key',
            '[certs] Generating "front-proxy-client" certificate and key',
            '[certs] Valid certificates and keys now exist in "/etc/kubernetes/pki"',
            '[certs] Using the existing "sa" key',
            "[kubeconfig] Generating kubeconfig files",
            '[kubeconfig] Using kubeconfig folder "/etc/kubernetes"',
            '[kubeconfig] Writing "admin.conf" kubeconfig file',
            '[kubeconfig] Writing "controller-manager.conf" kubeconfig file',
            '[kubeconfig] Writing "scheduler.conf" kubeconfig file',
            '[control-plane] Using manifest folder "/etc/kubernetes/manifests"',
            '[control-plane] Creating static Pod manifest for "kube-apiserver"',
            '[control-plane] Creating static Pod manifest for "kube-controller-manager"',
            '[control-plane] Creating static Pod manifest for "kube-scheduler"',
            "[check-etcd] Checking that the etcd cluster is healthy")
    if c._etcd_leader() is None:
        raise KubeadmError("error execution phase check-etcd: etcd cluster is not healthy: etcdserver: no leader")
    yield _sleep(0.5)


def _etcd_reply(run: Kubeadm, rid: str, phase: str) -> Generator:
    c = run.cluster
    try:
        yield _until(lambda: rid in c.client.replies, phase, ETCD_REQUEST_TIMEOUT)
    except KubeadmError:
        c.client.forget(rid)
        raise KubeadmError(f"error execution phase {phase}: etcdserver: request timed out") from None
    reply = c.client.take_reply(rid) or {}
    if reply.get("error"):
        raise KubeadmError(f"error execution phase {phase}: {reply['error'][1]}")
    return reply


def _mark_control_plane(run: Kubeadm, host: str) -> Generator:
    """The mark-control-plane phase of init and of a control-plane join: the node's control-plane
    labels (it registered with the NoSchedule taint)."""
    labels = ["node-role.kubernetes.io/control-plane", "node.kubernetes.io/exclude-from-external-load-balancers"]
    run.say(f"[mark-control-plane] Marking the node {host} as control-plane by adding the labels: [{' '.join(labels)}]",
            f"[mark-control-plane] Marking the node {host} as control-plane by adding the taints "
            "[node-role.kubernetes.io/control-plane:NoSchedule]")
    _ok((yield _api({"verb": "patch", "resource": "nodes", "name": host,
                     "patch_type": "application/merge-patch+json",
                     "body": {"metadata": {"labels": {k: "" for k in labels}}}})), "node", "mark-control-plane")


def _control_plane_join(run: Kubeadm) -> Generator:
    """control-plane-join: etcd (the member added as a learner, its static pod, the learner
    promoted once in sync), the control plane's static pods running, mark-control-plane."""
    from sim.cluster import ClusterError
    c, host = run.cluster, run.host
    phase = "control-plane-join/etcd"
    # etcd refuses a member add while a voter has not been connected for long (a member that
    # joined moments ago, 503) or while another learner is there (a second control-plane node
    # joining at the same time: "too many learner members in cluster"): kubeadm's etcd client
    # polls MemberAddAsLearner until it is taken or its timeout (etcdutil addMember).
    deadline = run.now + ETCD_JOIN_TIMEOUT
    while True:
        try:
            rid, name = c.kubeadm_etcd_add_learner(host)
        except ClusterError as e:
            if e.code != 503 or run.now >= deadline:
                raise KubeadmError(f"error execution phase {phase}: error creating local etcd static pod "
                                   f"manifest file: {e}") from None
        else:
            try:
                yield from _etcd_reply(run, rid, phase)
                break
            except KubeadmError:
                if run.now >= deadline:
                    raise
        yield _sleep(1.0)
    run.say("[etcd] Announced new etcd member joining to the existing etcd cluster",
            '[etcd] Creating static Pod manifest for "etcd"')
    c.kubeadm_etcd_started(name)
    run.say(f"[etcd] Waiting for the new etcd member to join the cluster. This can take up to {ETCD_JOIN_TIMEOUT:.0f}s")
    # Learner mode: kubeadm retries MemberPromote until etcd takes it (the learner in sync).
    deadline = run.now + ETCD_JOIN_TIMEOUT
    while True:
        prid = c.kubeadm_etcd_promote(name)
        if prid is not None:
            break
        if run.now >= deadline:
            raise KubeadmError(f"error execution phase {phase}: {c.ERR_LEARNER_NOT_READY}")
        yield _sleep(POLL)
    yield from _etcd_reply(run, prid, phase)
    # The control plane's static pods, whose apiserver uses the local member.
    c.kubeadm_add_control_plane(host)
    api = c.cp_components[host][0]
    yield _until(lambda: api.running and api.synced, "control-plane-join")
    yield from _mark_control_plane(run, host)

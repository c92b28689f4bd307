"""Scripted scenarios: one command per line, read like a lesson, checked like a test.

    cluster seed=7 workers=3           # optional first line (defaults: seed 1, cp-1 + 3 workers)
    create replicaset web replicas=3 image=nginx:1.27 cpu=100m memory=64Mi
    create replicaset web replicas=3 anti-affinity=kubernetes.io/hostname   # required podAntiAffinity
                                                                           # against its own pods
    scale replicaset web replicas=4      # any kind with a scale subresource, by any of its names
    load deployment php-apache rps=20    # the load generator: HTTP requests a second to its ready
                                         # pods (Cluster.set_load; rps=0 stops it)
    create pod db image=postgres:16 cpu=500m memory=256Mi node-selector=disk=ssd
    delete pod db                        # any kind the cluster serves: delete rs web, delete ct x
    delete pods -l app=web               # every object the label selector matches, as kubectl's -l
    apply crontab-crd.yaml               # any manifests (YAML, several documents), CRDs included
    expect crontab my-cron exists | expect crontab my-cron gone          # any kind
    create priorityclass high value=100000 [preemption-policy=Never]   # scheduling.k8s.io/v1
    create pod urgent cpu=2 priority-class=high        # spec.priorityClassName
    advance 60s                        # also 500ms, 5m, 1h30m
    kill-node worker-1 | restore-node worker-1 | add-node worker-4 cpu=4 memory=8Gi
    label node worker-1 topology.kubernetes.io/zone=a    # as kubectl label (zone- removes the label)
    taint node worker-1 dedicated=gpu:NoSchedule         # as kubectl taint (...:NoSchedule- removes it)
    create pod job toleration=dedicated=gpu:NoSchedule   # key=value:Effect (Equal) or key:Effect (Exists),
                                                         # comma-separated; replicasets take it too
    create replicaset web replicas=6 spread=topology.kubernetes.io/zone:1[:ScheduleAnyway]
                                                         # a topologySpreadConstraint over its own pods
    partition worker-1 / cp-1 worker-2 worker-3    # cut the network between groups; heal
    cluster seed=3 control-planes=3 etcd=3 topology=stacked|external
    kill-member etcd-2 | kill-member leader | restore-member etcd-2 | restore-member leader
    partition leader / followers                   # etcd members by role (resolved now)
    expect etcd new-leader                         # one leader, not the last remembered, higher term
    expect etcd leader | expect etcd no-leader | expect etcd stepped-down   # (leader remembers the
                                                   # one it saw; stepped-down: the remembered one)
    expect write succeeds | expect write fails     # a pod creation through the API
    expect pod db Running on worker-2
    expect pod db Pending
    expect pod urgent Pending nominated worker-2       # status.nominatedNodeName (preemption)
    expect pod db gone
    expect node worker-1 Ready=Unknown
    expect node worker-1 taint node.kubernetes.io/unreachable:NoExecute
    expect node worker-1 no-taint node.kubernetes.io/unreachable:NoExecute
    expect replicaset web ready=3
    expect daemonset agent desired=3 current=3 ready=3 updated=3 available=3 misscheduled=0
    expect pods app=web phase=Running count=3 [node=worker-1] [not-node=worker-1] [terminating] [ready]
    expect pods app=web count=2 node-label=topology.kubernetes.io/zone=a   # on nodes with that label
    expect event FailedScheduling 0/4 nodes are available: ...
    expect deployment web .status.updatedReplicas=3 .status.readyReplicas>=2   # any kind, any field
    expect pod kube-system/etcd-cp-1 .status.phase=Running    # ns/name for another namespace
    expect csr spec.signerName=kubernetes.io/kube-apiserver-client-kubelet .status.certificate!=
                                                # a field selector for a name not known ahead: one
                                                # object it selects must pass every check
    expect traffic from="pod default/client" to=web.default count=4 delivered=4   # sim/traffic.py
    expect traffic from=outside to=node:worker-1:30080 delivered=1   # also to=pod:default/web:80
    expect traffic from="pod default/client" to=web.default count=30 delivered=30 endpoints=3
                                                # endpoints: how many endpoints answered (load balancing)
    expect traffic from="pods app=frontend" to=backend.default delivered=1   # the first running pod
                                                # the selector matches sends
    expect endpointslices kubernetes.io/service-name=web ready=3 not-ready=0   # the endpoints of the
                                                # EndpointSlices the selector matches, by their Ready condition
    fault pod web-1 crash [container=web]       # a fault in the pod's program (sim/podfaults.py)
    kill-component cp-1 kube-scheduler          # the kubelet restarts the static pod's container

`run_scenario(text)` returns the cluster and the transcript; a failed expectation raises
ScenarioError naming the line.  With `cached_reads`, an expectation reads from the API server's
watch cache (resourceVersion "0", as `kubectl get` may): no virtual time passes, so a lesson
(sim/lessons/) can check its conditions on a running cluster as often as it likes.
"""
from __future__ import annotations

import shlex
from pathlib import Path

from sim.api.podutil import condition
from sim.cluster import Cluster, ClusterConfig
from sim.clusterconfig import config_from_words
from sim.durations import parse_duration



class ScenarioError(AssertionError):
    pass


def _kv(args: list[str]) -> tuple[dict[str, str], list[str]]:
    kv, flags = {}, []
    for a in args:
        if "=" in a:
            k, _, v = a.partition("=")
            kv[k] = v
        else:
            flags.append(a)
    return kv, flags


def pod_manifest(name: str, image: str, cpu: str | None = None, memory: str | None = None,
                 node_selector: dict | None = None, labels: dict | None = None, namespace: str = "default",
                 priority_class: str | None = None, tolerations: list | None = None,
                 spread: list | None = None) -> dict:
    resources = {"requests": {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}}
    spec = {"containers": [{"name": image.rsplit("/", 1)[-1].split(":")[0].split("@")[0] or "main",
                            "image": image, "resources": resources if resources["requests"] else {}}]}
    if node_selector:
        spec["nodeSelector"] = node_selector
    if priority_class:
        spec["priorityClassName"] = priority_class
    if tolerations:
        spec["tolerations"] = tolerations
    if spread:
        spec["topologySpreadConstraints"] = spread
    md = {"name": name, "namespace": namespace}
    if labels:
        md["labels"] = labels
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec}


def replicaset_manifest(name: str, replicas: int, image: str, cpu: str | None = None, memory: str | None = None,
                        namespace: str = "default", anti_affinity_topology_key: str | None = None,
                        tolerations: list | None = None, spread: str | None = None) -> dict:
    template = pod_manifest(name, image, cpu, memory, labels={"app": name}, tolerations=tolerations,
                            spread=parse_spread(spread, {"app": name}) if spread else None)
    if anti_affinity_topology_key:
        # No two of its pods in one topology domain (e.g. one per node with kubernetes.io/hostname).
        template["spec"]["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": name}}, "topologyKey": anti_affinity_topology_key}]}}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": template["spec"]}}}


def parse_tolerations(text: str) -> list[dict]:
    """key=value:Effect (operator Equal) or key:Effect (Exists), comma-separated; an empty
    effect (key=value:) tolerates every effect."""
    out = []
    for item in filter(None, text.split(",")):
        kv, sep, effect = item.rpartition(":")
        if not sep:
            raise ScenarioError(f"toleration {item!r}: use key=value:Effect or key:Effect")
        key, eq, value = kv.partition("=")
        tol = {"key": key, "operator": "Equal", "value": value} if eq else {"key": key, "operator": "Exists"}
        if effect:
            tol["effect"] = effect
        out.append(tol)
    return out


def parse_spread(text: str, labels: dict) -> list[dict]:
    """topologyKey:maxSkew[:whenUnsatisfiable] (DoNotSchedule by default), over pods with `labels`."""
    key, _, rest = text.partition(":")
    skew, _, when = rest.partition(":")
    if not key or not skew.isdigit():
        raise ScenarioError(f"spread {text!r}: use topologyKey:maxSkew[:DoNotSchedule|ScheduleAnyway]")
    return [{"maxSkew": int(skew), "topologyKey": key, "whenUnsatisfiable": when or "DoNotSchedule",
             "labelSelector": {"matchLabels": dict(labels)}}]


def parse_taint(text: str) -> tuple[dict, bool]:
    """kubectl taint's key[=value]:Effect, with a trailing '-' to remove: (taint, remove)."""
    remove = text.endswith("-")
    kv, sep, effect = text.rstrip("-").rpartition(":")
    if not sep or effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
        raise ScenarioError(f"taint {text!r}: use key[=value]:NoSchedule|PreferNoSchedule|NoExecute[-]")
    key, _, value = kv.partition("=")
    taint = {"key": key, "effect": effect}
    if value:
        taint["value"] = value
    return taint, remove


class Scenario:
    def __init__(self, cluster: Cluster | None = None, base_dir: Path | None = None, cached_reads: bool = False):
        self.cluster = cluster
        self.cached_reads = cached_reads
        self.base_dir = base_dir  # where `apply <file>` finds its files
        self.transcript: list[str] = []
        self.remembered: dict | None = None  # the etcd leader a "leader" word last named
        self.writes = 0

    def _leader(self) -> dict | None:
        return next((m for m in self._ensure().etcd_status() if m["role"] == "leader"), None)

    def _members(self, word: str) -> list[str]:
        """An etcd member name, or "leader" / "followers" resolved now (and remembered)."""
        status = self._ensure().etcd_status()
        if word == "leader":
            leader = self._leader()
            if leader is None:
                raise ScenarioError("there is no etcd leader to name")
            self.remembered = leader
            return [leader["name"]]
        if word == "followers":
            return [m["name"] for m in status if m["role"] != "leader"]
        return [word]

    def _kind(self, word: str):
        """The kind a word names, through the serving API server's registry (built-in kinds and
        those CRDs add), as kubectl resolves it."""
        api = self._ensure().serving_apiserver() or self._ensure().apiserver
        res = api.registry.resolve(word)
        if res is None:
            raise ScenarioError(f'the server doesn\'t have a resource type "{word}"')
        return res

    @staticmethod
    def _ns(res) -> str | None:
        return "default" if res.namespaced else None

    def apply(self, args: list[str]) -> None:
        """apply <file> (YAML, several documents; relative to the scenario's directory): each
        object created, or merge-patched when it exists, by its apiVersion and kind."""
        from sim import yamlio as yaml
        if not args:
            raise ScenarioError("use: apply <file.yaml>")
        path = (self.base_dir / args[0]) if self.base_dir is not None else Path(args[0])
        try:
            docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
        except (OSError, yaml.YAMLError) as e:
            raise ScenarioError(f"cannot read {args[0]}: {e}") from None
        api = self._ensure().serving_apiserver() or self._ensure().apiserver
        for doc in docs:
            group, _, version = str(doc.get("apiVersion", "")).rpartition("/")
            res = api.registry.by_kind(group, doc.get("kind", ""))
            if res is None:
                raise ScenarioError(f'no matches for kind "{doc.get("kind")}" in version "{doc.get("apiVersion")}"')
            ns = (doc.get("metadata") or {}).get("namespace") or self._ns(res)
            req = {"group": res.group, "version": version, "resource": res.name, "namespace": ns}
            name = (doc.get("metadata") or {}).get("name")
            exists = self._ensure().request({"verb": "get", **req, "name": name})["code"] == 200
            if exists:
                self._req({"verb": "patch", **req, "name": name, "body": doc,
                           "patch_type": "application/merge-patch+json"})
            else:
                self._req({"verb": "create", **req, "body": doc})

    def _ensure(self) -> Cluster:
        if self.cluster is None:
            self.cluster = Cluster("scenario", ClusterConfig.default())
        return self.cluster

    def run(self, text: str) -> Cluster:
        for lineno, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip() if not raw.strip().startswith("expect event") else raw.strip()
            if not line:
                continue
            try:
                self.step(line)
            except ScenarioError as e:
                raise ScenarioError(f"line {lineno}: {line}\n  {e}") from None
            self.transcript.append(f"[{self._ensure().now:9.3f}] {line}")
        return self._ensure()

    def _req(self, req: dict) -> dict:
        resp = self._ensure().request(req)
        if resp["code"] >= 400:
            raise ScenarioError(f"API error {resp['code']}: {resp['body'].get('message')}")
        return resp["body"]

    def _read(self, req: dict) -> dict:
        """A get or list for an expectation: {"code", "body"}.  With cached_reads, from the API
        server's watch cache (resourceVersion "0"), answered at once or not at all: no virtual
        time passes (a consistent read would wait for etcd's leader, up to a 60 s timeout)."""
        c = self._ensure()
        if not self.cached_reads:
            return c.request(req)
        pending = c.begin_request({**req, "query": {**(req.get("query") or {}), "resourceVersion": "0"}})
        resp = c.request_reply(pending)
        if resp is None:
            c.client.forget(pending.rid)
            raise ScenarioError("the API server's watch cache is not ready yet")
        return resp

    def _get(self, req: dict) -> dict:
        resp = self._read(req)
        if resp["code"] >= 400:
            raise ScenarioError(f"API error {resp['code']}: {resp['body'].get('message')}")
        return resp["body"]

    def step(self, line: str) -> None:
        # An event message is taken word for word (upstream's say "didn't": no shell quoting).
        words = line.split() if line.startswith("expect event") else shlex.split(line)
        cmd, args = words[0], words[1:]
        if cmd == "cluster":
            self.cluster = Cluster("scenario", config_from_words(args))
            return
        c = self._ensure()
        if cmd == "advance":
            c.advance(parse_duration(args[0]))
        elif cmd == "kill-node":
            c.kill_node(args[0])
        elif cmd == "restore-node":
            c.restore_node(args[0])
        elif cmd == "partition":
            groups, cur = [], []
            for a in args:
                if a == "/":
                    groups.append(cur)
                    cur = []
                elif a in ("leader", "followers"):
                    cur.extend(self._members(a))
                else:
                    cur.append(a)
            groups.append(cur)
            c.partition(groups)
        elif cmd in ("kill-member", "restore-member"):
            if args[0] == "leader" and cmd == "restore-member":
                names = [self.remembered["name"]] if self.remembered else []
            else:
                names = self._members(args[0])
            for name in names:
                (c.kill_etcd_member if cmd == "kill-member" else c.restore_etcd_member)(name)
        elif cmd == "heal":
            c.heal()
        elif cmd == "fault":
            if len(args) < 3 or args[0] != "pod":
                raise ScenarioError("use: fault pod <name> <crash|hang|fail-health|unready|recover|...> [container=c]")
            kv, _ = _kv(args[3:])
            ns, name = self._ns_name(args[1])
            self._cluster_call(lambda: c.inject_fault(ns, name, {"fault": args[2], **kv}))
        elif cmd == "kill-component":
            if len(args) != 2:
                raise ScenarioError("use: kill-component <node> <kube-apiserver|kube-scheduler|...>")
            self._cluster_call(lambda: c.kill_component(args[0], args[1]))
        elif cmd == "kubeadm":
            self.kubeadm(args)
        elif cmd == "add-node":
            kv, _ = _kv(args[1:])
            c.add_node(args[0], kv.get("cpu", "4"), kv.get("memory", "8Gi"))
        elif cmd in ("label", "taint"):
            self.node_edit(cmd, args)
        elif cmd == "create":
            kind, name = args[0], args[1]
            kv, _ = _kv(args[2:])
            if kind == "pod":
                sel = dict([kv["node-selector"].split("=", 1)]) if "node-selector" in kv else None
                self._req({"verb": "create", "resource": "pods", "namespace": "default",
                           "body": pod_manifest(name, kv.get("image", "nginx"), kv.get("cpu"), kv.get("memory"), sel,
                                                priority_class=kv.get("priority-class"),
                                                tolerations=parse_tolerations(kv.get("toleration", "")))})
            elif kind == "priorityclass":
                body = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
                        "value": int(kv.get("value", 0))}
                if "preemption-policy" in kv:
                    body["preemptionPolicy"] = kv["preemption-policy"]
                self._req({"verb": "create", "group": "scheduling.k8s.io", "version": "v1",
                           "resource": "priorityclasses", "body": body})
            elif kind == "replicaset":
                self._req({"verb": "create", "group": "apps", "resource": "replicasets", "namespace": "default",
                           "body": replicaset_manifest(name, int(kv.get("replicas", 1)), kv.get("image", "nginx"),
                                                       kv.get("cpu"), kv.get("memory"),
                                                       anti_affinity_topology_key=kv.get("anti-affinity"),
                                                       tolerations=parse_tolerations(kv.get("toleration", "")),
                                                       spread=kv.get("spread"))})
            else:
                raise ScenarioError(f"cannot create {kind}")
        elif cmd == "scale":
            res = self._kind(args[0])
            if res.scale is None:
                raise ScenarioError(f"{res.gr} has no scale subresource")
            kv, _ = _kv(args[2:])
            self._req({"verb": "patch", "group": res.group, "resource": res.name, "subresource": "scale",
                       "namespace": self._ns(res), "name": args[1],
                       "body": {"spec": {"replicas": int(kv["replicas"])}},
                       "patch_type": "application/merge-patch+json"})
        elif cmd == "load":
            kv, _ = _kv(args[2:])
            if len(args) < 3 or "rps" not in kv:
                raise ScenarioError("use: load <kind> <name> rps=<requests a second>")
            c.set_load("default", args[0], args[1], float(kv["rps"]))
        elif cmd == "delete":
            res = self._kind(args[0])
            if len(args) == 3 and args[1] in ("-l", "--selector"):
                # kubectl delete pods -l app=web: every object the selector matches (none is no error).
                names = [o["metadata"]["name"] for o in self._req(
                    {"verb": "list", "group": res.group, "resource": res.name, "namespace": self._ns(res),
                     "query": {"labelSelector": args[2]}})["items"]]
            else:
                names = [args[1]]
            for name in names:
                self._req({"verb": "delete", "group": res.group, "resource": res.name, "namespace": self._ns(res),
                           "name": name})
        elif cmd == "apply":
            self.apply(args)
        elif cmd == "expect":
            self.expect(args)
        else:
            raise ScenarioError(f"unknown command {cmd!r}")

    @staticmethod
    def _ns_name(word: str) -> tuple[str, str]:
        """`name` (in default) or `namespace/name`."""
        ns, _, name = word.rpartition("/")
        return ns or "default", name

    @staticmethod
    def _cluster_call(fn):
        from sim.cluster import ClusterError
        try:
            return fn()
        except ClusterError as e:
            raise ScenarioError(str(e)) from None

    def node_edit(self, cmd: str, args: list[str]) -> None:
        """label/taint node <name> ...: a merge patch of the node through the Kubernetes API."""
        if len(args) < 3 or args[0] != "node":
            raise ScenarioError(f"use: {cmd} node <name> " + ("key=value|key- ..." if cmd == "label"
                                                               else "key[=value]:Effect[-]"))
        name = args[1]
        if cmd == "label":
            labels = {}
            for a in args[2:]:
                k, eq, v = a.partition("=")
                labels[k.rstrip("-") if not eq else k] = v if eq else None
            patch = {"metadata": {"labels": labels}}
        else:
            node = self._req({"verb": "get", "resource": "nodes", "name": name})
            taints = list(node.get("spec", {}).get("taints") or [])
            for a in args[2:]:
                taint, remove = parse_taint(a)
                same = [t for t in taints if (t.get("key"), t.get("effect")) == (taint["key"], taint["effect"])]
                if remove and not same:
                    raise ScenarioError(f"node {name} has no taint {a.rstrip('-')}")
                taints = [t for t in taints if t not in same] + ([] if remove else [taint])
            patch = {"spec": {"taints": taints or None}}
        self._req({"verb": "patch", "resource": "nodes", "name": name, "body": patch,
                   "patch_type": "application/merge-patch+json"})

    def kubeadm(self, args: list[str]) -> None:
        """kubeadm init <node> [--upload-certs] | kubeadm join <node> [token=<t>] [--control-plane
        [certificate-key=<k>]] (defaults: the token and certificate key init made) | kubeadm
        pod-network, on a cluster created with install=kubeadm (sim/kubeadm_install.py)."""
        c = self._ensure()
        usage = ("use: kubeadm init <node> [--upload-certs] | kubeadm join <node> [token=<token>] "
                 "[--control-plane [certificate-key=<key>]] | kubeadm pod-network")
        flags = [a for a in args[2:] if a.startswith("--")]
        if args[:1] == ["init"] and len(args) >= 2 and set(flags) <= {"--upload-certs"} and len(args) == 2 + len(flags):
            self._cluster_call(lambda: c.kubeadm_init(args[1], "--upload-certs" in flags))
        elif args[:1] == ["join"] and len(args) >= 2 and set(flags) <= {"--control-plane"}:
            kv, rest = _kv([a for a in args[2:] if not a.startswith("--")])
            if rest or set(kv) - {"token", "certificate-key"}:
                raise ScenarioError(usage)
            token = kv.get("token") or c.config.kubeadm.get("token")
            if not token:
                raise ScenarioError("kubeadm join: no token: run kubeadm init first, or give token=<token>")
            control_plane = "--control-plane" in flags
            key = kv.get("certificate-key") or (c.config.kubeadm.get("certificateKey") if control_plane else None)
            self._cluster_call(lambda: c.kubeadm_join(args[1], token, control_plane, key))
        elif args == ["pod-network"]:
            self._cluster_call(c.kubeadm_pod_network)
        else:
            raise ScenarioError(usage)

    def expect(self, args: list[str]) -> None:
        what = args[0]
        if len(args) >= 3 and all(a.startswith(".") for a in args[2:]):
            self.expect_fields(what, args[1], args[2:])
        elif len(args) == 3 and args[2] in ("exists", "gone") and what not in ("etcd", "write", "event"):
            res = self._kind(what)  # any kind the cluster serves, custom ones included
            ns, name = self._ns_name(args[1])
            code = self._read({"verb": "get", "group": res.group, "resource": res.name,
                               "namespace": ns if res.namespaced else None, "name": name})["code"]
            if (code == 200) != (args[2] == "exists"):
                raise ScenarioError(f"{res.kind} {args[1]} {'does not exist' if code == 404 else 'still exists'}")
        elif what == "traffic":
            self.expect_traffic(args[1:])
        elif what == "kubeadm":
            # expect kubeadm <node> succeeded|failed|running: the last kubeadm run on that host.
            run = next((r for r in self._ensure().kubeadm_status()["runs"] if r["node"] == args[1]), None)
            state = run["state"] if run else "not run"
            if state != args[2]:
                raise ScenarioError(f"kubeadm on {args[1]}: {state}, not {args[2]}"
                                    + (f" ({run['error']})" if run and run["error"] else ""))
        elif what == "pod":
            if args[2] == "gone":
                resp = self._read({"verb": "get", "resource": "pods", "namespace": "default",
                                    "name": args[1]})
                if resp["code"] != 404:
                    raise ScenarioError(f"pod {args[1]} still exists ({resp['body'].get('status', {}).get('phase')})")
                return
            pod = self._get({"verb": "get", "resource": "pods", "namespace": "default", "name": args[1]})
            phase = pod["status"].get("phase")
            if phase != args[2]:
                raise ScenarioError(f"pod {args[1]} is {phase}, not {args[2]}")
            if len(args) > 4 and args[3] == "on" and pod["spec"].get("nodeName") != args[4]:
                raise ScenarioError(f"pod {args[1]} is on {pod['spec'].get('nodeName')}, not {args[4]}")
            nominated = pod["status"].get("nominatedNodeName")
            if len(args) > 4 and args[3] == "nominated" and nominated != args[4]:
                raise ScenarioError(f"pod {args[1]} is nominated to {nominated}, not {args[4]}")
        elif what == "node":
            node = self._get({"verb": "get", "resource": "nodes", "name": args[1]})
            check = args[2]
            taints = {f"{t['key']}:{t['effect']}" for t in node["spec"].get("taints") or []}
            if check == "taint":
                if args[3] not in taints:
                    raise ScenarioError(f"node {args[1]} has taints {sorted(taints)}, not {args[3]}")
            elif check == "no-taint":
                if args[3] in taints:
                    raise ScenarioError(f"node {args[1]} still has taint {args[3]}")
            else:
                ctype, _, want = check.partition("=")
                got = (condition(node, ctype) or {}).get("status")
                if got != want:
                    raise ScenarioError(f"node {args[1]} has {ctype}={got}, not {want}")
        elif what == "replicaset":
            rs = self._get({"verb": "get", "group": "apps", "resource": "replicasets", "namespace": "default",
                            "name": args[1]})
            kv, _ = _kv(args[2:])
            names = {"ready": "readyReplicas", "replicas": "replicas", "available": "availableReplicas"}
            for k, v in kv.items():
                got = rs["status"].get(names[k], 0)
                if got != int(v):
                    raise ScenarioError(f"replicaset {args[1]} has {k}={got}, not {v}")
        elif what == "daemonset":
            ds = self._get({"verb": "get", "group": "apps", "resource": "daemonsets", "namespace": "default",
                            "name": args[1]})
            kv, _ = _kv(args[2:])
            names = {"desired": "desiredNumberScheduled", "current": "currentNumberScheduled",
                     "ready": "numberReady", "updated": "updatedNumberScheduled", "available": "numberAvailable",
                     "misscheduled": "numberMisscheduled"}
            for k, v in kv.items():
                got = ds["status"].get(names[k], 0)
                if got != int(v):
                    raise ScenarioError(f"daemonset {args[1]} has {k}={got}, not {v}")
        elif what == "pods":
            kv, flags = _kv(args[1:])
            selector = args[1]
            kv.pop(selector.partition("=")[0], None)
            items = self._get({"verb": "list", "resource": "pods", "namespace": "default",
                               "query": {"labelSelector": selector}})["items"]
            if "phase" in kv:
                items = [p for p in items if p["status"].get("phase") == kv["phase"]]
            if "node" in kv:
                items = [p for p in items if p["spec"].get("nodeName") == kv["node"]]
            if "not-node" in kv:
                items = [p for p in items if p["spec"].get("nodeName") != kv["not-node"]]
            if "node-label" in kv:
                key, _, value = kv["node-label"].partition("=")
                nodes = self._get({"verb": "list", "resource": "nodes"})["items"]
                on = {n["metadata"]["name"] for n in nodes if (n["metadata"].get("labels") or {}).get(key) == value}
                items = [p for p in items if p["spec"].get("nodeName") in on]
            if "terminating" in flags:
                items = [p for p in items if p["metadata"].get("deletionTimestamp")]
            if "active" in flags:
                items = [p for p in items if not p["metadata"].get("deletionTimestamp")]
            if "ready" in flags:
                items = [p for p in items if (condition(p, "Ready") or {}).get("status") == "True"]
            if "count" in kv and len(items) != int(kv["count"]):
                desc = [(p["metadata"]["name"], p["status"].get("phase"), p["spec"].get("nodeName")) for p in items]
                raise ScenarioError(f"{len(items)} pods match, not {kv['count']}: {desc}")
        elif what == "endpointslices":
            # expect endpointslices <selector> [ready=N] [not-ready=N] [count=N]: the endpoints of
            # every slice the selector matches (kubernetes.io/service-name=web: the Service's); an
            # endpoint whose `ready` is unset counts as ready, as its consumers read it.
            kv, _ = _kv(args[2:])
            items = self._get({"verb": "list", "group": "discovery.k8s.io", "resource": "endpointslices",
                               "namespace": "default", "query": {"labelSelector": args[1]}})["items"]
            eps = [ep for sl in items for ep in sl.get("endpoints") or []]
            ready = sum(1 for ep in eps if (ep.get("conditions") or {}).get("ready") is not False)
            got = {"ready": ready, "not-ready": len(eps) - ready, "count": len(eps)}
            for k, v in kv.items():
                if k not in got:
                    raise ScenarioError(f"endpointslices: {k!r}: use ready=, not-ready= or count=")
                if got[k] != int(v):
                    names = [((ep.get("targetRef") or {}).get("name"), (ep.get("conditions") or {}).get("ready"))
                             for ep in eps]
                    raise ScenarioError(f"endpointslices {args[1]}: {k}={got[k]}, not {v}: {names}")
        elif what == "etcd":
            leader = self._leader()
            check = args[1]
            if check == "new-leader":
                old = self.remembered
                if leader is None:
                    raise ScenarioError("no etcd leader")
                if old is None:
                    raise ScenarioError("no earlier leader to compare with: `expect etcd leader` or "
                                        "`kill-member leader` names one")
                if old and (leader["name"] == old["name"] or leader["term"] <= old["term"]):
                    raise ScenarioError(f"leader {leader['name']} (term {leader['term']}) is not new after "
                                        f"{old['name']} (term {old['term']})")
                self.remembered = leader
            elif check == "leader":
                if leader is None:
                    raise ScenarioError("no etcd leader")
                self.remembered = leader   # the leader a later `new-leader` compares with
            elif check == "no-leader" and leader is not None:
                raise ScenarioError(f"{leader['name']} leads (term {leader['term']})")
            elif check == "stepped-down":
                me = next(m for m in self._ensure().etcd_status() if m["name"] == self.remembered["name"])
                if me["role"] == "leader":
                    raise ScenarioError(f"{me['name']} still thinks it leads (term {me['term']})")
        elif what == "write":
            self.writes += 1
            resp = self._ensure().request({"verb": "create", "resource": "pods", "namespace": "default",
                                           "body": pod_manifest(f"write-{self.writes}", "nginx")})
            if args[1] == "succeeds" and resp["code"] >= 400:
                raise ScenarioError(f"the write failed: {resp['code']} {resp['body'].get('message')}")
            if args[1] == "fails" and resp["code"] < 400:
                raise ScenarioError("the write succeeded")
        elif what == "event":
            reason, message = args[1], " ".join(args[2:])
            items = self._get({"verb": "list", "resource": "events", "namespace": "default"})["items"]
            if not any(e.get("reason") == reason and (not message or e.get("message") == message) for e in items):
                seen = sorted({(e.get("reason"), e.get("message")) for e in items if e.get("reason") == reason})
                raise ScenarioError(f"no event {reason} {message!r}; seen: {seen}")
        else:
            raise ScenarioError(f"cannot expect {what!r}")


    def expect_fields(self, kind: str, ref: str, checks: list[str]) -> None:
        """expect <kind> [<ns>/]<name> .a.b[0].c=v .x>=2 ...: each field of the object, found by
        its path (list items by index), compared as a number when the wanted value is one (a
        missing count is 0, as the API omits zero counts) and as text otherwise.  A `ref` that is
        a field selector ([<ns>/]spec.signerName=x, as --field-selector takes it) names the
        objects it selects, of which one must pass every check (a name the file cannot know: a
        kubelet's node-csr-<digest>)."""
        res = self._kind(kind)
        head, slash, tail = ref.partition("/")
        if "=" in (head if slash else ref):
            objs = self._get({"verb": "list", "group": res.group, "resource": res.name,
                              "namespace": "default" if res.namespaced else None,
                              "query": {"fieldSelector": ref}})["items"]
        elif slash and "=" in tail and res.namespaced:
            objs = self._get({"verb": "list", "group": res.group, "resource": res.name, "namespace": head,
                              "query": {"fieldSelector": tail}})["items"]
        else:
            ns, name = self._ns_name(ref)
            objs = [self._get({"verb": "get", "group": res.group, "resource": res.name,
                               "namespace": ns if res.namespaced else None, "name": name})]
        if not objs:
            raise ScenarioError(f"no {res.kind} matches {ref}")
        failure = ""
        for obj in objs:
            failure = self._field_failure(res, obj, checks)
            if not failure:
                return
        raise ScenarioError(failure)

    @staticmethod
    def _field_failure(res, obj: dict, checks: list[str]) -> str:
        name = obj["metadata"].get("name")
        for check in checks:
            path, op, want = _split_check(check)
            got = _field(obj, path)
            if not _compare(got, op, want):
                return f"{res.kind} {name} has {path}={got if got is not None else '<none>'}, not {op}{want}"
        return ""

    def expect_traffic(self, args: list[str]) -> None:
        """expect traffic from=<source> to=<destination> [count=N] [port=P] <verdict>=N ...: N
        requests sent through the packet path (sim/traffic.py), so many with each verdict."""
        kv, _ = _kv(args)
        body = {k: kv[k] for k in ("from", "to") if k in kv}
        # from="pods app=frontend": a Deployment's pods have names a lesson cannot know; the
        # first running one the selector matches (by name) sends.
        if body.get("from", "").startswith("pods "):
            selector = body["from"][len("pods "):].strip()
            items = self._get({"verb": "list", "resource": "pods", "namespace": "default",
                               "query": {"labelSelector": selector}})["items"]
            running = sorted(p["metadata"]["name"] for p in items if p["status"].get("phase") == "Running"
                             and p["status"].get("podIP") and not p["metadata"].get("deletionTimestamp"))
            if not running:
                raise ScenarioError(f"no running pod matches {selector}")
            body["from"] = f"pod default/{running[0]}"
        # A lesson cannot know addresses ahead: pod:<ns>/<name>[:port] is the pod's IP,
        # node:<name>[:port] the node's InternalIP (a NodePort from outside).
        kind, sep, rest = body.get("to", "").partition(":")
        if sep and kind in ("pod", "node"):
            ref, _, port = rest.partition(":")
            if kind == "pod":
                ns, name = self._ns_name(ref)
                ip = self._get({"verb": "get", "resource": "pods", "namespace": ns, "name": name})["status"].get("podIP")
            else:
                node = self._get({"verb": "get", "resource": "nodes", "name": ref})
                ip = next((a["address"] for a in node["status"].get("addresses") or []
                           if a.get("type") == "InternalIP"), None)
            if not ip:
                raise ScenarioError(f"{kind} {ref} has no IP yet")
            body["to"] = f"{ip}:{port}" if port else ip
        for k in ("count", "port"):
            if k in kv:
                body[k] = int(kv[k]) if kv[k].isdigit() else kv[k]
        result = self._cluster_call(lambda: self._ensure().send_traffic(body))
        verdicts = result["summary"]["verdicts"]
        for k, v in kv.items():
            if k in ("from", "to", "count", "port"):
                continue
            if k == "endpoints":
                # How many endpoints answered: kube-proxy's random pick spreading the requests.
                answered = {e["endpoint"]: e["count"] for e in result["summary"]["endpoints"]}
                if len(answered) != int(v):
                    raise ScenarioError(f"traffic from {kv.get('from')} to {kv.get('to')}: answered by "
                                        f"{len(answered)} endpoints {answered}, not {v}")
                continue
            if verdicts.get(k, 0) != int(v):
                raise ScenarioError(f"traffic from {kv.get('from')} to {kv.get('to')}: {verdicts}, not {k}={v}")


_OPS = (">=", "<=", "!=", "=", ">", "<")


def _split_check(check: str) -> tuple[str, str, str]:
    for op in _OPS:
        path, sep, want = check.partition(op)
        if sep and "=" not in path and "<" not in path and ">" not in path and "!" not in path:
            return path, op, want
    raise ScenarioError(f"{check!r}: use .path=value (or !=, >=, <=, >, <)")


def _field(obj, path: str):
    """The value at `.a.b[0].c` in obj, or None."""
    import re
    cur = obj
    for name, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path):
        if name:
            cur = cur.get(name) if isinstance(cur, dict) else None
        else:
            cur = cur[int(index)] if isinstance(cur, list) and int(index) < len(cur) else None
        if cur is None:
            return None
    return cur


def _compare(got, op: str, want: str) -> bool:
    try:
        number = float(want)
    except ValueError:
        number = None
    if number is not None and not isinstance(got, (dict, list)):
        try:
            value = float(got) if got is not None else 0.0
        except (TypeError, ValueError):
            return op == "!="
        return {"=": value == number, "!=": value != number, ">=": value >= number, "<=": value <= number,
                ">": value > number, "<": value < number}[op]
    text = "" if got is None else (str(got).lower() if isinstance(got, bool) else str(got))
    if op in ("=", "!="):
        return (text == want) == (op == "=")
    raise ScenarioError(f"{op} compares numbers, not {want!r}")


def run_scenario(text: str, base_dir: Path | None = None) -> tuple[Cluster, list[str]]:
    s = Scenario(base_dir=base_dir)
    cluster = s.run(text)
    return cluster, s.transcript

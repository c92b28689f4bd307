"""The kubelet's prober (pkg/kubelet/prober): startup, readiness and liveness probes of each
running container, by exec (CRI ExecSync in the container), httpGet (a GET to the pod's IP and
port: 200-399 succeed), tcpSocket (a connection) or grpc (grpc.health.v1 Check), with upstream's timing fields and
defaults: initialDelaySeconds 0, periodSeconds 10, timeoutSeconds 1, successThreshold 1,
failureThreshold 3.

A startup probe holds the other two back until it succeeds (`started` becomes true).  A
readiness probe's result is the container's `ready` (and the pod's Ready condition); until its
first success the container is not ready.  A liveness (or startup) probe that fails
failureThreshold times in a row gets the container killed - `Killing` "Container x failed
liveness probe, will be restarted" - and restartPolicy restarts it.  Every failure is an
`Unhealthy` event worded as upstream's ("Liveness probe failed: HTTP probe failed with
statuscode: 500").

Dormant probes.  A probe that has settled (its last answers succeeded and the container's
`started` / `ready` already say so) and whose next answer cannot differ - a TCP connection to a
running listener, or a GET of a path whose status the program says never changes
(Program.http_steady), with no fault injected - would only succeed again and again, changing
nothing: upstream's worker would run it every period to no effect.  Such a worker stops
scheduling itself and is kept with the time its next probe was due; it is counted as if it ran
(probes_run, the success count).  It wakes, re-armed at its own next due time, when the node's
faults of that pod change (runtime.on_faults_changed) or the kubelet reports the pod's status
(any container of the pod started, stopped or was killed, or the pod began terminating:
post_status), and on kubelet restart it is gone with the rest of the kubelet's state.  So a
large cluster at rest costs nothing per probe, and every answer that could differ is still
asked for at the moment upstream would ask.
"""
from __future__ import annotations

import math

from sim.kubelet.podstatus import ContainerRecord

PROBE_DEFAULTS = {"initialDelaySeconds": 0, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1,
                  "failureThreshold": 3}
KINDS = ("startup", "readiness", "liveness")
# A connection to a pod on the kubelet's own node answers within this: taken as immediate.
POD_NETWORK_RTT = 0.01


def _field(probe: dict, name: str) -> int:
    value = probe.get(name)
    return int(value) if isinstance(value, int) and value > 0 or (name == "initialDelaySeconds" and value == 0) \
        else PROBE_DEFAULTS[name]


class Prober:
    """Mixed into Kubelet: needs self.cri, self.api, self.call_later, self.now, self._ref and
    the pod workers' post_status / kill_container."""

    # Probes run since the kubelet started (upstream's prober_probe_total counter, summed over
    # results), dormant ones excepted: see probes_run.
    _probes_ran = 0
    # Settled probes go dormant (the module's docstring); tests turn it off to compare.
    dormant_enabled = True

    def init_probes(self) -> None:
        # pod uid -> the dormant probe workers of its containers (the module's docstring).
        self.dormant_probes: dict[str, list[DormantProbe]] = {}

    @property
    def probes_run(self) -> int:
        """Probes run since the kubelet started, dormant ones counted as if they ran
        (bench/kubelet.py reads it)."""
        return self._probes_ran + sum(d.due_before(self.now, inclusive=True)
                                      for ds in self.dormant_probes.values() for d in ds)

    def wake_probes(self, pod_uid: str) -> None:
        """Re-arm the pod's dormant probe workers: each runs again at its own next due time,
        the probes due before now counted as the successes they would have been."""
        dormant = self.dormant_probes.pop(pod_uid, None) if self.running else None
        for d in dormant or ():
            ran = d.due_before(self.now)
            self._probes_ran += ran
            d.rec.extra["probes"][d.kind]["successes"] += ran
            due = d.since + ran * d.period
            self.call_later(due - self.now, lambda d=d: self._probe(d.w, d.spec, d.rec, d.token, d.kind, d.probe))

    def stop_probes(self) -> None:
        """The kubelet stops: its dormant workers stop with it, having run those due until now."""
        for ds in self.dormant_probes.values():
            self._probes_ran += sum(d.due_before(self.now) for d in ds)
        self.dormant_probes = {}

    def start_probes(self, w: dict, spec: dict, rec: ContainerRecord) -> None:
        probes = {kind: spec[f"{kind}Probe"] for kind in KINDS if isinstance(spec.get(f"{kind}Probe"), dict)}
        rec.extra["probes"] = {kind: {"successes": 0, "failures": 0} for kind in probes}
        # Each probe's timing fields with their defaults, read once (probes run every few seconds).
        rec.extra["probe_fields"] = {kind: {name: _field(probe, name) for name in PROBE_DEFAULTS}
                                     for kind, probe in probes.items()}
        rec.extra["started"] = "startup" not in probes
        rec.extra["ready"] = "readiness" not in probes
        token = rec.container_id
        for kind, probe in probes.items():
            self.call_later(max(rec.extra["probe_fields"][kind]["initialDelaySeconds"], 0.001),
                            lambda kind=kind, probe=probe: self._probe(w, spec, rec, token, kind, probe))

    def _probe(self, w: dict, spec: dict, rec: ContainerRecord, token: str | None, kind: str, probe: dict) -> None:
        if rec.container_id != token or rec.state != "running" or w["state"] != "running":
            return  # the container this worker probed is gone
        fields = rec.extra["probe_fields"][kind]
        period = fields["periodSeconds"]
        if self.dormant_enabled and kind != "startup" and rec.extra["started"] and self._settled(w, spec, rec, kind, probe, fields):
            # Its answer is known (the module's docstring): it succeeds, and stops asking.
            self._probes_ran += 1
            rec.extra["probes"][kind]["successes"] += 1
            self.dormant_probes.setdefault(w["uid"], []).append(
                DormantProbe(w, spec, rec, token, kind, probe, self.now + period, period))
            return
        self.call_later(period, lambda: self._probe(w, spec, rec, token, kind, probe))
        if kind != "startup" and not rec.extra.get("started"):
            return  # the startup probe has not succeeded yet
        if kind == "startup" and rec.extra.get("started"):
            return  # a startup probe stops once it succeeded
        self._probes_ran += 1
        self._run_probe(w, spec, rec, kind, probe, lambda ok, output: self._probed(w, spec, rec, token, kind, probe, ok, output))

    def _settled(self, w: dict, spec: dict, rec: ContainerRecord, kind: str, probe: dict, fields: dict) -> bool:
        """Whether this probe's last answers succeeded, what they say is already the
        container's state, and its next answer cannot differ (the module's docstring)."""
        counts = rec.extra["probes"][kind]
        if counts["failures"] or counts["successes"] < fields["successThreshold"]:
            return False
        if kind == "readiness" and not rec.extra["ready"]:
            return False
        runtime = self.node_runtime
        if runtime is None:
            return False
        http, tcp = probe.get("httpGet"), probe.get("tcpSocket")
        target = http if isinstance(http, dict) else tcp if isinstance(tcp, dict) else None
        if target is None or isinstance(probe.get("exec"), dict) or isinstance(probe.get("grpc"), dict):
            return False
        port = self._resolve_port(spec, target.get("port"))
        if port is None:
            return False
        return runtime.pod_network_answer_steady({"type": "probe.http" if target is http else "probe.tcp",
                                                  "pod_uid": w["uid"], "port": port, "path": target.get("path") or "/"})

    def _run_probe(self, w: dict, spec: dict, rec: ContainerRecord, kind: str, probe: dict, done) -> None:
        timeout = rec.extra["probe_fields"][kind]["timeoutSeconds"]
        if isinstance(probe.get("exec"), dict):
            command = [str(c) for c in probe["exec"].get("command") or []]

            def executed(r: dict) -> None:
                if r.get("timed_out"):
                    # remote_runtime.go ExecSync: a DeadlineExceeded is exec.NewTimeoutError(
                    # fmt.Errorf("command %q timed out", strings.Join(cmd, " "))), its text the output.
                    return done(False, f'command "{" ".join(command)}" timed out')
                if r.get("error"):
                    return done(False, r["error"])
                done(r.get("exit_code") == 0, (r.get("output") or "").strip())
            return self.cri("cri.ExecSync", {"container_id": rec.container_id, "cmd": command, "timeout": timeout,
                                             "probe": kind},
                            executed)
        target = probe.get("httpGet") or probe.get("tcpSocket") or probe.get("grpc")
        if not isinstance(target, dict):
            return done(True, "")
        port = self._resolve_port(spec, target.get("port"))
        if port is None:
            return done(False, f"unknown port {target.get('port')!r}")
        if isinstance(probe.get("httpGet"), dict):
            path = target.get("path") or "/"

            def got(r: dict) -> None:
                if r.get("error"):
                    return done(False, r["error"])
                status = int(r.get("status", 0))
                if 200 <= status < 400:
                    return done(True, "")
                done(False, f"HTTP probe failed with statuscode: {status}")
            return self.connect_to_pod("probe.http", {"pod_uid": w["uid"], "port": port, "path": path, "probe": kind,
                                            "timeout": timeout}, got)
        if isinstance(probe.get("grpc"), dict):
            def checked(r: dict) -> None:
                if r.get("error"):
                    return done(False, r["error"])
                if r.get("status") != "SERVING":
                    return done(False, f'service unhealthy (responded with "{r.get("status")}")')
                done(True, "service is serving")
            return self.connect_to_pod("probe.grpc", {"pod_uid": w["uid"], "port": port, "service": target.get("service") or "",
                                            "probe": kind, "timeout": timeout}, checked)
        self.connect_to_pod("probe.tcp", {"pod_uid": w["uid"], "port": port, "probe": kind, "timeout": timeout},
                 lambda r: done(not r.get("error"), r.get("error", "")))

    def connect_to_pod(self, kind: str, body: dict, callback) -> None:
        """An httpGet, tcpSocket or grpc probe is the kubelet's own connection to the pod's IP
        (pkg/probe/http, tcp, grpc), not a CRI call: the node's runtime only holds the pod's
        network namespace, where the program listening on the port answers.  The answer comes
        back within the node at once, or after the probe's timeout when nothing answers."""
        runtime = self.node_runtime
        if runtime is None:
            return callback({"error": "the pod's network is not ready"})
        delay, reply = runtime.pod_network_call({"type": kind, **body})
        if delay < POD_NETWORK_RTT:
            callback(reply)
        else:
            self.call_later(delay, lambda: callback(reply))

    @staticmethod
    def _resolve_port(spec: dict, port) -> int | None:
        if isinstance(port, int):
            return port
        if isinstance(port, str):
            if port.isdigit():
                return int(port)
            for p in spec.get("ports") or []:
                if isinstance(p, dict) and p.get("name") == port:
                    return p.get("containerPort")
        return None

    def _probed(self, w: dict, spec: dict, rec: ContainerRecord, token, kind: str, probe: dict,
                ok: bool, output: str) -> None:
        if rec.container_id != token or rec.state != "running":
            return
        counts = rec.extra["probes"][kind]
        pod = w["pod"]
        if ok:
            counts["successes"] += 1
            counts["failures"] = 0
            if counts["successes"] < rec.extra["probe_fields"][kind]["successThreshold"]:
                return
            if kind == "startup" and not rec.extra["started"]:
                rec.extra["started"] = True
                self.post_status(w)
            elif kind == "readiness" and not rec.extra["ready"]:
                rec.extra["ready"] = True
                self.post_status(w)
            return
        counts["failures"] += 1
        counts["successes"] = 0
        ref = self._ref(pod, f"spec.containers{{{rec.name}}}")
        self.api.event(ref, "Unhealthy", f"{kind.capitalize()} probe failed: {output}", "kubelet", self.host,
                       type_="Warning")
        if counts["failures"] < rec.extra["probe_fields"][kind]["failureThreshold"]:
            return
        if kind == "readiness":
            if rec.extra["ready"]:
                rec.extra["ready"] = False
                self.post_status(w)
            return
        counts["failures"] = 0
        self.api.event(ref, "Killing", f"Container {rec.name} failed {kind} probe, will be restarted",
                       "kubelet", self.host)
        grace = probe.get("terminationGracePeriodSeconds")
        if not isinstance(grace, int):
            grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
        self.kill_container(w, rec, grace)


class DormantProbe:
    """A probe worker that stopped asking (the module's docstring): its next probe was due at
    `since`, and one every `period` after."""
    __slots__ = ("w", "spec", "rec", "token", "kind", "probe", "since", "period")

    def __init__(self, w, spec, rec, token, kind, probe, since: float, period: float):
        self.w, self.spec, self.rec, self.token, self.kind, self.probe = w, spec, rec, token, kind, probe
        self.since, self.period = since, period

    def due_before(self, now: float, inclusive: bool = False) -> int:
        """How many of its probes were due before `now` (or at it, `inclusive`)."""
        if now < self.since or (now == self.since and not inclusive):
            return 0
        n = math.floor((now - self.since) / self.period)
        if not inclusive and self.since + n * self.period >= now:
            return n
        return n + 1

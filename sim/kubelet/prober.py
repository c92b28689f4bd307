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
"""
from __future__ import annotations

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
    # results); bench/kubelet.py reads it.
    probes_run = 0

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
        period = rec.extra["probe_fields"][kind]["periodSeconds"]
        self.call_later(period, lambda: self._probe(w, spec, rec, token, kind, probe))
        if kind != "startup" and not rec.extra.get("started"):
            return  # the startup probe has not succeeded yet
        if kind == "startup" and rec.extra.get("started"):
            return  # a startup probe stops once it succeeded
        self.probes_run += 1
        self._run_probe(w, spec, rec, kind, probe, lambda ok, output: self._probed(w, spec, rec, token, kind, probe, ok, output))

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

"""Container lifecycle hooks (pkg/kubelet/lifecycle/handlers.go): postStart runs right after the
container starts - the container is not Running until it returns, and a failed hook
(FailedPostStartHook) kills the container, which restartPolicy then restarts; preStop runs
before the container is sent SIGTERM, within the termination grace period (a failure is a
FailedPreStopHook event, and the stop goes on).  A handler is exec (a command in the
container), httpGet (to the pod's IP) or sleep (KEP-3960)."""
from __future__ import annotations

from typing import Callable

from sim.kubelet.podstatus import ContainerRecord

HOOK_EXEC_TIMEOUT = 120.0


def run_handler(kubelet, w: dict, spec: dict, rec: ContainerRecord, handler: dict,
                done: Callable[[bool, str], None], timeout: float = HOOK_EXEC_TIMEOUT) -> None:
    """Run one handler; done(ok, message)."""
    if isinstance(handler.get("exec"), dict):
        command = [str(c) for c in handler["exec"].get("command") or []]

        def executed(r: dict) -> None:
            if r.get("timed_out"):
                return done(False, "command timed out")
            if r.get("error"):
                return done(False, r["error"])
            code = r.get("exit_code", 0)
            out = (r.get("output") or "").strip()
            done(code == 0, f"command '{' '.join(command)}' exited with {code}: {out}")
        return kubelet.cri("cri.ExecSync", {"container_id": rec.container_id, "cmd": command, "timeout": timeout},
                           executed)
    if isinstance(handler.get("httpGet"), dict):
        target = handler["httpGet"]
        port = kubelet._resolve_port(spec, target.get("port"))

        def got(r: dict) -> None:
            if r.get("error"):
                return done(False, r["error"])
            status = int(r.get("status", 0))
            done(200 <= status < 400, f"HTTP lifecycle hook ({target.get('path') or '/'}) for Container "
                                      f'"{rec.name}" in Pod "{w["pod"]["metadata"]["name"]}" failed - error: '
                                      f"status code {status}")
        return kubelet.connect_to_pod("probe.http", {"pod_uid": w["uid"], "port": port, "path": target.get("path") or "/"}, got)
    if isinstance(handler.get("sleep"), dict):
        seconds = handler["sleep"].get("seconds", 0)
        seconds = seconds if isinstance(seconds, (int, float)) and seconds > 0 else 0
        return kubelet.call_later(min(float(seconds), timeout), lambda: done(True, ""))
    done(True, "")

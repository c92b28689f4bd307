"""The kubelet's /exec (pkg/kubelet/server, cri streaming): run a command in a running
container and answer its exit code and output.  Non-interactive: the command runs to its end
against the container's files and environment (its sleeps take no time of the cluster's),
bounded by EXEC_TIMEOUT_SECONDS of its own virtual time."""
from __future__ import annotations

from sim.api import status as st

EXEC_TIMEOUT_SECONDS = 60.0


def exec_in_container(kubelet, msg: dict, answer) -> None:
    """answer({"code": 200, "exit_code", "stdout", "stderr"} or {"code", "body": Status})."""
    w = kubelet.worker_for(msg.get("uid"))
    name = msg.get("container", "")
    rec = (w["containers"].get(name) or w["init"].get(name)) if w is not None else None
    if rec is None or rec.state != "running" or not rec.container_id:
        return answer({"code": 400, "body": st.bad_request(f'container not found ("{name}")')})
    command = [str(a) for a in msg.get("command") or []]

    def done(r: dict) -> None:
        if r.get("error"):
            return answer({"code": 200, "exit_code": 126, "stdout": "", "stderr": r.get("output") or r["error"]})
        if r.get("timed_out"):
            return answer({"code": 200, "exit_code": 137, "stdout": r.get("stdout", ""),
                           "stderr": r.get("stderr", "") + "command timed out\n"})
        answer({"code": 200, "exit_code": r.get("exit_code", 0), "stdout": r.get("stdout", ""),
                "stderr": r.get("stderr", "")})

    kubelet.cri("cri.ExecSync", {"container_id": rec.container_id, "cmd": command, "timeout": EXEC_TIMEOUT_SECONDS},
                done)

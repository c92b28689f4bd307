"""The kubelet's /exec and /attach (pkg/kubelet/server, cri streaming).

Without stdin and terminal an exec runs to its end (CRI ExecSync) against the container's
files and environment (its sleeps take no time of the cluster's), bounded by
EXEC_TIMEOUT_SECONDS of its own virtual time, and the answer is its exit code and output.
With `-i` or `-t`, and for an attach, the runtime opens a session on its streaming server
(CRI Exec / Attach: sim/kubelet/streaming.py) and the answer is its token."""
from __future__ import annotations

from sim.api import status as st

EXEC_TIMEOUT_SECONDS = 60.0


def exec_in_container(kubelet, msg: dict, answer) -> None:
    """answer({"code": 200, "exit_code", "stdout", "stderr"} or {"code", "body": Status})."""
    rec = _running(kubelet, msg)
    if rec is None:
        return answer({"code": 400, "body": st.bad_request(f'container not found ("{msg.get("container", "")}")')})
    command = [str(a) for a in msg.get("command") or []]
    if msg.get("stream"):
        return open_stream(kubelet, rec, {"type": "cri.Exec", "cmd": command, "stdin": bool(msg.get("stdin")),
                                          "tty": bool(msg.get("tty"))}, answer)

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


def attach_to_container(kubelet, msg: dict, answer) -> None:
    """/attach: the container's main process, stdin only if its spec has `stdin: true`."""
    rec = _running(kubelet, msg)
    if rec is None:
        return answer({"code": 400, "body": st.bad_request(f'container not found ("{msg.get("container", "")}")')})
    open_stream(kubelet, rec, {"type": "cri.Attach", "stdin": bool(msg.get("stdin"))}, answer)


def _running(kubelet, msg: dict):
    w = kubelet.worker_for(msg.get("uid"))  # a mirror pod's: its static pod's (staticpods.py)
    name = msg.get("container", "")
    rec = (w["containers"].get(name) or w["init"].get(name) or (w.get("ephemeral") or {}).get(name)) \
        if w is not None else None
    return rec if rec is not None and rec.state == "running" and rec.container_id else None


def open_stream(kubelet, rec, call: dict, answer) -> None:
    def done(r: dict) -> None:
        if r.get("error"):
            return answer({"code": 500, "body": st.internal(
                f"error executing command in container: failed to exec in container: {r['error']}")})
        answer({"code": 200, "token": r["token"], "tty": r.get("tty", call.get("tty", False))})

    op = call.pop("type")
    kubelet.cri(op, {"container_id": rec.container_id, **call}, done)

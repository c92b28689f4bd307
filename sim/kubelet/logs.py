"""The kubelet's /containerLogs (pkg/kubelet/server, kuberuntime/logs): a container's log as
the runtime wrote it (the CRI log file: each line with its time and stream), filtered by the
PodLogOptions the apiserver passed on: previous (the last terminated instance), sinceSeconds /
sinceTime, tailLines, limitBytes, timestamps.
"""
from __future__ import annotations

from sim.api import meta
from sim.api import status as st


def _bad(message: str) -> dict:
    return {"code": 400, "body": st.bad_request(message)}


def _log_container_id(rec, name: str, pod: str, previous: bool) -> str | dict:
    """validateContainerLogStatus (pkg/kubelet/kubelet_pods.go): whose log a request reads.  A
    crash-looping container, waiting to restart, shows the log of its last run."""
    last = (rec.last_terminated or {}).get("containerID", "").partition("://")[2]
    if previous:
        return last or _bad(f'previous terminated container "{name}" in pod "{pod}" not found')
    if rec.state in ("running", "terminated") and rec.container_id:
        return rec.container_id
    if rec.state == "terminated" or last:
        return last or _bad(f'container "{name}" in pod "{pod}" is terminated')
    reason = rec.reason or "ContainerCreating"
    reason = {"ErrImagePull": "image can't be pulled",
              "ImagePullBackOff": "trying and failing to pull image"}.get(reason, reason)
    return _bad(f'container "{name}" in pod "{pod}" is waiting to start: {reason}')


def container_logs(kubelet, runtime, msg: dict) -> dict:
    """{"code": 200, "text"} or {"code", "body": Status}."""
    pod, name = msg.get("pod", ""), msg.get("container", "")
    w = kubelet.worker_for(msg.get("uid"))
    rec = (w["containers"].get(name) or w["init"].get(name) or (w.get("ephemeral") or {}).get(name)) \
        if w is not None else None
    if rec is None:
        return {"code": 404, "body": st.not_found("pods", pod)}
    container_id = _log_container_id(rec, name, pod, bool(msg.get("previous")))
    if isinstance(container_id, dict):
        return container_id
    container = runtime.container(container_id)
    if container is None:
        return _bad(f'container "{name}" in pod "{pod}" is terminated')
    entries = list(container.log)
    first = container.log_total - len(entries)
    after = msg.get("after")
    if after is not None:
        # A follower's next read (kubectl logs -f): the lines written since its last one.
        entries = entries[max(0, int(after) - first):]
    since = msg.get("sinceTime")
    if msg.get("sinceSeconds"):
        since = kubelet.now + kubelet.kernel.epoch_offset - msg["sinceSeconds"]
    if since is not None:
        entries = [e for e in entries if e[0] >= since]
    if msg.get("tailLines") is not None:
        entries = entries[-msg["tailLines"]:] if msg["tailLines"] else []
    if msg.get("timestamps"):
        lines = [f"{meta.rfc3339_nano(at)} {line}\n" for at, _, line in entries]
    else:
        lines = [line + "\n" for _, _, line in entries]
    text = "".join(lines)
    if msg.get("limitBytes"):
        text = text.encode()[: msg["limitBytes"]].decode(errors="ignore")
    # "next": where a follower goes on from; "running": whether more may come.
    return {"code": 200, "text": text, "next": container.log_total, "running": container.state == "running"}

"""What the kubeadm engine tests share."""
from __future__ import annotations


def finish_kubeadm(c, host: str, limit: float = 200) -> dict:
    """Advance cluster `c` (half a second at a time, at most `limit` virtual seconds) until the
    last kubeadm run on `host` is no longer running; that run (kubeadm_status()'s record)."""
    deadline = c.now + limit
    while c.now < deadline:
        run = next(r for r in c.kubeadm_status()["runs"] if r["node"] == host)
        if run["state"] != "running":
            return run
        c.advance(0.5)
    raise AssertionError(f"kubeadm on {host} still running after {limit}s")

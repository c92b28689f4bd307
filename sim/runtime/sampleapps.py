"""The sample applications of the Kubernetes documentation and tutorials, as programs
(sim/runtime/programs.py): each listens on its port, answers HTTP as the real one does and logs
what the real one logs.

    hello-app      gcr.io/google-samples/hello-app (Go): "Hello, world!", its version, the pod's
                   hostname; logs "Serving request: /path"
    node           gcr.io/google-samples/node-hello's `node server.js`: "Hello World!"; logs
                   "Received request for URL: /path"
    echo-server    kicbase/echo-server (the hello-minikube tutorial): echoes the request
    podinfo        ghcr.io/stefanprodan/podinfo: its JSON greeting
    stress         polinux/stress and vish/stress, the docs' CPU and memory exercises: they log
                   what they start; what they demand is sim/runtime/cgroups.py's stress_demand
    fluentd        quay.io/fluentd_elasticsearch/fluentd, the DaemonSet example's log agent: it
                   logs its start-up as fluentd does and then runs until stopped (it ships no
                   logs anywhere: there is no Elasticsearch)
"""
from __future__ import annotations

import json
import time

from sim.runtime.programs import FOREVER, _strftime, register, steady_always
from sim.runtime.process import Program, ProcessContext, ProgramGen, Sleep, Write


def _serve_forever(ctx: ProcessContext, *lines: str) -> ProgramGen:
    for line in lines:
        yield Write(line + "\n")
    while True:
        yield Sleep(FOREVER)


def _port(ctx: ProcessContext, default: int) -> int:
    value = ctx.env.get("PORT", "")
    return int(value) if value.isdigit() and 0 < int(value) < 65536 else default


# -- hello-app (GoogleCloudPlatform/kubernetes-engine-samples quickstarts/hello-app/main.go) ----
def _hello_app(ctx: ProcessContext) -> ProgramGen:
    yield from _serve_forever(ctx, f"{_strftime(ctx, '%Y/%m/%d %H:%M:%S')} Server listening on port {_port(ctx, 8080)}")


def _hello_app_http(ctx: ProcessContext, path: str, elapsed: float) -> tuple[int, str]:
    version = (ctx.fs.read("/hello-app") or "1.0.0").rsplit(" ", 1)[-1]
    return 200, f"Hello, world!\nVersion: {version}\nHostname: {ctx.hostname}\n"


def _hello_app_log(ctx: ProcessContext, r) -> tuple[str, str]:
    # log.Printf("Serving request: %s", r.URL.Path): the standard logger, to stderr
    return "stderr", f"{time.strftime('%Y/%m/%d %H:%M:%S', time.gmtime(r.time))} Serving request: {r.target.split('?', 1)[0]}"


register(Program("hello-app", _hello_app, on_sigterm=2, ports=lambda ctx: frozenset({_port(ctx, 8080)}),
                 http=_hello_app_http, http_steady=steady_always, access_log=_hello_app_log))


# -- node-hello: `node server.js` -----------------------------------------------------------------
def _node(ctx: ProcessContext) -> ProgramGen:
    if ctx.argv[1:] != ["server.js"]:
        yield Write(f"node:internal/modules/cjs/loader:1228\n  throw err;\n  ^\n\nError: Cannot find module "
                    f"'/{ctx.argv[1] if len(ctx.argv) > 1 else ''}'\n", "stderr")
        return 1
    yield from _serve_forever(ctx)


register(Program("node", _node, ports=lambda ctx: frozenset({8080}),
                 http=lambda ctx, path, elapsed: (200, "Hello World!"), http_steady=steady_always,
                 access_log=lambda ctx, r: ("stdout", f"Received request for URL: {r.target}")))


# -- kicbase/echo-server --------------------------------------------------------------------------
def _echo_server(ctx: ProcessContext) -> ProgramGen:
    yield from _serve_forever(ctx, f"Echo server listening on port {_port(ctx, 8080)}.")


def _echo_http(ctx: ProcessContext, path: str, elapsed: float) -> tuple[int, str]:
    return 200, (f"Request served by {ctx.hostname}\n\nHTTP/1.1 GET {path}\n\n"
                 f"Host: {ctx.hostname}:{_port(ctx, 8080)}\nAccept: */*\nUser-Agent: curl/8.11.1\n")


register(Program("echo-server", _echo_server, on_sigterm=2, ports=lambda ctx: frozenset({_port(ctx, 8080)}),
                 http=_echo_http, http_steady=steady_always))


# -- podinfo ---------------------------------------------------------------------------------------
def _podinfo(ctx: ProcessContext) -> ProgramGen:
    stamp = _strftime(ctx, "%Y-%m-%dT%H:%M:%S.000Z")
    yield from _serve_forever(
        ctx,
        json.dumps({"level": "info", "ts": stamp, "msg": "Starting podinfo", "version": "6.7.1",
                    "revision": "", "port": "9898"}),
        json.dumps({"level": "info", "ts": stamp, "msg": "Starting HTTP Server.", "addr": ":9898"}))


def _podinfo_http(ctx: ProcessContext, path: str, elapsed: float) -> tuple[int, str]:
    route = path.split("?", 1)[0]
    if route in ("/healthz", "/readyz"):
        return 200, json.dumps({"status": "OK"}, indent=2) + "\n"
    if route not in ("/", "/api/info"):
        return 404, "404 page not found\n"
    return 200, json.dumps({"hostname": ctx.hostname, "version": "6.7.1", "revision": "",
                            "color": "#34577c", "logo": "https://raw.githubusercontent.com/stefanprodan/podinfo/gh-pages/cuddle_clap.gif",
                            "message": "greetings from podinfo v6.7.1", "goos": "linux", "goarch": "amd64",
                            "runtime": "go1.23.4", "num_goroutine": "8", "num_cpu": "2"}, indent=2) + "\n"


register(Program("podinfo", _podinfo, on_sigterm=0, ports=lambda ctx: frozenset({9898}), http=_podinfo_http,
                 http_steady=steady_always))


# -- polinux/stress and vish/stress ----------------------------------------------------------------
def _stress(ctx: ProcessContext) -> ProgramGen:
    from sim.runtime.cgroups import stress_demand
    cores, _ = stress_demand(ctx.argv)
    if any(a == "-logtostderr" or a.startswith("-cpus") or a.startswith("-mem-") for a in ctx.argv[1:]):
        # vish/stress (klog to stderr)
        stamp = _strftime(ctx, "%m%d %H:%M:%S.000000")
        total = next((ctx.argv[i + 1] for i, a in enumerate(ctx.argv[:-1]) if a == "-mem-total"), "0")
        lines = [f'I{stamp}       1 main.go:26] Allocating "{total}" memory, in "4Ki" chunks, with a 1ms sleep between allocations',
                 f'I{stamp}       1 main.go:29] Allocated "{total}" memory']
        lines += [f"I{stamp}       1 main.go:39] Spawning a thread to consume CPU"] * int(cores)
        for line in lines:
            yield Write(line + "\n", "stderr")
    else:
        vm = next((ctx.argv[i + 1] for i, a in enumerate(ctx.argv[:-1]) if a in ("--vm", "-m")), "0")
        yield Write(f"stress: info: [1] dispatching hogs: {int(cores)} cpu, 0 io, {vm} vm, 0 hdd\n", "stderr")
    while True:
        yield Sleep(FOREVER)


register(Program("stress", _stress))


# -- fluentd (the DaemonSet page's fluentd-elasticsearch example) ---------------------------------
FLUENTD_VERSION, FLUENTD_RUBY = "1.16.5", "3.1.6"


def _fluentd(ctx: ProcessContext) -> ProgramGen:
    stamp = _strftime(ctx, "%Y-%m-%d %H:%M:%S +0000")
    yield from _serve_forever(
        ctx,
        f"{stamp} [info]: init supervisor logger path=nil rotate_age=nil rotate_size=nil",
        f'{stamp} [info]: parsing config file is succeeded path="/etc/fluent/fluent.conf"',
        f"{stamp} [info]: gem 'fluentd' version '{FLUENTD_VERSION}'",
        f'{stamp} [info]: starting fluentd-{FLUENTD_VERSION} pid=1 ruby="{FLUENTD_RUBY}"',
        f'{stamp} [info]: spawn command to main:  cmdline=["/usr/local/bin/ruby", "-Eascii-8bit:ascii-8bit", '
        f'"/usr/local/bundle/bin/fluentd", "--under-supervisor"]',
        f"{stamp} [info]: #0 starting fluentd worker pid=16 ppid=1 worker=0",
        f"{stamp} [info]: #0 fluentd worker is now running worker=0")


register(Program("fluentd", _fluentd, on_sigterm=0))

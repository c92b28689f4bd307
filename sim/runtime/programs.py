"""The programs images run: what a container does once started, picked by its argv.

`program_for(argv, binaries)` finds the program argv[0] names among the image's executables
(sim/runtime/images.py lists them per image): a shell (sim/runtime/shell.py) and its utilities
in busybox, alpine and ubuntu; servers (nginx, httpd, redis, mysql, postgres) that log their
start-up as the real ones do and then run until stopped; `pause`; perl and python one-liners;
agnhost's common sub-commands.  An entrypoint script (`docker-entrypoint.sh`) runs what follows
it, as the official images' scripts `exec "$@"`.

A lesson adds its own with `register(Program(name, run, on_sigterm))`: `run(ctx)` is a
generator of sim.runtime.process system calls, and the image that contains it lists `name`
among its binaries (Registry.add in sim/runtime/images.py).
"""
from __future__ import annotations

import dataclasses
import posixpath
import re
import shlex
import time as _time
from typing import Callable

from sim.runtime import rootfs, shell
from sim.runtime.connection import httpd_access_log, nginx_access_log, python_http_server_log, redis_stream
from sim.runtime.process import NOT_FOUND_EXIT, Program, ProcessContext, ProgramGen, Read, Sleep, Write

# A server "runs until stopped": it sleeps this long at a time (a year), woken by signals.
FOREVER = 365 * 24 * 3600.0

PROGRAMS: dict[str, Program] = {}


def register(program: Program) -> Program:
    PROGRAMS[program.name] = program
    return program


def program_for(argv: list[str], binaries: frozenset[str] | set[str]) -> Program | None:
    """The program argv[0] runs in an image with these executables, or None: then the runtime
    fails the start as runc does (`exec: "x": executable file not found in $PATH`)."""
    if not argv:
        return None
    name = posixpath.basename(argv[0])
    if name not in binaries and argv[0] not in binaries:
        return None
    program = PROGRAMS.get(name) or PROGRAMS.get(argv[0])
    if name in SHELLS and len(argv) == 3 and argv[1] == "-c":
        execed = _exec_of_one_command(argv[2], binaries)
        if execed is not None:
            return execed
    if name in ENTRYPOINT_SCRIPTS and len(argv) > 1:
        # The script execs what follows it: the container listens, answers and stops as that
        # program does (its context's argv becomes the rest once the script ran).
        inner = PROGRAMS.get(posixpath.basename(argv[1]))
        if inner is not None and program is not None:
            return dataclasses.replace(inner, name=program.name, run=program.run)
    return program


SHELLS = ("sh", "ash", "bash", "dash")
# A script that is one simple command: words without shell syntax.
_ONE_SIMPLE_COMMAND = re.compile(r"[^;&|<>$`(){}\[\]*?~#'\"\\\n=]+")


def _exec_of_one_command(script: str, binaries) -> Program | None:
    """`sh -c 'node server.js'`: dash, bash and busybox ash all exec a -c script's only simple
    command, so the program (a server the image holds, not a shell utility) is the container's
    process: it listens on its ports and answers HTTP as when run directly.  None otherwise."""
    if not _ONE_SIMPLE_COMMAND.fullmatch(script):
        return None
    words = script.split()
    inner = PROGRAMS.get(posixpath.basename(words[0])) if words else None
    if inner is None or posixpath.basename(words[0]) in shell.UTILITIES or inner.name in SHELLS \
            or posixpath.basename(words[0]) not in binaries:
        return None

    def run(ctx: ProcessContext) -> ProgramGen:
        ctx.argv = words   # the exec: what ports() and http() see from now on
        return (yield from inner.run(ctx))
    http = inner.http and (lambda ctx, path, elapsed: inner.http(dataclasses.replace(ctx, argv=words), path, elapsed))
    return dataclasses.replace(inner, run=run, ports=lambda ctx: inner.ports(dataclasses.replace(ctx, argv=words)),
                               http=http)


def _strftime(ctx: ProcessContext, fmt: str) -> str:
    return _time.strftime(fmt, _time.gmtime(ctx.clock()))


def _forever() -> ProgramGen:
    while True:
        yield Sleep(FOREVER)


def _ports(*ports: int) -> Callable[[ProcessContext], frozenset[int]]:
    fixed = frozenset(ports)
    return lambda ctx: fixed


NGINX_WELCOME = rootfs.NGINX_INDEX
# The error pages the servers write themselves (nginx's ngx_http_special_response.c; httpd's
# default 404 document).
NGINX_404 = ("<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1>"
             "</center>\r\n<hr><center>nginx/1.27.3</center>\r\n</body>\r\n</html>\r\n")
HTTPD_404 = ('<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>404 Not Found</title>\n'
             "</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n</body></html>\n")


def steady_index(path: str) -> bool:
    """A static site's index (/ or /index.html, with any query): always 200, since the server
    answers its built-in page when the file is gone (_static_site)."""
    return path.split("?", 1)[0] in ("/", "/index.html")


def steady_always(path: str) -> bool:
    return True


def _static_site(index: str, root: str = "/usr/share/nginx/html",
                 not_found: str = NGINX_404) -> Callable[[ProcessContext, str, float], tuple[int, str]]:
    """A web server's document root: / and /index.html answer `index`, a file the container
    holds under the root (a mounted volume) answers its content, anything else 404."""
    def http(ctx: ProcessContext, path: str, elapsed: float) -> tuple[int, str]:
        path = path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            return 200, ctx.fs.read(root + "/index.html") or index
        content = ctx.fs.read(root + path)
        if content is not None:
            return 200, content
        return 404, not_found
    return http


# -- shells and their utilities ---------------------------------------------------------
for _name in SHELLS:
    register(Program(_name, shell.shell_program))


def _utility(name: str, util: Callable) -> Program:
    def run(ctx: ProcessContext) -> ProgramGen:
        if ctx.stdin and name == "cat" and all(a == "-" for a in ctx.argv[1:]):
            return (yield from shell.copy_stdin())     # `kubectl exec -it web -- cat`: line by line
        if ctx.stdin and name in shell.STDIN_READERS and name not in ("sh", "ash", "bash", "dash"):
            # `kubectl exec -i web -- cat`, `... -- wc -l`: the utility reads its stdin to the end
            # of file (the client closing it, ^D on a terminal), then runs over what came.
            lines = []
            while (line := (yield Read())) is not None and sum(map(len, lines)) < shell.MAX_VALUE_CHARS:
                lines.append(line)
            return (yield from util(ctx, ctx.argv, stdin="".join(lines)))
        return (yield from util(ctx, ctx.argv))
    return Program(name, run)


for _name, _util in shell.UTILITIES.items():
    register(_utility(_name, _util))
# `sleep` is PID 1 in many examples: it installs no handler, so SIGTERM is ignored (137 at the
# grace period's end).  The utilities above inherit that (on_sigterm None).


# -- pause ------------------------------------------------------------------------------
def _pause(ctx: ProcessContext) -> ProgramGen:
    # registry.k8s.io/pause: sleeps until a signal; SIGINT/SIGTERM make it exit 0.
    yield from _forever()


register(Program("pause", _pause, on_sigterm=0))


# -- entrypoint scripts -------------------------------------------------------------------
def _entrypoint(ctx: ProcessContext) -> ProgramGen:
    """docker-entrypoint.sh: the official images' script, which ends with `exec "$@"`."""
    rest = ctx.argv[1:]
    if not rest:
        return 0
    prog = PROGRAMS.get(posixpath.basename(rest[0]))
    if prog is None:
        # The script's exec of a program the image lacks.
        yield Write(f"/docker-entrypoint.sh: line 47: exec: {rest[0]}: not found\n", "stderr")
        return NOT_FOUND_EXIT
    if posixpath.basename(rest[0]) == "nginx":
        for line in NGINX_ENTRYPOINT_LINES:
            yield Write(line + "\n")
    ctx.argv = rest
    return (yield from prog.run(ctx))


NGINX_ENTRYPOINT_LINES = (
    "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
    "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
    "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
    "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
    "/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
    "/docker-entrypoint.sh: Configuration complete; ready for start up",
)
# php's images (hpa-example among them) name theirs docker-php-entrypoint; it too ends in exec "$@".
ENTRYPOINT_SCRIPTS = ("docker-entrypoint.sh", "docker-php-entrypoint")
for _name in ("docker-entrypoint.sh", "/docker-entrypoint.sh", "docker-php-entrypoint"):
    register(Program(_name, _entrypoint, on_sigterm=0))


# -- servers ----------------------------------------------------------------------------
def _nginx(ctx: ProcessContext) -> ProgramGen:
    stamp = _strftime(ctx, "%Y/%m/%d %H:%M:%S")
    if "-s" in ctx.argv:
        # `nginx -s quit|stop|reload|reopen`: a signal to the running master process.
        i = ctx.argv.index("-s")
        signal = ctx.argv[i + 1] if i + 1 < len(ctx.argv) else ""
        if signal not in ("quit", "stop", "reload", "reopen"):
            yield Write(f'nginx: invalid option: "-s {signal}"\n', "stderr")
            return 1
        yield Write(f"{stamp} [notice] {len(ctx.argv) + 40}#{len(ctx.argv) + 40}: signal process started\n", "stderr")
        if signal in ("quit", "stop"):
            ctx.signal_main(0)
        return 0
    version = ctx.env.get("NGINX_VERSION", "1.27.3")
    if "-v" in ctx.argv[1:] or "-V" in ctx.argv[1:]:
        yield Write(f"nginx version: nginx/{version}\n", "stderr")
        return 0
    if "-t" in ctx.argv[1:] or "-T" in ctx.argv[1:]:
        yield Write("nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
                    "nginx: configuration file /etc/nginx/nginx.conf test is successful\n", "stderr")
        return 0
    for line in ('using the "epoll" event method', f"nginx/{version}", "built by gcc 12.2.0 (Debian 12.2.0-14)",
                 "OS: Linux 6.1.0-28-amd64", "getrlimit(RLIMIT_NOFILE): 1048576:1048576",
                 "start worker processes", "start worker process 29", "start worker process 30"):
        yield Write(f"{stamp} [notice] 1#1: {line}\n", "stderr")
    yield from _forever()


register(Program("nginx", _nginx, on_sigterm=0, ports=_ports(80), http=_static_site(NGINX_WELCOME),
                 http_steady=steady_index,
                 server_header="nginx/1.27.3", access_log=nginx_access_log))


def _httpd(ctx: ProcessContext) -> ProgramGen:
    stamp = _strftime(ctx, "%a %b %d %H:%M:%S.000000 %Y")
    yield Write("AH00558: httpd: Could not reliably determine the server's fully qualified domain name, "
                f"using {ctx.hostname}. Set the 'ServerName' directive globally to suppress this message\n", "stderr")
    yield Write(f"[{stamp}] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/2.4.62 (Unix) configured -- "
                "resuming normal operations\n", "stderr")
    yield Write(f"[{stamp}] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'\n", "stderr")
    yield from _forever()


register(Program("httpd-foreground", _httpd, on_sigterm=0, ports=_ports(80),
                 http=_static_site("<html><body><h1>It works!</h1></body></html>\n", "/usr/local/apache2/htdocs",
                                   HTTPD_404),
                 http_steady=steady_index,
                 server_header="Apache/2.4.62 (Unix)", access_log=httpd_access_log))
register(Program("apache2-foreground", _httpd, on_sigterm=0, ports=_ports(80),
                 http=lambda ctx, path, elapsed: (200, "OK!"),  # hpa-example's index.php
                 server_header="Apache/2.4.10 (Debian)", access_log=httpd_access_log))


def _redis(ctx: ProcessContext) -> ProgramGen:
    stamp = _strftime(ctx, "%d %b %Y %H:%M:%S.000")
    for line in ("# WARNING Memory overcommit must be enabled!",
                 "* oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
                 "* Redis version=7.4.1, bits=64, commit=00000000, modified=0, pid=1, just started",
                 "# Warning: no config file specified, using the default config.",
                 "* monotonic clock: POSIX clock_gettime",
                 "* Running mode=standalone, port=6379.",
                 "* Server initialized",
                 "* Ready to accept connections tcp"):
        yield Write(f"1:M {stamp} {line}\n")
    yield from _forever()


register(Program("redis-server", _redis, on_sigterm=0, ports=_ports(6379), stream=redis_stream))


def _mysqld(ctx: ProcessContext) -> ProgramGen:
    stamp = _strftime(ctx, "%Y-%m-%d %H:%M:%S+00:00")
    yield Write(f"{stamp} [Note] [Entrypoint]: Entrypoint script for MySQL Server 8.4.3-1.el9 started.\n")
    if not any(ctx.env.get(v) for v in ("MYSQL_ROOT_PASSWORD", "MYSQL_ALLOW_EMPTY_PASSWORD", "MYSQL_RANDOM_ROOT_PASSWORD")):
        # The official image's most common first error.
        yield Write(f"{stamp} [ERROR] [Entrypoint]: Database is uninitialized and password option is not specified\n"
                    "    You need to specify one of the following as an environment variable:\n"
                    "    - MYSQL_ROOT_PASSWORD\n    - MYSQL_ALLOW_EMPTY_PASSWORD\n    - MYSQL_RANDOM_ROOT_PASSWORD\n",
                    "stderr")
        return 1
    yield Sleep(8.0)  # initialising the data directory
    yield Write(f"{stamp} [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections. "
                "Version: '8.4.3'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.\n")
    yield from _forever()


register(Program("mysqld", _mysqld, on_sigterm=0, ports=_ports(3306)))


def _postgres(ctx: ProcessContext) -> ProgramGen:
    if not (ctx.env.get("POSTGRES_PASSWORD") or ctx.env.get("POSTGRES_HOST_AUTH_METHOD") == "trust"):
        yield Write("Error: Database is uninitialized and superuser password is not specified.\n"
                    "       You must specify POSTGRES_PASSWORD to a non-empty value for the\n"
                    "       superuser. For example, \"-e POSTGRES_PASSWORD=password\" on \"docker run\".\n", "stderr")
        return 1
    stamp = _strftime(ctx, "%Y-%m-%d %H:%M:%S.000 UTC")
    yield Sleep(3.0)
    for line in ("LOG:  starting PostgreSQL 17.2 (Debian 17.2-1.pgdg120+1) on x86_64-pc-linux-gnu",
                 'LOG:  listening on IPv4 address "0.0.0.0", port 5432',
                 'LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"',
                 "LOG:  database system is ready to accept connections"):
        yield Write(f"{stamp} [1] {line}\n")
    yield from _forever()


register(Program("postgres", _postgres, on_sigterm=0, ports=_ports(5432)))


# -- interpreters -------------------------------------------------------------------------
def _pi_spigot():
    """π's decimal digits, one by one (Gibbons' unbounded spigot)."""
    q, r, t, k, m, x = 1, 0, 1, 1, 3, 3
    while True:
        if 4 * q + r - t < m * t:
            yield m
            q, r, t, k, m, x = 10 * q, 10 * (r - m * t), t, k, (10 * (3 * q + r)) // t - 10 * m, x
        else:
            q, r, t, k, m, x = q * k, (2 * q + r) * x, t * x, k + 1, (q * (7 * k + 2) + r * x) // (t * x), x + 2


def pi_digits(n: int) -> str:
    """π to n significant digits as Math::BigFloat's `bpi(n)` prints it: rounded, not cut
    (bpi(20) is 3.1415926535897932385; bpi(2000) ends ...4780275901).  π is irrational, so the
    digits past the n-th are never exactly a half."""
    n = max(1, min(int(n), 20000))
    spigot = _pi_spigot()
    digits = [next(spigot) for _ in range(n + 1)]
    text = str(int("".join(map(str, digits[:n]))) + (1 if digits[n] >= 5 else 0))
    return text if n == 1 else text[0] + "." + text[1:]


def _one_liner(ctx: ProcessContext, lang: str) -> ProgramGen:
    """perl -e / python -c with what introductory material runs: print a string or π's digits,
    sleep, exit.  Anything else is the language's syntax error (exit 255 / 1)."""
    args = ctx.argv[1:]
    code = None
    for i, a in enumerate(args):
        if (lang == "perl" and a.startswith("-") and a.endswith("e")) or (lang == "python" and a == "-c"):
            code = args[i + 1] if i + 1 < len(args) else ""
            break
    if code is None:
        if lang == "python" and args[:2] == ["-m", "http.server"]:
            port = args[2] if len(args) > 2 else "8000"
            yield Write(f"Serving HTTP on 0.0.0.0 port {port} (http://0.0.0.0:{port}/) ...\n")
            yield from _forever()
        return 0  # an interactive interpreter with no terminal reads EOF and exits
    for statement in [s.strip() for s in code.replace("\n", ";").split(";") if s.strip()]:
        result = yield from _statement(ctx, lang, statement)
        if result is not None:
            return result
    return 0


def _statement(ctx: ProcessContext, lang: str, statement: str):
    import re
    if m := re.fullmatch(r"print\s*\(?\s*bpi\((\d+)\)\s*\)?", statement):
        digits = int(m.group(1))
        yield Sleep(min(60.0, 0.5 + digits * digits / 400_000))  # bignum work grows with n^2
        yield Write(pi_digits(digits) + "\n")
        return None
    if m := re.fullmatch(r"print\s*\(?\s*(\"[^\"]*\"|'[^']*')\s*\)?", statement):
        text = m.group(1)[1:-1].replace("\\n", "\n")
        yield Write(text + ("" if lang == "perl" and "-l" not in "".join(ctx.argv[1:2]) and text.endswith("\n")
                            else "\n"))
        return None
    if m := re.fullmatch(r"(?:time\.)?sleep\s*\(?\s*(\d+(?:\.\d+)?)\s*\)?", statement):
        yield Sleep(float(m.group(1)))
        return None
    if m := re.fullmatch(r"(?:exit|sys\.exit)\s*\(?\s*(\d+)?\s*\)?", statement):
        return int(m.group(1) or 0)
    if re.fullmatch(r"import\s+[\w., ]+|use\s+[\w:]+.*", statement):
        return None
    if lang == "perl":
        yield Write(f'syntax error at -e line 1, near "{statement[:20]}"\nExecution of -e aborted due to compilation errors.\n',
                    "stderr")
        return 255
    yield Write(f'  File "<string>", line 1\n    {statement}\n    ^\nSyntaxError: invalid syntax\n', "stderr")
    return 1


def _perl(ctx: ProcessContext) -> ProgramGen:
    return (yield from _one_liner(ctx, "perl"))


def _python(ctx: ProcessContext) -> ProgramGen:
    return (yield from _one_liner(ctx, "python"))


for _name in ("perl", "perl5.40.0", "perl5.34.0"):
    register(Program(_name, _perl))
for _name in ("python", "python3"):
    register(Program(_name, _python, ports=lambda ctx: _python_ports(ctx),
                     http=lambda ctx, path, elapsed: (200, "<!DOCTYPE HTML>\n<html><body><h1>Directory listing for /</h1></body></html>\n"),
                     server_header="SimpleHTTP/0.6 Python/3.13.1", access_log=python_http_server_log))


# -- agnhost (registry.k8s.io/e2e-test-images/agnhost) -------------------------------------
def _agnhost(ctx: ProcessContext) -> ProgramGen:
    sub = ctx.argv[1] if len(ctx.argv) > 1 else "help"
    if sub in ("netexec", "serve-hostname", "test-webserver", "liveness"):
        port = next((a.split("=", 1)[1] for a in ctx.argv[2:] if a.startswith("--http-port=") or a.startswith("--port=")),
                    {"netexec": "8080", "serve-hostname": "9376", "test-webserver": "80", "liveness": "8080"}[sub])
        yield Write(f"I0101 00:00:00.000000       1 log.go:245] Started HTTP server on port {port}\n", "stderr")
        yield from _forever()
    if sub == "pause":
        yield Write("Paused\n")
        yield from _forever()
    if sub == "help":
        yield Write("agnhost is a tool for e2e tests: netexec, serve-hostname, pause, liveness, test-webserver, ...\n")
        return 0
    yield Write(f'Error: unknown command "{sub}" for "agnhost"\nRun \'agnhost --help\' for usage.\n', "stderr")
    return 1


def _agnhost_ports(ctx: ProcessContext) -> frozenset[int]:
    sub = ctx.argv[1] if len(ctx.argv) > 1 else "help"
    default = {"netexec": 8080, "serve-hostname": 9376, "test-webserver": 80, "liveness": 8080}.get(sub)
    if default is None:
        return frozenset()
    for a in ctx.argv[2:]:
        if a.startswith(("--http-port=", "--port=")) and a.split("=", 1)[1].isdigit():
            return frozenset({int(a.split("=", 1)[1])})
    return frozenset({default})


def _agnhost_http(ctx: ProcessContext, path: str, elapsed: float) -> tuple[int, str]:
    sub = ctx.argv[1] if len(ctx.argv) > 1 else ""
    if sub == "serve-hostname" or path.startswith("/hostname"):
        return 200, ctx.hostname
    if sub == "liveness":
        return _liveness_http(ctx, path, elapsed)
    return 200, "NOW: " + _strftime(ctx, "%Y-%m-%d %H:%M:%S")


register(Program("agnhost", _agnhost, on_sigterm=0, ports=_agnhost_ports, http=_agnhost_http))
register(Program("/agnhost", _agnhost, on_sigterm=0, ports=_agnhost_ports, http=_agnhost_http))


def _liveness_server(ctx: ProcessContext) -> ProgramGen:
    # registry.k8s.io/liveness (test/images/agnhost/liveness): /healthz answers 200 for its first
    # 10 seconds, then 500 - the documentation's liveness-HTTP example.
    yield from _forever()


def _liveness_http(ctx: ProcessContext, path: str, elapsed: float) -> tuple[int, str]:
    if path.split("?", 1)[0] != "/healthz":
        return 404, "404 page not found\n"
    if elapsed > 10:
        return 500, f"error: {elapsed:.6f}"
    return 200, "ok"


register(Program("/server", _liveness_server, ports=_ports(8080), http=_liveness_http))
register(Program("server", _liveness_server, ports=_ports(8080), http=_liveness_http))


def _goproxy(ctx: ProcessContext) -> ProgramGen:
    # registry.k8s.io/goproxy: an HTTP proxy on 8080 (the documentation's TCP-probe example).
    yield from _forever()


register(Program("goproxy", _goproxy, ports=_ports(8080), http=lambda ctx, path, elapsed: (200, ""),
                 http_steady=steady_always))
register(Program("/goproxy", _goproxy, ports=_ports(8080), http=lambda ctx, path, elapsed: (200, ""),
                 http_steady=steady_always))


def _coredns(ctx: ProcessContext) -> ProgramGen:
    # registry.k8s.io/coredns/coredns: `/coredns -conf /etc/coredns/Corefile`, as kubeadm runs it.
    # Its startup lines (coremain.showVersion and the reload plugin's config checksum).
    yield Write(".:53\n[INFO] plugin/reload: Running configuration SHA512 = "
                "591cf328cccc12bc490481273e738df59329c62c0b729d94e8b61db9961c2fa5f046dd37f1cf888b953814040d180f52594972691cd6ff41be96639138a43908\n"
                "CoreDNS-1.12.1\nlinux/amd64, go1.24.1, 707c7c1\n")
    yield from _forever()


def _coredns_http(ctx: ProcessContext, path: str, elapsed: float) -> tuple[int, str]:
    # The health plugin (:8080/health) and the ready plugin (:8181/ready) answer "OK"; the
    # prometheus plugin serves /metrics on :9153.
    path = path.split("?", 1)[0]
    if path in ("/health", "/ready"):
        return 200, "OK"
    if path == "/metrics":
        return 200, "# HELP coredns_build_info A metric with a constant '1' value labeled by version, revision, " \
                    "and goversion from which CoreDNS was built.\n# TYPE coredns_build_info gauge\n" \
                    'coredns_build_info{goversion="go1.24.1",revision="707c7c1",version="1.12.1"} 1\n'
    return 404, "404 page not found\n"


for _name in ("coredns", "/coredns"):
    register(Program(_name, _coredns, on_sigterm=0, ports=_ports(53, 8080, 8181, 9153), http=_coredns_http,
                     http_steady=steady_always))


def _python_ports(ctx: ProcessContext) -> frozenset[int]:
    args = ctx.argv[1:]
    if args[:2] == ["-m", "http.server"]:
        return frozenset({int(args[2]) if len(args) > 2 and args[2].isdigit() else 8000})
    return frozenset()


def describe_argv(argv: list[str]) -> str:
    return shlex.join(argv)
from sim.runtime import sampleapps  # noqa: E402,F401  (registers the docs' sample applications)

"""pods/portforward in the engine: the bytes of a forwarded connection go from kube-apiserver to
the kubelet of the pod's node and the runtime, to the program listening on the port; nginx
answers HTTP and logs the request, redis answers PING, a port nothing listens on is refused
with the kubelet's and containerd's words, and a node that is down times the request out.
Also the programs' side of a connection (sim/runtime/connection.py) on its own."""
import dataclasses

from sim.runtime import connection, programs
from sim.runtime.process import ProcessContext
from tests.sim.conftest import ok
from tests.sim.test_containers import advance_until, logs, run_pod, status_of


def forward(cluster, name, port, data=b""):
    return cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "name": name,
                            "subresource": "portforward",
                            "portforward": {"port": port, "data": data.decode("latin-1")}})


def running_nginx(cluster, name="web", node="worker-1"):
    run_pod(cluster, name, image="nginx:1.27", node=node)
    advance_until(cluster, lambda: status_of(cluster, name)["phase"] == "Running", 60)


def test_nginx_answers_a_forwarded_get_and_logs_it(cluster):
    running_nginx(cluster)
    dial = forward(cluster, "web", 80)
    assert dial["code"] == 200 and dial["portforward"] == {"consumed": 0, "data": "", "close": False}
    request = b"GET / HTTP/1.1\r\nHost: localhost:18080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"
    resp = forward(cluster, "web", 80, request)
    pf = resp["portforward"]
    assert pf["consumed"] == len(request) and not pf["close"]
    head, _, body = pf["data"].partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 200 OK\r\nServer: nginx/1.27.3\r\n")
    assert f"Content-Length: {len(body)}" in head and "Connection: keep-alive" in head
    assert "<h1>Welcome to nginx!</h1>" in body
    lines = logs(cluster, "web")["text"].splitlines()
    assert lines[-1].startswith("127.0.0.1 - - [") and lines[-1].endswith(
        f'] "GET / HTTP/1.1" 200 {len(body)} "-" "curl/8.5.0" "-"')


def test_a_request_in_pieces_waits_for_its_end_and_close_ends_the_connection(cluster):
    running_nginx(cluster)
    part = b"GET /missing HTTP/1.1\r\nHost: x\r\n"
    assert forward(cluster, "web", 80, part)["portforward"] == {"consumed": 0, "data": "", "close": False}
    whole = part + b"Connection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n"
    pf = forward(cluster, "web", 80, whole)["portforward"]
    assert pf["close"] and pf["data"].startswith("HTTP/1.1 404 Not Found\r\n")
    assert pf["data"].endswith("<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.27.3</center>\r\n"
                               "</body>\r\n</html>\r\n")
    assert "Connection: close" in pf["data"] and pf["consumed"] == len(part) + len(b"Connection: close\r\n\r\n")


def test_a_port_nothing_listens_on_is_refused_in_the_kubelet_s_words(cluster):
    running_nginx(cluster)
    pf = forward(cluster, "web", 8080)["portforward"]
    assert pf["error"].startswith("error forwarding port 8080 to pod ")
    assert ", uid : failed to execute portforward in network namespace \"/var/run/netns/cni-" in pf["error"]
    assert pf["error"].endswith("IPv4: dial tcp4 127.0.0.1:8080: connect: connection refused "
                                "IPv6 dial tcp6 [::1]:8080: connect: connection refused ")


def test_redis_answers_ping(cluster):
    run_pod(cluster, "cache", image="redis:7")
    advance_until(cluster, lambda: status_of(cluster, "cache")["phase"] == "Running", 60)
    pf = forward(cluster, "cache", 6379, b"PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n")["portforward"]
    assert pf["data"] == "+PONG\r\n$2\r\nhi\r\n" and not pf["close"]


def test_bad_requests_and_a_node_that_is_down(cluster):
    assert forward(cluster, "nope", 80)["code"] == 404
    running_nginx(cluster, node="worker-2")
    bad = forward(cluster, "web", 0)
    assert bad["code"] == 400 and bad["body"]["message"] == 'invalid port "0"'
    cluster.kill_node("worker-2")
    down = forward(cluster, "web", 80)
    assert down["code"] == 500
    assert down["body"]["message"] == "Internal error occurred: error dialing backend: dial tcp worker-2:10250: i/o timeout"


def _nginx_ctx():
    return programs.PROGRAMS["nginx"], ProcessContext(argv=["nginx", "-g", "daemon off;"], clock=lambda: 1_780_000_000.0)


def test_http_exchange_pipelining_head_post_and_garbage():
    nginx, ctx = _nginx_ctx()
    two = b"GET / HTTP/1.1\r\n\r\nHEAD /index.html HTTP/1.1\r\n\r\n"
    ex = connection.serve(nginx, ctx, two, 1.0)
    assert ex.consumed == len(two) and ex.reply.count(b"HTTP/1.1 200 OK") == 2 and not ex.close
    assert ex.reply.count(b"<h1>Welcome to nginx!</h1>") == 1  # HEAD has no body
    assert [line.split('"')[1] for _, line in ex.log] == ["GET / HTTP/1.1", "HEAD /index.html HTTP/1.1"]
    post = connection.serve(nginx, ctx, b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nab", 1.0)
    assert post.consumed == 0  # the body is not all there
    post = connection.serve(nginx, ctx, b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 1.0)
    assert post.reply.startswith(b"HTTP/1.1 405 Method Not Allowed") and b"<center>nginx/1.27.3</center>" in post.reply
    junk = connection.serve(nginx, ctx, b"\x16\x03\x01 hello\r\n\r\n", 1.0)
    assert junk.close and junk.reply.startswith(b"HTTP/1.1 400 Bad Request")
    huge = connection.serve(nginx, ctx, b"GET /" + b"a" * (connection.MAX_REQUEST_HEAD + 10), 1.0)
    assert huge.close and huge.reply.startswith(b"HTTP/1.1 400 Bad Request")
    absolute = connection.serve(nginx, ctx, b"GET http://localhost:8080/index.html HTTP/1.1\r\n\r\n", 1.0)
    assert absolute.reply.startswith(b"HTTP/1.1 200 OK")
    lf = connection.serve(nginx, ctx, b"GET /a HTTP/1.1\n\nGET / HTTP/1.1\r\n\r\n", 1.0)
    assert lf.reply.startswith(b"HTTP/1.1 404 Not Found") and lf.reply.count(b"HTTP/1.1 ") == 2
    digits = connection.serve(nginx, ctx, b"POST / HTTP/1.1\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n", 1.0)
    assert digits.close and digits.reply.startswith(b"HTTP/1.1 413")
    old = connection.serve(nginx, ctx, b"GET / HTTP/1.0\r\n\r\n", 1.0)
    assert old.close and b"Connection: close" in old.reply


def test_redis_protocol_errors_close_and_incomplete_commands_wait():
    redis, ctx = programs.PROGRAMS["redis-server"], ProcessContext(argv=["redis-server"])
    assert connection.serve(redis, ctx, b"*1\r\n$4\r\nPI", 0).consumed == 0
    for garbage in (b"*x\r\n", b"*" + b"9" * 5000 + b"\r\n", b"*1\r\n$" + b"9" * 5000 + b"\r\n"):
        bad = connection.serve(redis, ctx, garbage, 0)
        assert bad.close and bad.reply.startswith(b"-ERR Protocol error")
    quit_ = connection.serve(redis, ctx, b"SET a 1\r\nQUIT\r\n", 0)
    assert quit_.reply == b"-ERR unknown command 'SET', with args beginning with: 'a' '1'\r\n+OK\r\n" and quit_.close


def test_httpd_and_python_http_server_log_in_their_own_formats():
    ctx = ProcessContext(argv=["x"], clock=lambda: 1_780_000_000.0)
    httpd = connection.serve(programs.PROGRAMS["httpd-foreground"], ctx, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1.0)
    assert b"Server: Apache/2.4.62 (Unix)\r\n" in httpd.reply and b"<h1>It works!</h1>" in httpd.reply
    assert httpd.log == [("stdout", '127.0.0.1 - - [28/May/2026:20:26:40 +0000] "GET / HTTP/1.1" 200 45')]
    ctx.argv = ["python", "-m", "http.server", "8000"]
    py = connection.serve(programs.PROGRAMS["python3"], ctx, b"GET / HTTP/1.0\r\n\r\n", 1.0)
    assert py.close and py.log == [("stderr", '127.0.0.1 - - [28/May/2026 20:26:40] "GET / HTTP/1.0" 200 -')]


def test_the_docs_sample_apps_log_each_request_in_their_own_words():
    ctx = ProcessContext(argv=["/hello-app"], hostname="hello", clock=lambda: 1_780_000_000.0)
    hello = connection.serve(programs.PROGRAMS["hello-app"], ctx, b"GET /?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", 1.0)
    assert b"Hello, world!\nVersion: 1.0.0\nHostname: hello\n" in hello.reply
    assert hello.log == [("stderr", "2026/05/28 20:26:40 Serving request: /")]
    node = connection.serve(programs.PROGRAMS["node"], dataclasses.replace(ctx, argv=["node", "server.js"]),
                            b"GET /hi HTTP/1.1\r\nHost: x\r\n\r\n", 1.0)
    assert b"Hello World!" in node.reply and node.log == [("stdout", "Received request for URL: /hi")]

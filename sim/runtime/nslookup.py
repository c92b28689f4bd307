"""busybox 1.36's nslookup (networking/nslookup.c, the FEATURE_NSLOOKUP_BIG resolver the official
image builds): its own queries, not the libc resolver's, so its output in a pod differs from what
getaddrinfo would find.

- Options before the name: `-type=` / `-querytype=` (soa ns a aaaa cname mx txt srv ptr any, any
  case; several may be given), `-timeout=` / `-t=`, `-retry=`, `-port=`, `-debug`; anything else
  prints the usage. `nslookup HOST [DNS_SERVER]`.
- Without DNS_SERVER it reads /etc/resolv.conf (parse_resolvconf): every `nameserver`, and the
  `search` (or `domain`) line; with one, it reads nothing (no search domains).
- Queries (add_query_with_search): with no -type, an address is asked for its PTR
  (make_ptr: 10.96.0.1 -> 1.0.96.10.in-addr.arpa), anything else for A then AAAA. A name with
  no dot is asked under EVERY search domain and never as given; a name with a dot only as given
  (no ndots rule) - why `nslookup kubernetes.default` fails in a pod and `nslookup web` prints
  NXDOMAIN lines beside its answer.
- All queries go to one server at once (send_queries); each reply is printed as it arrives:
  `** server can't find NAME: NXDOMAIN` for an error rcode, else "Non-authoritative answer:" when
  the reply is not authoritative and its records (`Name:\tX\nAddress: Y`, `X\tcanonical name = Y`,
  `X\tname = Y`, `X\tservice = P W PORT TARGET`), then an empty line - also after an empty
  (NODATA) reply. The `Server:` / `Address:` header comes with the first reply.
- A server that does not answer within the timeout (5 s, G.default_timeout) is given up for the
  next; when none answered: `;; connection timed out; no servers could be reached`.
- Exit code (G.exitcode): 1 when any reply was an error (NXDOMAIN...), or nothing answered.

The replies arrive in the order they were sent, except that the kubernetes plugin's
(authoritative) answers come before forwarded ones, which wait for the upstream.
"""
from __future__ import annotations

import ipaddress

from sim.runtime.process import Sleep, Write

DEFAULT_TIMEOUT = 5            # G.default_timeout: seconds per server
QTYPES = ("SOA", "NS", "A", "AAAA", "CNAME", "MX", "TXT", "SRV", "PTR", "ANY")   # qtypes[] order
OPTIONS = ("type", "querytype", "port", "retry", "debug", "t", "timeout")
USAGE = ("BusyBox v1.36.1 multi-call binary.\n\n"
         "Usage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]\n\n"
         "Query DNS about HOST\n\n"
         "QUERY_TYPE: soa,ns,a,aaaa,cname,mx,txt,ptr,srv,any\n")


def _err(text: str) -> Write:
    return Write(text, stream="stderr")


def make_ptr(text: str) -> str | None:
    """make_ptr: the reverse name of an address, None for a name."""
    try:
        return ipaddress.ip_address(text).reverse_pointer
    except ValueError:
        return None


def parse_resolvconf(text: str, hostname: str) -> tuple[list[str], list[str]]:
    """parse_resolvconf: (nameservers, search domains)."""
    servers, search, have_search = [], None, False
    for line in text.splitlines():
        words = line.split(None, 1)
        if len(words) < 2:
            continue
        key, arg = words[0], words[1].strip()
        if key == "domain" and not have_search or key == "search":
            have_search = have_search or key == "search"
            search = arg
        elif key == "nameserver":
            servers.append(arg)
    if search is None and "." in hostname:
        search = hostname.split(".", 1)[1]          # the domain part of the hostname
    if search is None or search == ".":
        return servers, []
    return servers, search.split()


def queries(host: str, types: list[str], search: list[str]) -> list[tuple[str, str]]:
    """(name, type) in the order nslookup_main adds them."""
    def with_search(qtype: str) -> list[tuple[str, str]]:
        if qtype == "PTR" or not search or "." in host:
            return [(host, qtype)]
        return [(f"{host}.{s}", qtype) for s in search]
    if not types:
        ptr = make_ptr(host)
        return [(ptr, "PTR")] if ptr else with_search("A") + with_search("AAAA")
    return [q for t in QTYPES if t in types for q in with_search(t)]


def _record_lines(rr: dict) -> str:
    """parse_reply's line for one answer record."""
    t, name, data = rr["type"], rr["name"], rr["data"]
    if t in ("A", "AAAA"):
        return f"Name:\t{name}\nAddress: {data}\n"
    if t == "CNAME":
        return f"{name}\tcanonical name = {data}\n"
    if t == "PTR":
        return f"{name}\tname = {data}\n"
    if t == "SRV":
        return f"{name}\tservice = {data['priority']} {data['weight']} {data['port']} {data['target']}\n"
    return ""


def _address(server: str, port: int) -> str:
    """xmalloc_sockaddr2dotted: ip:port, [ip6]:port."""
    return f"[{server}]:{port}" if ":" in server else f"{server}:{port}"


def nslookup(ctx, argv, stdin=None):
    args = list(argv[1:])
    types: list[str] = []
    timeout, port = DEFAULT_TIMEOUT, 53
    while args and args[0].startswith("-"):
        opt, _, val = args.pop(0)[1:].partition("=")
        if opt not in OPTIONS:
            yield _err(USAGE)
            return 1
        if opt in ("type", "querytype"):
            if val.upper() not in QTYPES:
                yield _err(f'nslookup: invalid query type "{val}"\n')
                return 1
            types.append(val.upper())
        elif opt in ("t", "timeout", "port", "retry"):
            if not val.isdigit() or int(val) < 1 or (opt == "port" and int(val) > 65535):
                yield _err(f"nslookup: invalid number '{val}'\n")
                return 1
            if opt == "port":
                port = int(val)
            elif opt != "retry":
                timeout = min(int(val), 2147483)
    if not args or len(args) > 2:
        yield _err(USAGE)
        return 1
    host = args[0]
    if len(args) == 2:
        servers, search = [args[1]], []
    else:
        servers, search = parse_resolvconf(ctx.fs.read("/etc/resolv.conf") or "", ctx.hostname)
        servers = servers or ["127.0.0.1"]
    asked = queries(host, types, search)
    if ctx.dns_query is None:
        # No pod network attached (a bare runtime): the context's resolver is all there is.
        ip = host if make_ptr(host) else ctx.resolve(host)
        head = f"Server:\t\t{servers[0]}\nAddress:\t{_address(servers[0], port)}\n\n"
        if ip is None:
            yield Write(head + f"** server can't find {host}: NXDOMAIN\n\n")
            return 1
        yield Write(head + f"Name:\t{host}\nAddress: {ip}\n\n")
        return 0
    for server in servers:
        if port != 53:
            replies = []            # nothing listens there (UDP: no refusal either)
        else:
            replies = [(q, ctx.dns_query(server, *q)) for q in asked]
            replies = [(q, r) for q, r in replies if r.get("rcode") != "TIMEOUT"]
        if not replies:
            yield Sleep(timeout)
            continue
        # Authoritative (the kubernetes plugin's) replies are back before forwarded ones.
        replies.sort(key=lambda qr: not qr[1].get("aa"))
        out, code = f"Server:\t\t{server}\nAddress:\t{_address(server, port)}\n\n", 0
        for (name, _), reply in replies:
            if reply["rcode"] != "NOERROR":
                out += f"** server can't find {name}: {reply['rcode']}\n"
                code = 1
            else:
                out += ("" if reply.get("aa") else "Non-authoritative answer:\n") + \
                    "".join(_record_lines(rr) for rr in reply["answer"])
            out += "\n"
        missing = [q for q in asked if q not in {qr[0] for qr in replies}]
        if missing:
            yield Sleep(timeout)
            out += "".join(f"*** Can't find {name}: No answer\n" for name, _ in missing) + "\n"
        yield Write(out)
        return code
    yield Write(";; connection timed out; no servers could be reached\n\n")
    return 1

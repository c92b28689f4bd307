"""The iptables proxier's memory of its last restore, so that a partial sync costs what changed.

pkg/proxy/iptables/proxier.go rewrites the top-level chains in full on every sync and, on a
partial sync, only the changed Services' own chains.  sync_rules (sim/kubeproxy_iptables.py) is
that, literally: it walks every Service port each time.  Upstream's walk is Go; here, with
1,000 Services on each of 500 nodes, the walk was most of bench/proxy.py's time while only a
few Services changed between two syncs.

PartialSyncState keeps what sync_rules would compute again - each port's rules, the top-level
chains as one segment per port, the rule and endpoint counts, the chains no Service uses any
more - and redoes only the changed Services' parts.  The result is sync_rules' (the rules,
`written`, the deleted chains, whether anything differs): tests/sim/test_kubeproxy.py compares
the two after random changes.  It may be used only when the caller's `changed` names every
Service whose ports or endpoints changed since the last sync and `ports` is the very list of
the last sync unless a Service's ports changed (KubeProxy's change trackers guarantee both:
IptablesProxier.sync's `tracked`).  Only a full sync and a change of large-cluster mode take
sync_rules' walk.
"""
from __future__ import annotations

from itertools import chain as chained

from sim.kubeproxy_iptables import (KUBE_SERVICES, LARGE_CLUSTER_ENDPOINTS, SERVICE_CHAIN_PREFIXES, TOP_LEVEL,
                                    PortRules, Restore, Ruleset, _spn_key, _static_rules, rules_for_port,
                                    service_key)

TOP_CHAINS = tuple((t, c) for t in ("filter", "nat") for c in TOP_LEVEL[t])
NO_RULES = PortRules((), (), False, 0)   # a port not there before


def _port_order(sp):
    return (sp.service_port_name, sp.protocol)


def top_by_chain(pr) -> dict:
    """A PortRules' top-level rules by (table, chain), each in the order written."""
    got = pr.__dict__.get("_top_by_chain")
    if got is None:
        out: dict = {}
        for r in pr.top:
            out.setdefault((r.table, r.chain), []).append(r)
        got = {k: tuple(v) for k, v in out.items()}
        object.__setattr__(pr, "_top_by_chain", got)  # PortRules is frozen; this is a cache of it
    return got


class PartialSyncState:
    """What the last sync of one IptablesProxier wrote, by Service port."""

    def __init__(self, restore: Restore, ports: list, endpoints: dict, memo: dict, node_ips: list[str]):
        self.ports = ports
        self.ruleset = restore.ruleset
        self.large = restore.large
        self.order = sorted(ports, key=_port_order)
        self._index_services()
        self.prs = [memo[sp][2] for sp in self.order]      # sync_rules left every port's in `memo`
        self.counts = [len(endpoints.get(_spn_key(sp), ())) for sp in self.order]
        self.total = sum(self.counts)
        base = Ruleset(local_addresses=restore.ruleset.local_addresses)
        _static_rules(base)
        self.static = {k: tuple(base.chains[k[0]].get(k[1], ())) for k in TOP_CHAINS}
        self.filter_other = {c: rules for c, rules in base.chains["filter"].items() if c not in TOP_LEVEL["filter"]}
        self.segs = {k: [top_by_chain(pr).get(k, ()) for pr in self.prs] for k in TOP_CHAINS}
        self.tail = restore.ruleset.chains["nat"][KUBE_SERVICES][-1]   # the KUBE-NODEPORTS tail-call
        self.active = {name for pr in self.prs for name, _ in pr.chains}
        nat = restore.ruleset.chains["nat"]
        self.stale = {c for c in nat if c.startswith(SERVICE_CHAIN_PREFIXES) and c not in self.active}
        self.services, self.endpoints = restore.ruleset.services, restore.ruleset.endpoints
        self.nat_rules = sum(map(len, nat.values()))

    def _index_services(self) -> None:
        self.by_service: dict[tuple[str, str], list[int]] = {}
        for i, sp in enumerate(self.order):
            self.by_service.setdefault(service_key(sp), []).append(i)

    def _reorder(self, ports: list, changed: set) -> bool:
        """Services' ports came or went (all of them Services in `changed`): the ports in their
        new order, the unchanged ones keeping their rules, the gone ones' chains no longer used.
        False when the ports do not allow it (a port twice; a new port of an unchanged Service)."""
        old = dict(zip(self.order, zip(self.prs, self.counts)))
        order = sorted(ports, key=_port_order)
        now = set(order)
        if len(old) != len(self.order) or len(now) != len(order) or \
                any(sp not in old and service_key(sp) not in changed for sp in order):
            return False
        for sp in old.keys() - now:
            pr, n = old[sp]
            self.services -= pr.has_endpoints
            self.endpoints -= pr.endpoints if pr.has_endpoints else 0
            self.total -= n
            names = {name for name, _ in pr.chains}
            self.active -= names
            self.stale |= names
        self.ports, self.order = ports, order
        self.prs = [old[sp][0] if sp in old else NO_RULES for sp in order]
        self.counts = [old[sp][1] if sp in old else 0 for sp in order]
        self._index_services()
        self.segs = {k: [top_by_chain(pr).get(k, ()) for pr in self.prs] for k in TOP_CHAINS}
        return True

    def partial_sync(self, ports: list, endpoints: dict, changed: set, cleanup_due: bool, node: str,
                     cluster_cidr: str, node_ips: list[str], memo: dict) -> tuple[Restore, bool] | None:
        """sync_rules(self.ruleset, ports, ..., changed=changed) and whether the rules differ, done
        on the changed Services only; None when that cannot be (large-cluster mode flips: every
        port's rules change, sync_rules' whole walk is due; or `_reorder` refuses the ports).
        The last ruleset's tables are updated in place (nothing but the proxier holds it), and
        after a None this state is not to be used again."""
        touched: set = set()
        if ports is not self.ports:
            if not self._reorder(ports, changed):
                return None
            touched.update(TOP_CHAINS)
        idx = sorted(i for key in changed for i in self.by_service.get(key, ()))
        new_eps = [(i, endpoints.get(_spn_key(self.order[i]), ())) for i in idx]
        total = self.total + sum(len(eps) - self.counts[i] for i, eps in new_eps)
        large = total > LARGE_CLUSTER_ENDPOINTS
        if large != self.large:
            return None
        self.total = total
        nat = self.ruleset.chains["nat"]
        differs = False
        written_own = 0
        for i, eps in new_eps:
            sp, old = self.order[i], self.prs[i]
            last = memo.get(sp)
            if last is not None and last[0] is eps and last[1] == large:
                pr = last[2]
            else:
                pr = rules_for_port(sp, eps, node, cluster_cidr, large, node_ips)
                memo[sp] = (eps, large, pr)
            self.services += pr.has_endpoints - old.has_endpoints
            self.endpoints += (pr.endpoints if pr.has_endpoints else 0) - (old.endpoints if old.has_endpoints else 0)
            if pr is not old:
                new_top, old_top = top_by_chain(pr), top_by_chain(old)
                for k in new_top.keys() | old_top.keys():
                    seg = new_top.get(k, ())
                    if self.segs[k][i] != seg:
                        self.segs[k][i] = seg
                        touched.add(k)
            for name, rules in pr.chains:   # a changed Service's own chains: written again
                prev = nat.get(name)
                if prev != rules:
                    differs = True
                self.nat_rules += len(rules) - (len(prev) if prev is not None else 0)
                nat[name] = rules
                written_own += len(rules)
            if pr is not old:
                names = {name for name, _ in pr.chains}
                gone = {name for name, _ in old.chains} - names
                self.active -= gone
                self.active |= names
                self.stale |= gone
            self.prs[i], self.counts[i] = pr, len(eps)
        self.stale -= self.active
        filter_ = dict(self.filter_other)
        for k in TOP_CHAINS:
            t, c = k
            current = self.ruleset.chains[t][c]
            if k in touched:
                rules = list(chained(self.static[k], chained.from_iterable(self.segs[k])))
                if k == ("nat", KUBE_SERVICES):
                    rules.append(self.tail)
                if rules != current:
                    differs = True
                if t == "nat":
                    self.nat_rules += len(rules) - len(current)
            else:
                rules = current
            if t == "nat":
                nat[c] = rules
            else:
                filter_[c] = rules
        written = {"filter": sum(len(filter_[c]) for c in TOP_LEVEL["filter"]),
                   "nat": sum(len(nat[c]) for c in TOP_LEVEL["nat"]) + written_own}
        deleted = 0
        cleaned = not large or cleanup_due
        if cleaned:
            for name in sorted(self.stale):
                rules = nat.pop(name, None) if name.startswith(SERVICE_CHAIN_PREFIXES) else None
                if rules is not None:
                    self.nat_rules -= len(rules)
                    deleted += 1
            self.stale.clear()
            differs = differs or deleted > 0
        rs = Ruleset(chains={"filter": filter_, "nat": nat}, local_addresses=self.ruleset.local_addresses,
                     services=self.services, endpoints=self.endpoints)
        self.ruleset = rs
        return Restore(rs, False, large, written, deleted, cleaned), differs

"""The ResourceQuota admission plugin (plugin/pkg/admission/resourcequota, its controller.go
CheckRequest, and pkg/quota/v1).

Validating, on creates in a namespace: each ResourceQuota of the namespace whose scopes match
the object, and whose status.hard names something the object uses (pods: pods, count/pods, cpu,
memory, requests.*, limits.*; any other kind: count/<resource>[.<group>]), must have room for
it: used + requested <= hard, else 403 "exceeded quota: <name>, requested: ..., used: ...,
limited: ...".  A quota whose status the controller has not filled in yet refuses ("status
unknown for quota"), and with cpu or memory under quota every container must name them
("failed quota: <name>: must specify ...").  An admitted object is charged at once: the quota's
status.used goes up by what it uses (a status write, retried on conflict), so that the next
request sees it even before the quota controller recounts; until that write shows in the watch
cache the plugin remembers the charge itself (as upstream's evaluator serialises its checks
behind the quota update).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sim.api import quota
from sim.apiserver.admission import CREATE, Attributes, forbidden

if TYPE_CHECKING:
    from sim.apiserver.server import KubeAPIServer

PLUGIN_NAME = "ResourceQuota"
QUOTA_RESOURCE = ("", "resourcequotas")


class ResourceQuota:
    name = PLUGIN_NAME

    def __init__(self, server: "KubeAPIServer"):
        self.server = server
        # Charges not yet seen in the watch cache: (namespace, name) -> [[delta, committed rv or
        # None while in flight]].
        self.pending: dict[tuple[str, str], list[list]] = {}

    @staticmethod
    def handles(operation: str) -> bool:
        return operation == CREATE

    # -- quotas and what they have used -------------------------------------------------------
    def _quota_res(self):
        return self.server.registry.lookup(*QUOTA_RESOURCE)

    def quotas(self, namespace: str) -> list[dict]:
        res = self._quota_res()
        if res is None:
            return []
        objs = self.server.cache.objects(res.gr)
        return [objs[k] for k in sorted(objs) if k[0] == namespace]

    def used(self, q: dict) -> dict:
        """status.used, plus the charges the cache does not show yet."""
        md = q["metadata"]
        key = (md["namespace"], md["name"])
        used = dict((q.get("status") or {}).get("used") or {})
        rv = int(md.get("resourceVersion") or 0)
        entries = [e for e in self.pending.get(key, []) if e[1] is None or e[1] > rv]
        if entries:
            self.pending[key] = entries
        else:
            self.pending.pop(key, None)
        for delta, _ in entries:
            used = quota.add(used, delta)
        return used

    # -- the check ---------------------------------------------------------------------------
    def usage(self, a: Attributes) -> tuple[dict, bool]:
        """(the object's usage, whether it is a pod)."""
        if a.group == "" and a.resource == "pods":
            return quota.pod_usage(a.obj), True
        return {n: "1" for n in quota.count_names(a.resource, a.group)}, False

    def validate(self, a: Attributes) -> None:
        if a.subresource or not a.namespace or a.obj is None:
            return
        quotas = self.quotas(a.namespace)
        if not quotas:
            return
        delta, is_pod = self.usage(a)
        interesting = []
        for q in quotas:
            if is_pod:
                if not quota.quota_matches_pod(q, a.obj):
                    continue
            elif quota.scope_selectors(q):
                continue
            hard = (q.get("status") or {}).get("hard") or {}
            restricted = (quota.pod_matching_resources(hard) if is_pod else sorted(set(hard) & set(delta)))
            if not restricted:
                continue
            if is_pod:
                why = quota.pod_constraints(restricted, a.obj)
                if why:
                    raise forbidden(a, f"failed quota: {q['metadata']['name']}: {why}")
            used = (q.get("status") or {}).get("used") or {}
            if any(r not in used for r in restricted):
                raise forbidden(a, f"status unknown for quota: {q['metadata']['name']}, "
                                   f"resources: {','.join(sorted(restricted))}")
            interesting.append(q)
        delta = quota.remove_zeros(delta)
        if not delta or not interesting:
            return
        charges = []
        for q in interesting:
            hard = q["status"]["hard"]
            requested = quota.mask(delta, hard)
            if not requested:
                continue
            used = self.used(q)
            new_used = quota.add(used, requested)
            ok, exceeded = quota.less_than_or_equal(quota.mask(new_used, requested), hard)
            if not ok:
                raise forbidden(a, f"exceeded quota: {q['metadata']['name']}, "
                                   f"requested: {quota.pretty_print(quota.mask(requested, exceeded))}, "
                                   f"used: {quota.pretty_print(quota.mask(used, exceeded))}, "
                                   f"limited: {quota.pretty_print(quota.mask(hard, exceeded))}")
            charges.append((q, requested))
        if a.dry_run:
            return
        for q, requested in charges:
            self.charge(q, requested)

    def charge(self, q: dict, requested: dict) -> None:
        """Write status.used + requested (from the quota as stored, on every retry)."""
        md = q["metadata"]
        key = (md["namespace"], md["name"])
        entry = [requested, None]
        self.pending.setdefault(key, []).append(entry)

        def mutate(cur: dict) -> tuple[str, dict]:
            new = dict(cur)
            status = dict(cur.get("status") or {})
            status["used"] = quota.add(dict(status.get("used") or {}), requested)
            new["status"] = status
            return "update", new

        def done(resp: dict) -> None:
            if resp["code"] >= 400:
                entries = self.pending.get(key, [])
                if entry in entries:
                    entries.remove(entry)
                return
            entry[1] = int(resp["body"]["metadata"]["resourceVersion"])

        self.server.guaranteed_update(self._quota_res(), md["namespace"], md["name"], mutate, done)

"""The clusterrole-aggregation controller (pkg/controller/clusterroleaggregation/
clusterroleaggregation_controller.go): a ClusterRole with an aggregationRule holds the rules of
every ClusterRole its clusterRoleSelectors select (itself excepted), each rule once, in the
order of the selectors and then of the selected roles' names.  Any ClusterRole added, changed or
deleted queues every aggregated one; a sync writes the rules only when they differ.  This is
how `admin`, `edit` and `view` get their rules from the system:aggregate-to-* roles, and how a
ClusterRole labelled rbac.authorization.k8s.io/aggregate-to-view: "true" extends `view`."""
from __future__ import annotations

from sim.api.meta import deep_copy
from sim.api.selectors import SelectorError, label_selector_as_selector, selector_matches
from sim.auth.rbac import GROUP
from sim.workqueue import WorkQueue


class ClusterRoleAggregationController:
    name = "clusterrole-aggregation-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.clusterroles = cm.shared_informer("clusterroles", group=GROUP)
        self.queue = WorkQueue(cm, self.sync_cluster_role)

    def start(self) -> None:
        self.clusterroles.handlers(add=lambda cr: self.enqueue(), update=lambda old, new: self.enqueue(),
                                   delete=lambda cr: self.enqueue())

    def enqueue(self) -> None:
        """Every change may change what any aggregated role selects: queue them all."""
        for cr in self.clusterroles.list():
            if cr.get("aggregationRule") is not None:
                self.queue.add(cr["metadata"]["name"])

    def aggregated_rules(self, shared: dict) -> list[dict]:
        rules: list[dict] = []
        roles = sorted(self.clusterroles.list(), key=lambda cr: cr["metadata"]["name"])
        for sel in (shared.get("aggregationRule") or {}).get("clusterRoleSelectors") or []:
            try:
                selector = label_selector_as_selector(sel)
            except SelectorError:
                continue
            for cr in roles:
                if cr["metadata"]["name"] == shared["metadata"]["name"] \
                        or not selector_matches(selector, cr["metadata"].get("labels") or {}):
                    continue
                for rule in cr.get("rules") or []:
                    if rule not in rules:  # ruleExists
                        rules.append(rule)
        return rules

    def sync_cluster_role(self, name: str) -> None:
        shared = self.clusterroles.get(None, name)
        if shared is None or shared.get("aggregationRule") is None:
            return
        rules = self.aggregated_rules(shared)
        if rules == (shared.get("rules") or []):
            return
        updated = deep_copy(shared)
        updated["rules"] = rules

        def done(resp: dict) -> None:
            if resp["code"] == 409:
                self.queue.add_rate_limited(name)  # changed meanwhile: the next event queues it anew
            elif resp["code"] < 300:
                self.queue.forget(name)

        self.api.update("clusterroles", updated, done, group=GROUP)

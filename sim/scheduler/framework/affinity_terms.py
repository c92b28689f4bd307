"""Pod (anti-)affinity terms as the scheduler parses them once per pod (framework.AffinityTerm,
WeightedAffinityTerm and PodInfo.Update in pkg/scheduler/framework/types.go), their label
selectors parsed by sim.api.selectors.label_selector_as_selector (metav1.LabelSelectorAsSelector,
with labels.NewRequirement's validation errors).

A selector is None (a nil selector: matches nothing, labels.Nothing()), () (an empty one:
matches everything, labels.Everything()) or a sorted tuple of (key, op, values) requirements in
sim.api.selectors' form.  A term with a namespaceSelector matches a pod in its namespaces, or in
a namespace whose labels the namespaceSelector matches (AffinityTerm.Matches).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from sim.api.gofmt import aggregate
from sim.api.selectors import EVERYTHING, NOTHING, SelectorError, label_selector_as_selector, selector_matches


@dataclass(frozen=True)
class AffinityTerm:
    """framework.AffinityTerm: the namespaces (the pod's own when a term lists none and has no
    namespaceSelector), the label selector, the topology key and the namespace selector."""
    namespaces: frozenset
    selector: tuple | None
    topology_key: str
    namespace_selector: tuple | None

    def matches(self, namespace: str, labels: dict | None, ns_labels: dict | None) -> bool:
        """AffinityTerm.Matches(pod, nsLabels)."""
        if namespace in self.namespaces or selector_matches(self.namespace_selector, ns_labels):
            return selector_matches(self.selector, labels)
        return False

    def merged(self, list_namespaces: Callable[[], Iterable[dict]] | None) -> "AffinityTerm":
        """mergeAffinityTermNamespacesIfNotEmpty: an incoming pod's namespaceSelector unrolled
        into its namespaces (and then Nothing), unless it is empty (it matches every namespace)."""
        if self.namespace_selector == EVERYTHING:
            return self
        names = set(self.namespaces)
        if self.namespace_selector is not None and list_namespaces is not None:
            for ns in list_namespaces():
                md = ns.get("metadata") or {}
                if selector_matches(self.namespace_selector, md.get("labels")):
                    names.add(md.get("name") or "")
        return AffinityTerm(frozenset(names), self.selector, self.topology_key, NOTHING)


@dataclass(frozen=True)
class WeightedAffinityTerm:
    term: AffinityTerm
    weight: int


def new_affinity_term(namespace: str, term: dict) -> AffinityTerm:
    """newAffinityTerm (raises SelectorError)."""
    selector = label_selector_as_selector(term.get("labelSelector"))
    names = term.get("namespaces") or []
    ns_sel_spec = term.get("namespaceSelector")
    namespaces = frozenset([namespace]) if not names and ns_sel_spec is None else frozenset(names)
    ns_selector = label_selector_as_selector(ns_sel_spec)
    return AffinityTerm(namespaces, selector, term.get("topologyKey") or "", ns_selector)


@dataclass(frozen=True)
class PodAffinityTerms:
    """PodInfo's RequiredAffinityTerms, RequiredAntiAffinityTerms, PreferredAffinityTerms and
    PreferredAntiAffinityTerms.  A list whose parsing failed is empty (the cache keeps a pod with
    a bad term without that list, as NewPodInfo's ignored error leaves it nil); `errors` keeps
    each failure as "<list>: <error>"."""
    required_affinity: tuple = ()
    required_anti_affinity: tuple = ()
    preferred_affinity: tuple = ()
    preferred_anti_affinity: tuple = ()
    errors: tuple = ()

    @property
    def error(self) -> str | None:
        return aggregate(list(self.errors)) if self.errors else None

    @property
    def required_error(self) -> bool:
        """GetAffinityTerms of the required lists fails (the queueing hints' error case)."""
        return any(e.startswith(("requiredAffinityTerms:", "requiredAntiAffinityTerms:")) for e in self.errors)

    def empty(self) -> bool:
        return not (self.required_affinity or self.required_anti_affinity or self.preferred_affinity
                    or self.preferred_anti_affinity)


NO_TERMS = PodAffinityTerms()


def parse_pod_affinity_terms(namespace: str, affinity: dict | None) -> PodAffinityTerms:
    """PodInfo.Update's four term lists (getPodAffinityTerms and friends)."""
    affinity = affinity or {}
    pa, paa = affinity.get("podAffinity"), affinity.get("podAntiAffinity")
    if not pa and not paa:
        return NO_TERMS
    pa, paa = pa or {}, paa or {}
    errors: list[str] = []

    def required(spec: list | None, name: str) -> tuple:
        try:
            return tuple(new_affinity_term(namespace, t) for t in spec or [])
        except SelectorError as e:
            errors.append(f"{name}: {e}")
            return ()

    def weighted(spec: list | None, name: str) -> tuple:
        try:
            return tuple(WeightedAffinityTerm(new_affinity_term(namespace, t.get("podAffinityTerm") or {}),
                                              int(t.get("weight") or 0)) for t in spec or [])
        except SelectorError as e:
            errors.append(f"{name}: {e}")
            return ()

    ra = required(pa.get("requiredDuringSchedulingIgnoredDuringExecution"), "requiredAffinityTerms")
    raa = required(paa.get("requiredDuringSchedulingIgnoredDuringExecution"), "requiredAntiAffinityTerms")
    wa = weighted(pa.get("preferredDuringSchedulingIgnoredDuringExecution"), "preferredAffinityTerms")
    waa = weighted(paa.get("preferredDuringSchedulingIgnoredDuringExecution"), "preferredAntiAffinityTerms")
    return PodAffinityTerms(ra, raa, wa, waa, tuple(errors))


def pod_affinity_terms(pod) -> PodAffinityTerms:
    """A PodInfo's parsed terms, computed once per pod version."""
    return pod.cached("affinityTerms", lambda: parse_pod_affinity_terms(pod.namespace, pod.affinity))


def pod_matches_all_affinity_terms(terms: Iterable[AffinityTerm], namespace: str, labels: dict | None) -> bool:
    """podMatchesAllAffinityTerms: false for no terms; each term matched without namespace
    labels (an incoming pod's namespaceSelector is already merged into its namespaces)."""
    terms = list(terms)
    return bool(terms) and all(t.matches(namespace, labels, None) for t in terms)

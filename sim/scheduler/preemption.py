"""The preemption evaluator (pkg/scheduler/framework/preemption/preemption.go, v1.32), with the
helpers it takes from pkg/scheduler/util (MoreImportantPod, GetPodStartTime,
GetEarliestPodStartTime, ClearNominatedNodeName) and FitError's message.

`Evaluator.preempt()` is what a preemption PostFilter plugin runs when no node fits the pod:

  0. the latest version of the pod (the scheduler's informer view);
  1. is the pod eligible to preempt at all (the plugin says: preemptionPolicy, victims of an
     earlier preemption still terminating on its nominated node);
  2. candidates: the nodes the filters rejected as Unschedulable (UnschedulableAndUnresolvable
     ones cannot be helped by removing pods), dry-run one by one from a random offset until
     enough are found (minCandidateNodesPercentage / minCandidateNodesAbsolute);
  3. (extenders: the simulator has none);
  4. the best candidate (pickOneNodeForPreemption);
  5. prepareCandidate: each victim gets the DisruptionTarget condition, is deleted gracefully
     and gets a "Preempted" event; lower-priority pods nominated to the node lose the
     nomination.  The pod is then nominated to the node (the scheduler's failure handler writes
     status.nominatedNodeName) and waits for its victims to leave.

Upstream runs the dry runs in parallel and cancels them once enough candidates exist; here they
run in offset order and stop at the same point, which is what upstream's tests pin down with
parallelism 1.  The API calls are asynchronous in the simulator: their failures are reported by
the client, they cannot fail the scheduling cycle that made them (as SchedulerAsyncPreemption
has it upstream).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from sim.api.meta import parse_timestamp
from sim.api.gofmt import aggregate
from sim.scheduler.framework.interface import (ERROR, MODE_OVERRIDE, SUCCESS, UNSCHEDULABLE,
                                               UNSCHEDULABLE_AND_UNRESOLVABLE, NodeToStatus, NominatingInfo,
                                               PostFilterResult, Status, as_status, is_success)
from sim.scheduler.framework.podinfo import PodInfo

INT32_MAX = 2**31 - 1
NO_NODE_AVAILABLE_MSG = "0/{} nodes are available"
PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling"
DRY_RUN_BATCH_MIN = 16
DISRUPTION_TARGET = "DisruptionTarget"
REASON_PREEMPTION_BY_SCHEDULER = "PreemptionByScheduler"   # v1.PodReasonPreemptionByScheduler


# -- pkg/scheduler/util --------------------------------------------------------------------------
def pod_start_time(pod: PodInfo) -> float:
    """GetPodStartTime: status.startTime, or "now" for a pod not started yet (later than any
    start time, which is all the comparisons below need)."""
    def parse() -> float:
        t = parse_timestamp((pod.pod.get("status") or {}).get("startTime"))
        return math.inf if t is None else t
    return pod.cached("preemption.startTime", parse)


def more_important_pod(a: PodInfo, b: PodInfo) -> bool:
    """MoreImportantPod: higher priority first; equal priorities, the one started earlier."""
    if a.priority != b.priority:
        return a.priority > b.priority
    return pod_start_time(a) < pod_start_time(b)


def importance_key(p: PodInfo) -> tuple:
    """A sort key that orders pods as MoreImportantPod does (most important first)."""
    return (-p.priority, pod_start_time(p))


def earliest_pod_start_time(victims: "Victims") -> float | None:
    """GetEarliestPodStartTime: the earliest start time among the highest-priority victims."""
    if not victims.pods:
        return None
    earliest = pod_start_time(victims.pods[0])
    max_priority = victims.pods[0].priority
    for p in victims.pods:
        if p.priority == max_priority:
            earliest = min(earliest, pod_start_time(p))
        elif p.priority > max_priority:
            max_priority, earliest = p.priority, pod_start_time(p)
    return earliest


def pod_terminating_by_preemption(pod: dict) -> bool:
    """podTerminatingByPreemption: deleting, and its DisruptionTarget condition says the
    scheduler preempted it (a pod deleted for another reason does not hold preemption back)."""
    if not (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == DISRUPTION_TARGET:
            return c.get("status") == "True" and c.get("reason") == REASON_PREEMPTION_BY_SCHEDULER
    return False


def condition_changes(pod: dict, condition: dict) -> bool:
    """apipod.UpdatePodCondition's answer: would setting `condition` change the pod's status?"""
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == condition["type"]:
            return any(c.get(k) != condition.get(k) for k in ("status", "reason", "message")) or \
                c.get("lastProbeTime") != condition.get("lastProbeTime")
    return True


def fit_error_message(num_all_nodes: int, statuses: dict[str, Status], absent: Status) -> str:
    """framework.FitError.Error() without a PreFilter message: "0/N nodes are available:" and
    the reasons counted per node (nodes absent from the map count the absent status's
    reasons), sorted as strings."""
    reasons: Counter = Counter()
    for s in statuses.values():
        for r in s.reasons:
            reasons[r] += 1
    if len(statuses) < num_all_nodes:
        for r in absent.reasons:
            reasons[r] += num_all_nodes - len(statuses)
    msg = NO_NODE_AVAILABLE_MSG.format(num_all_nodes) + ":"
    parts = sorted(f"{c} {r}" for r, c in reasons.items())
    if parts:
        msg += f" {', '.join(parts)}."
    return msg


# -- candidates -----------------------------------------------------------------------------------
@dataclass
class Victims:
    """extenderv1.Victims: the pods to evict (most important first) and how many of them a
    PodDisruptionBudget protects."""
    pods: list[PodInfo] = field(default_factory=list)
    num_pdb_violations: int = 0


@dataclass
class Candidate:
    """A node the preemptor fits on once `victims` are gone."""
    name: str
    victims: Victims


def pick_one_node_for_preemption(nodes_to_victims: dict[str, Victims],
                                 score_funcs: list[Callable[[str], float]] | None = None) -> str:
    """pickOneNodeForPreemption: each score function keeps the nodes with the highest score;
    the next one breaks the ties.  The default functions, in upstream's order:
      1. fewest PodDisruptionBudget violations;
      2. the lowest highest-priority victim;
      3. the smallest sum of victim priorities (each shifted by MaxInt32+1, so that many
         negative-priority victims do not look cheaper than a few);
      4. the fewest victims;
      5. the latest start time of the highest-priority victims (evict what started last);
    and then the first node left (upstream's map order; here the dry run's order)."""
    if not nodes_to_victims:
        return ""
    candidates = list(nodes_to_victims)
    if not score_funcs:
        def min_pdb_violations(node: str) -> float:
            return -nodes_to_victims[node].num_pdb_violations

        def min_highest_priority(node: str) -> float:
            return -nodes_to_victims[node].pods[0].priority

        def min_sum_priorities(node: str) -> float:
            return -sum(p.priority + INT32_MAX + 1 for p in nodes_to_victims[node].pods)

        def min_num_pods(node: str) -> float:
            return -len(nodes_to_victims[node].pods)

        def latest_start_time(node: str) -> float:
            t = earliest_pod_start_time(nodes_to_victims[node])
            return -math.inf if t is None else t

        score_funcs = [min_pdb_violations, min_highest_priority, min_sum_priorities, min_num_pods, latest_start_time]
    for f in score_funcs:
        best, selected = -math.inf, []
        for node in candidates:
            s = f(node)
            if s > best:
                best, selected = s, []
            if s == best:
                selected.append(node)
        if len(selected) == 1:
            return selected[0]
        candidates = selected
    return candidates[0]


def lower_priority_nominated_pods(nominator: Any, pod: PodInfo, node_name: str) -> list[PodInfo]:
    """getLowerPriorityNominatedPods: pods nominated to the node with a lower priority than the
    preemptor (they may no longer fit once it runs there)."""
    if nominator is None:
        return []
    return [p for p in nominator.nominated_pods_for_node(node_name) if p.priority < pod.priority]


# -- the evaluator ----------------------------------------------------------------------------------
class Evaluator:
    """preemption.Evaluator: the generic algorithm; `interface` (the plugin) supplies the parts a
    preemption plugin may change: GetOffsetAndNumCandidates, CandidatesToVictimsMap,
    PodEligibleToPreemptOthers, SelectVictimsOnNode, OrderedScoreFuncs; and, the simulator's
    addition, select_victims_in_bulk (SelectVictimsOnNode's answer for many nodes at once,
    for the nodes it can answer that way)."""

    def __init__(self, plugin_name: str, handle: Any, interface: Any):
        self.plugin_name = plugin_name
        self.handle = handle
        self.interface = interface

    # -- Preempt -------------------------------------------------------------------------
    def preempt(self, state, pod: PodInfo, m: NodeToStatus) -> tuple[PostFilterResult | None, Status]:
        """<nil, Error>: a transient error; <nil, Unschedulable>: e.g. not eligible, waiting for
        victims (the nominated node is kept); <result "", Unschedulable>: preemption cannot help
        (the nomination is cleared); <result node, Success>: nominate the pod to the node."""
        fh = self.handle
        # 0) The latest version of the pod.
        latest = fh.pod_lister(pod.namespace, pod.name)
        if latest is None:
            return None, as_status(f'pod "{pod.name}" not found')
        if latest is not pod.pod:
            pod = PodInfo(latest)

        # 1) Is the pod eligible to preempt others?
        nominated_status = m.get(pod.nominated_node_name) if pod.nominated_node_name else m.absent
        ok, msg = self.interface.pod_eligible_to_preempt_others(pod, nominated_status)
        if not ok:
            return None, Status(UNSCHEDULABLE, (msg,))

        # 2) Every preemption candidate.
        all_nodes = fh.snapshot.node_infos()
        candidates, statuses, err = self.find_candidates(state, all_nodes, pod, m)
        if err is not None and not candidates:
            return None, as_status(err)
        if not candidates:
            # A FitError over the dry run's statuses; the nodes never tried could not be helped.
            msg = fit_error_message(len(all_nodes), statuses,
                                    Status(UNSCHEDULABLE_AND_UNRESOLVABLE, (PREEMPTION_NOT_HELPFUL,)))
            return PostFilterResult(NominatingInfo("", MODE_OVERRIDE)), Status(UNSCHEDULABLE, (msg,))

        # 3) Extenders: none in the simulator.
        # 4) The best candidate.
        best = self.select_candidate(candidates)
        if best is None or not best.name:
            return None, Status(UNSCHEDULABLE, ("no candidate node for preemption",))

        # 5) Evict the victims, clear lower-priority nominations.
        s = self.prepare_candidate(best, pod)
        if not is_success(s):
            return None, s
        return PostFilterResult(NominatingInfo(best.name, MODE_OVERRIDE)), Status(SUCCESS)

    def find_candidates(self, state, all_nodes: list, pod: PodInfo,
                        m: NodeToStatus) -> tuple[list[Candidate], dict[str, Status], str | None]:
        """findCandidates: the nodes that failed with Unschedulable (not ...AndUnresolvable), in
        the snapshot's node order, dry-run from a random offset."""
        if not all_nodes:
            return [], {}, "no nodes available"
        by_name = {info.name: info for info in all_nodes}
        potential = [by_name[n] for n in m.nodes_for_status_code(list(by_name), UNSCHEDULABLE)]
        if not potential:
            return [], {}, None
        # PodDisruptionBudgets: the simulator's API has no policy/v1, so there are none.
        offset, num_candidates = self.interface.get_offset_and_num_candidates(len(potential))
        return self.dry_run_preemption(state, pod, potential, offset, num_candidates)

    def dry_run_preemption(self, state, pod: PodInfo, potential_nodes: list, offset: int,
                           num_candidates: int) -> tuple[list[Candidate], dict[str, Status], str | None]:
        """DryRunPreemption: SelectVictimsOnNode on a copy of each node (and of the cycle state),
        from `offset` round the list, until there are `num_candidates` candidates and at least
        one violates no PodDisruptionBudget.  Candidates that violate none come first.  The
        nodes are taken in batches that the plugin may answer in bulk (the first batch as big
        as the number of candidates wanted, each next one twice the last)."""
        non_violating: list[Candidate] = []
        violating: list[Candidate] = []
        statuses: dict[str, Status] = {}
        errs: list[str] = []
        n = len(potential_nodes)
        order = potential_nodes[offset:] + potential_nodes[:offset] if offset % n else list(potential_nodes)
        pos, size = 0, max(num_candidates, DRY_RUN_BATCH_MIN)
        while pos < n:
            batch = order[pos:pos + size]
            pos, size = pos + len(batch), size * 2
            known = self.interface.select_victims_in_bulk(state, pod, batch)
            for info in batch:
                outcome = known.get(info.name)
                if outcome is None:
                    outcome = self.interface.select_victims_on_node(state.clone(), pod, info.clone())
                victims, num_violations, status = outcome
                if is_success(status) and victims:
                    c = Candidate(info.name, Victims(victims, num_violations))
                    target = non_violating if num_violations == 0 else violating
                    if len(target) < num_candidates:      # candidateList's capacity
                        target.append(c)
                    if non_violating and len(non_violating) + len(violating) >= num_candidates:
                        return non_violating + violating, statuses, (aggregate(errs) if errs else None)
                    continue
                if is_success(status):
                    status = as_status(f'expected at least one victim pod on node "{info.name}"')
                if status.code == ERROR:
                    errs.append(status.message())
                statuses[info.name] = status
        return non_violating + violating, statuses, (aggregate(errs) if errs else None)

    # -- choosing --------------------------------------------------------------------------
    def select_candidate(self, candidates: list[Candidate]) -> Candidate | None:
        """SelectCandidate."""
        if not candidates:
            return None
        if len(candidates) == 1:
            return candidates[0]
        victims_map = self.interface.candidates_to_victims_map(candidates)
        score_funcs = self.interface.ordered_score_funcs(victims_map)
        node = pick_one_node_for_preemption(victims_map, score_funcs)
        victims = victims_map.get(node)
        if victims is not None:
            return Candidate(node, victims)
        return candidates[0]     # should not happen (upstream logs and takes the first)

    # -- acting ----------------------------------------------------------------------------
    def prepare_candidate(self, c: Candidate, pod: PodInfo) -> Status | None:
        """prepareCandidate: preempt every victim, then clear the nomination of lower-priority
        pods nominated to the node, so that they look for room elsewhere."""
        for victim in c.victims.pods:
            self.preempt_pod(c, pod, victim)
        client = self.handle.client
        for p in lower_priority_nominated_pods(self.handle.nominator, pod, c.name):
            if p.nominated_node_name:          # util.ClearNominatedNodeName
                client.patch_pod_status(p, None, "")
        return None

    def preempt_pod(self, c: Candidate, preemptor: PodInfo, victim: PodInfo) -> None:
        """Evaluator.PreemptPod: the DisruptionTarget condition (when it changes the status),
        then a graceful delete, then the "Preempted" event on the victim."""
        client = self.handle.client
        condition = {"type": DISRUPTION_TARGET, "status": "True", "reason": REASON_PREEMPTION_BY_SCHEDULER,
                     "message": f"{preemptor.scheduler_name}: preempting to accommodate a higher priority pod"}

        def deleted(status: Status | None) -> None:
            if is_success(status):
                client.event(victim, "Normal", "Preempted",
                             f"Preempted by pod {preemptor.uid} on node {c.name}")

        def patched(status: Status | None) -> None:
            if is_success(status):
                client.delete_pod(victim, deleted)

        if condition_changes(victim.pod, condition):
            client.add_pod_condition(victim, condition, patched)
        else:
            patched(None)

"""Scheduling explanations: what one attempt saw, kept compact (numpy arrays and the decoders
of the filter statuses) and turned into the contract's JSON only when someone asks.

The store keeps the latest attempt per pod for a bounded number of pods (least recently
attempted dropped first), so memory stays flat however many pods go through the scheduler.
"""
from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from sim.scheduler.framework.interface import Status

MAX_ROWS = 500
SCHEDULED, UNSCHEDULABLE_RESULT, NOMINATED, ERROR_RESULT = "Scheduled", "Unschedulable", "Nominated", "SchedulerError"
_EMPTY = np.zeros(0, np.int64)


def _empty() -> np.ndarray:
    return _EMPTY


@dataclass
class AttemptRecord:
    pod: str
    time: float
    attempt: int
    profile: str
    num_all_nodes: int
    names: tuple = ()                      # row -> node name when the attempt ran
    filter_plugins: list[str] = field(default_factory=list)
    skipped_filter_plugins: list[str] = field(default_factory=list)
    # nodes the filters rejected: rows, index into filter_plugins (-1: PreFilter / absent), ids
    rejected_rows: np.ndarray = field(default_factory=_empty)
    rejected_plugin: np.ndarray = field(default_factory=_empty)
    rejected_ids: np.ndarray = field(default_factory=_empty)
    decoders: list = field(default_factory=list)
    prefilter_status: Status | None = None  # the pod was rejected before any node was looked at
    absent_status: Status | None = None     # nodes left out by a PreFilterResult
    num_absent: int = 0
    feasible_rows: np.ndarray = field(default_factory=_empty)
    score_plugins: list[str] = field(default_factory=list)
    score_weights: list[int] = field(default_factory=list)
    raw: list = field(default_factory=list)
    normalized: list = field(default_factory=list)
    total: np.ndarray | None = None
    chosen_row: int = -1
    ties: int = 0
    result: str = UNSCHEDULABLE_RESULT
    node: str | None = None
    nominated_node: str | None = None
    message: str = ""
    post_filter_message: str = ""
    evaluated_nominated_node: str | None = None

    # -- statuses ----------------------------------------------------------------------------
    def rejected_status(self, i: int) -> Status:
        p = int(self.rejected_plugin[i])
        if p < 0:
            return self.absent_status
        return self.decoders[p](int(self.rejected_ids[i]))

    def reason_histogram(self) -> Counter:
        """(reason, plugin) -> count over the rejected nodes (each distinct status decoded once)."""
        hist: Counter = Counter()
        if self.prefilter_status is not None:
            for r in self.prefilter_status.reasons:
                hist[(r, self.prefilter_status.plugin)] += self.num_all_nodes
            return hist
        if len(self.rejected_rows):
            combo = self.rejected_plugin.astype(np.int64) * (1 << 32) + self.rejected_ids.astype(np.int64)
            uniq, first, counts = np.unique(combo, return_index=True, return_counts=True)
            for idx, c in zip(first.tolist(), counts.tolist()):
                s = self.rejected_status(idx)
                for r in s.reasons:
                    hist[(r, s.plugin)] += c
        if self.absent_status is not None and self.num_absent:
            for r in self.absent_status.reasons:
                hist[(r, self.absent_status.plugin)] += self.num_absent
        return hist

    @property
    def num_feasible(self) -> int:
        return len(self.feasible_rows)

    @property
    def num_evaluated(self) -> int:
        if self.prefilter_status is not None:
            return 0
        return len(self.feasible_rows) + len(self.rejected_rows)

    # -- "why" ---------------------------------------------------------------------------------
    def why(self) -> str:
        if self.result == ERROR_RESULT:
            return f"the scheduler hit an error: {self.message}"
        if self.result == SCHEDULED or (self.result in (NOMINATED,) and self.node):
            return self._why_node()
        if self.num_all_nodes == 0:
            return "no nodes are registered in the cluster"
        if self.prefilter_status is not None:
            s = self.prefilter_status
            text = f"the {s.plugin} plugin rejected the pod before any node was considered: {s.message()}"
        elif self.num_feasible == 0:
            hist = self.reason_histogram()
            parts = [f"{c} {r} ({p})" for (r, p), c in sorted(hist.items(), key=lambda e: (-e[1], e[0][0]))]
            text = "no node passed the filters: " + ", ".join(parts)
        else:
            text = self.message
        if self.nominated_node:
            text += (f"; preemption nominated {self.nominated_node}: the pod waits for the lower-priority "
                     f"pods evicted there to leave")
        elif self.post_filter_message:
            text += f"; {self.post_filter_message}"
        return text

    def _why_node(self) -> str:
        if self.evaluated_nominated_node and self.num_feasible == 1 and self.chosen_row >= 0:
            return f"{self.node} is the node preemption nominated for the pod, and it passes every filter now"
        if self.num_feasible == 1:
            return f"{self.node} was the only node that passed the filters ({self.num_evaluated} of {self.num_all_nodes} nodes evaluated)"
        if self.total is None or not self.score_plugins:
            return f"{self.node} passed the filters; no Score plugin ranks the {self.num_feasible} feasible nodes"
        i = int(np.flatnonzero(self.feasible_rows == self.chosen_row)[0])
        parts = [f"{p} {int(n[i]) * w}" for p, w, n in zip(self.score_plugins, self.score_weights, self.normalized)]
        text = (f"{self.node} had the highest total score ({int(self.total[i])}) of {self.num_feasible} feasible "
                f"nodes: " + ", ".join(parts))
        if self.ties > 1:
            text += f"; {self.ties - 1} other node(s) tied and one was picked at random"
        return text

    # -- JSON ----------------------------------------------------------------------------------
    def to_json(self) -> dict:
        names = self.names
        rows_out: list[dict] = []
        truncated = False
        feas_order: list[int] = []
        if len(self.feasible_rows):
            if self.total is not None and len(self.total) == len(self.feasible_rows):
                feas_order = np.argsort(-self.total, kind="stable").tolist()
            else:
                feas_order = list(range(len(self.feasible_rows)))
            if self.chosen_row >= 0:
                ci = np.flatnonzero(self.feasible_rows == self.chosen_row)
                if len(ci):
                    c = int(ci[0])
                    feas_order = [c] + [i for i in feas_order if i != c]
        n_rej = len(self.rejected_rows)
        total_rows = len(feas_order) + n_rej
        if total_rows > MAX_ROWS:
            truncated = True
            take_rej = min(n_rej, MAX_ROWS // 2)
            take_feas = min(len(feas_order), MAX_ROWS - take_rej)
            take_rej = min(n_rej, MAX_ROWS - take_feas)
        else:
            take_feas, take_rej = len(feas_order), n_rej
        for i in feas_order[:take_feas]:
            row = int(self.feasible_rows[i])
            scores = {}
            for p, w, raw, norm in zip(self.score_plugins, self.score_weights, self.raw, self.normalized):
                if len(norm) == len(self.feasible_rows):
                    scores[p] = {"raw": int(raw[i]), "normalized": int(norm[i]), "weighted": int(norm[i]) * w}
            total = int(self.total[i]) if self.total is not None and len(self.total) == len(self.feasible_rows) else None
            rows_out.append({"name": names[row], "filter": None, "scores": scores, "total": total,
                             "chosen": row == self.chosen_row})
        for i in range(take_rej):
            s = self.rejected_status(i)
            rows_out.append({"name": names[int(self.rejected_rows[i])], "filter": s.to_json(), "scores": {},
                             "total": None, "chosen": False})
        return {"pod": self.pod, "time": round(self.time, 6), "attempt": self.attempt, "profile": self.profile,
                "result": self.result, "node": self.node, "nominatedNode": self.nominated_node,
                "message": self.message, "why": self.why(),
                "numAllNodes": self.num_all_nodes, "numEvaluated": self.num_evaluated,
                "numFeasible": self.num_feasible,
                "filterPlugins": list(self.filter_plugins),
                "skippedFilterPlugins": list(self.skipped_filter_plugins),
                "prefilter": self.prefilter_status.to_json() if self.prefilter_status is not None else None,
                "scorePlugins": [{"name": p, "weight": w} for p, w in zip(self.score_plugins, self.score_weights)],
                "nodes": rows_out, "truncated": truncated}

    def trace_tables(self, limit: int = 100) -> tuple[dict, dict]:
        """The legacy "schedule" trace event's tables: weighted scores per node (with "total")
        and the reasons per rejected node (both empty past `limit` nodes)."""
        if self.num_all_nodes > limit:
            return {}, {}
        scores: dict[str, dict] = {}
        if self.total is not None and len(self.total) == len(self.feasible_rows):
            for i, row in enumerate(self.feasible_rows.tolist()):
                entry = {p: int(n[i]) * w for p, w, n in zip(self.score_plugins, self.score_weights, self.normalized)}
                entry["total"] = int(self.total[i])
                scores[self.names[row]] = entry
        elif self.chosen_row >= 0:
            scores[self.names[self.chosen_row]] = {"total": 0}
        rejected = {self.names[int(r)]: list(self.rejected_status(i).reasons) for i, r in enumerate(self.rejected_rows.tolist())}
        return scores, rejected


class ExplanationStore:
    """The latest attempt per pod for the `capacity` most recently attempted pods."""

    def __init__(self, capacity: int = 1000):
        self.capacity = capacity
        self.records: OrderedDict[tuple[str, str], AttemptRecord] = OrderedDict()

    def put(self, key: tuple[str, str], record: AttemptRecord) -> None:
        self.records[key] = record
        self.records.move_to_end(key)
        while len(self.records) > self.capacity:
            self.records.popitem(last=False)

    def get(self, key: tuple[str, str]) -> AttemptRecord | None:
        return self.records.get(key)

    def __len__(self) -> int:
        return len(self.records)


def fit_error_message(num_all_nodes: int, record: AttemptRecord) -> str:
    """framework.FitError.Error(): "0/N nodes are available: <PreFilterMsg>. <histogram>.
    <PostFilterMsg>" (reasons counted per node and sorted as strings)."""
    msg = f"0/{num_all_nodes} nodes are available:"
    if record.prefilter_status is not None:
        msg += f" {record.prefilter_status.message()}."
    else:
        counts: Counter = Counter()
        for (reason, _plugin), c in record.reason_histogram().items():
            counts[reason] += c
        parts = sorted(f"{c} {r}" for r, c in counts.items())
        if parts:
            msg += f" {', '.join(parts)}."
    if record.post_filter_message:
        msg += f" {record.post_filter_message}"
    return msg


Decoder = Callable[[int], Status]

"""The lesson player: level-triggered, like a controller.  The current step follows the
cluster's state, not the clicks that led there.

At each `tick()` (the page asks about every second; a test after each advance of virtual time)
the player looks at the current step's `wait` checks against the cluster (sim/scenario.py's
expectations, read from the API server's watch cache, so looking costs no virtual time):

- the checks hold and the player has not acted yet: the student (or anything else) already made
  it so; the step is "passed" and the lesson goes on without running its action;
- the checks hold after the player acted: "done", and the lesson goes on;
- they do not hold: while the lesson plays, the player runs the step's action (`do`) once and
  waits; a step that is a student's `task` never acts on its own: it waits for the student, and
  only `next` (the presenter's "show me") runs its action.

"Goes on" needs the step to be armed: the lesson plays, or `next` ran the step's action, or the
step is a student's task (which moves on as soon as the student has done it, played or not).  A
paused lesson otherwise stays on its step, showing whether its checks hold.

`back`, `goto` and `restart` land on a step that then stays until `play` or `next`, even a
student's task whose checks hold.  `next` is the presenter's one key per step: run the action of a step that has not acted (and
move on once its checks hold), or move on from a step that has.  `back` and `restart` pause
the lesson first (a played lesson would pass a finished step again at once).  While the lesson
plays, a step stays up at least `hold` virtual seconds (8 s unless the file says), so that its
narration can be read even when its checks already hold; a student's task and a step the
presenter moved with `next` go on as soon as they hold.

Everything here runs against a sim.cluster.Cluster and reads only its virtual clock.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from sim.cluster import ClusterError
from sim.lessons.format import Lesson, Step
from sim.scenario import Scenario, ScenarioError

# The actions that write through the Kubernetes API (they need etcd's quorum).
API_WRITES = {"create", "apply", "scale", "delete", "label", "taint"}
# Step states, as the page shows them.
PENDING, ACTIVE, WAITING, DONE, PASSED, SKIPPED, FAILED, STUCK = (
    "pending", "active", "waiting", "done", "passed", "skipped", "failed", "stuck")
STATES = (PENDING, ACTIVE, WAITING, DONE, PASSED, SKIPPED, FAILED, STUCK)


@dataclass
class Check:
    expect: str
    ok: bool
    message: str = ""

    def to_json(self) -> dict:
        return {"expect": self.expect, "ok": self.ok, "message": self.message}


# What a failed action raises; the failure is part of the run (the player shows it).
ACTION_ERRORS = (ScenarioError, ClusterError, ValueError, KeyError, IndexError, TypeError)


def replay_action(cluster, line: str, remembered: dict | None, base_dir) -> None:
    """One action line of a lesson, applied again as the player applied it (a replay of a run
    the lesson acted on): the same verb on the same engine state, "leader" resolved against
    the same remembered leader.  A failure is swallowed as the player's was recorded."""
    scenario = Scenario(cluster, base_dir=base_dir, cached_reads=True)
    scenario.remembered = remembered
    try:
        scenario.step(line)
    except ACTION_ERRORS:
        pass


@dataclass
class Player:
    lesson: Lesson
    cluster: object                       # sim.cluster.Cluster
    index: int = 0
    playing: bool = False
    states: list = field(default_factory=list)
    acted: bool = False                   # the current step's action ran
    armed: bool = False                   # the current step moves on once its checks hold
    stay: bool = False                    # back/goto/restart landed here: stay until play or next
    entered_at: float = 0.0               # virtual time the current step began
    acted_at: float | None = None
    checks: list = field(default_factory=list)
    error: str = ""                       # the last action's failure
    history: list = field(default_factory=list)   # [(virtual time, step index, state)]
    # Told each action line just before it runs, with the etcd leader the lesson remembers
    # (what "leader" words resolve against): the worker journals them, so that a run a lesson
    # acted on replays (cluster/worker/lessons.py, replay_action).
    on_act: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.scenario = Scenario(self.cluster, base_dir=self.lesson.base_dir, cached_reads=True)
        self.states = [PENDING] * len(self.lesson.steps)
        self._enter(0)

    # -- across a restart (cluster/worker/lessons.py) ----------------------------------------
    def checkpoint(self) -> dict:
        """What resumes the lesson where it is after a restart of the server: the step, each
        step's state, whether the current one acted and the leader the lesson remembers.  The
        player is level-triggered: the rest follows from the cluster at the next tick."""
        return {"lesson": self.lesson.id, "steps": len(self.lesson.steps), "index": self.index,
                "playing": self.playing, "states": list(self.states), "acted": self.acted, "armed": self.armed,
                "stay": self.stay, "enteredAt": self.entered_at, "actedAt": self.acted_at,
                "remembered": self.scenario.remembered, "history": [list(h) for h in self.history[-50:]]}

    @classmethod
    def resume(cls, lesson: Lesson, cluster, saved: dict) -> "Player":
        """A player of `lesson` at checkpoint `saved`; ValueError when it is not one of this
        lesson's (the file was edited since: another number of steps, say)."""
        steps = len(lesson.steps)
        index, states = saved.get("index"), saved.get("states")
        if saved.get("lesson") != lesson.id or saved.get("steps") != steps:
            raise ValueError("the checkpoint is of another lesson, or of this one before an edit")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= steps:
            raise ValueError(f"index: {index!r} is not a step")
        if not isinstance(states, list) or len(states) != steps or not set(states) <= set(STATES):
            raise ValueError("states: not one per step")
        player = cls(lesson, cluster)
        player.index, player.states = index, list(states)
        player.playing = saved.get("playing") is True
        player.acted, player.armed, player.stay = (saved.get(k) is True for k in ("acted", "armed", "stay"))
        for attr, key in (("entered_at", "enteredAt"), ("acted_at", "actedAt")):
            value = saved.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                setattr(player, attr, float(value))
        remembered = saved.get("remembered")
        player.scenario.remembered = remembered if isinstance(remembered, dict) else None
        player.history = [tuple(h) for h in saved.get("history") or [] if isinstance(h, list) and len(h) == 3]
        return player

    # -- the presenter's controls ----------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.index >= len(self.lesson.steps)

    @property
    def step(self) -> Step | None:
        return None if self.finished else self.lesson.steps[self.index]

    def play(self) -> None:
        self.playing = True
        self.stay = False
        if self.step is not None and self.states[self.index] in (STUCK, FAILED):
            self.states[self.index] = ACTIVE
            self.error = ""
            self.acted = False       # try the action again
        self.tick()

    def pause(self) -> None:
        self.playing = False

    def next(self) -> None:
        step = self.step
        if step is None:
            return
        self.stay = False
        if self.error:
            self._finish(SKIPPED)    # a step whose action failed: the presenter moves on
            self.tick()
            return
        holds = self._holds(step)
        if not self.acted and step.do and holds is not True:
            self._act(step)          # "show me": act now, move on once the checks hold
            self.armed = True
            if not self.acted:
                return               # the cluster is not up yet: a tick acts once it is
            if self.error:
                return               # the step shows why; another `next` moves on
            if step.wait:
                self.tick()
                return
        if holds is False:
            self._finish(SKIPPED)    # the presenter moves on without waiting
        else:
            self._finish(PASSED if holds and not self.acted else DONE)
        self.tick()

    def back(self) -> None:
        self.playing = False
        self._enter(max(0, self.index - 1))
        self.stay = True

    def restart(self) -> None:
        self.playing = False
        self.scenario.remembered = None
        self.history.clear()
        self._enter(0)
        self.stay = True

    def goto(self, index: int) -> None:
        if not 0 <= index < len(self.lesson.steps):
            raise ValueError(f"step: must be from 1 to {len(self.lesson.steps)}")
        self.playing = False
        self._enter(index)
        self.stay = True

    # -- the level-triggered loop ----------------------------------------------------------
    def tick(self) -> None:
        """Bring the lesson up to date with the cluster: pass, act, wait or move on.  Bounded:
        each step is entered at most once per tick."""
        for _ in range(2 * len(self.lesson.steps) + 2):
            step = self.step
            if step is None or self.states[self.index] == FAILED:
                return
            moves = (self.playing or self.armed or bool(step.task)) and not self.stay
            holds = self._holds(step)
            if holds is True:
                self.states[self.index] = DONE if self.acted else PASSED
                if not moves:
                    return
                if self.playing and not self.armed and not step.task \
                        and self.cluster.now - self.entered_at < step.hold:
                    return   # a played step stays up long enough to be read
                self._finish(DONE if self.acted else PASSED)
                continue
            if holds is None:   # no checks: a narration (and maybe an action)
                if self.armed and step.do and not self.acted:
                    self._act(step)
                    if self.acted and not self.error:
                        self._finish(DONE)
                        continue
                    return
                if self.playing:
                    if step.do and not self.acted:
                        self._act(step)
                        if self.error or not self.acted:
                            return
                    if self.cluster.now - self.entered_at >= step.hold:
                        self._finish(DONE if self.acted else PASSED)
                        continue
                return
            # The checks do not hold yet.
            if (self.armed or (self.playing and not step.task)) and step.do and not self.acted:
                self._act(step)
                if self.error or not self.acted:
                    return
                continue   # look again: the action may have made the checks hold
            started = self.acted_at if self.acted_at is not None else self.entered_at
            if (self.acted or step.task or self.playing) and self.cluster.now - started > step.timeout:
                self.states[self.index] = STUCK
                self.playing = False
            elif self.acted or step.task:
                self.states[self.index] = WAITING
            return

    # -- inside ----------------------------------------------------------------------------
    def _enter(self, index: int) -> None:
        self.index = index
        for i in range(index, len(self.states)):
            self.states[i] = PENDING
        if not self.finished:
            self.states[index] = ACTIVE
        self.acted = self.armed = self.stay = False
        self.acted_at = None
        self.entered_at = self.cluster.now
        self.error = ""
        self.checks = []

    def _finish(self, state: str) -> None:
        if state in (DONE, PASSED) and getattr(self, "_seen", None):
            self.scenario.remembered = self._seen[0]   # what the passing checks saw
        self.states[self.index] = state
        self.history.append((round(self.cluster.now, 3), self.index, state))
        self._enter(self.index + 1)

    def _cluster_ready(self) -> bool:
        """Has the cluster bootstrapped (its `default` namespace exists)?  Until then a lesson
        does not act: a fresh cluster would refuse the pods."""
        try:
            return self.scenario._read({"verb": "get", "resource": "namespaces", "name": "default"})["code"] == 200
        except ScenarioError:
            return False

    def _act(self, step: Step) -> None:
        # kubeadm's steps install the cluster: they are what brings its API up, so they do not
        # wait for it (sim/kubeadm_install.py).
        installing = all(line.split()[0] == "kubeadm" for line in step.do)
        if not installing and not self._cluster_ready():
            return   # not acted: the next tick tries again
        if any(line.split()[0] in API_WRITES for line in step.do) and self.scenario._leader() is None:
            # A write would wait for a commit that cannot come, up to the API server's 60 s
            # timeout, while the engine runs for it: say so instead.
            self.error = "etcd has no leader (no quorum): this step's writes would time out; restore etcd first"
            self.states[self.index] = FAILED
            self.playing = False
            return
        self.acted = True
        self.acted_at = self.cluster.now
        for line in step.do:
            if self.on_act is not None:
                self.on_act(line, self.scenario.remembered)
            try:
                self.scenario.step(line)
            except ACTION_ERRORS as e:
                self.error = f"{line}: {e}"
                self.states[self.index] = FAILED
                self.playing = False
                return
        self.states[self.index] = WAITING if step.wait else ACTIVE

    def _holds(self, step: Step) -> bool | None:
        """Do all of the step's checks hold now?  None for a step without checks.  A check that
        remembers (etcd new-leader remembers the leader it saw) keeps what it saw only when the
        step moves on (_finish), so looking again is the same look."""
        self._seen = None
        if not step.wait:
            self.checks = []
            return None
        remembered = self.scenario.remembered
        checks = []
        for line in step.wait:
            try:
                self.scenario.expect(shlex.split(line))
                checks.append(Check(line, True))
            except ACTION_ERRORS as e:
                checks.append(Check(line, False, str(e)))
        self.checks = checks
        ok = all(c.ok for c in checks)
        if ok:
            self._seen = (self.scenario.remembered,)
        self.scenario.remembered = remembered
        return ok

    def to_json(self) -> dict:
        step = self.step
        return {"lesson": self.lesson.id, "title": self.lesson.title, "index": self.index,
                "stepCount": len(self.lesson.steps), "finished": self.finished, "playing": self.playing,
                "armed": self.armed, "acted": self.acted, "stay": self.stay, "states": list(self.states),
                "state": self.states[self.index] if step else "finished",
                "checks": [c.to_json() for c in self.checks], "error": self.error,
                "time": self.cluster.now, "enteredAt": self.entered_at,
                "history": [{"time": t, "step": i, "state": s} for t, i, s in self.history[-50:]]}

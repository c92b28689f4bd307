"""The lesson file format (docs/lessons.md): one YAML file per lesson under lessons/ at the
repository's root, read and checked here before anything plays it.

    id: etcd-raft                       # optional: the file's name without .yaml
    title: etcd and Raft
    chapter: etcd                       # one of CHAPTERS
    order: 1                            # its place in the chapter (optional)
    summary: What happens when the leader dies, and when quorum is lost.
    cluster:                            # optional: the cluster to start from, as the body of
      seed: 11                          # POST /sim/v1/clusters (sim/clusterconfig.config_from_spec)
      etcd: {members: 3, topology: stacked}
    from: runs/broken-rollout.json      # or (not both): a saved moment to start from, a
                                        # PilothouseRun export under lessons/runs/ (record.py)
    steps:
      - title: Three members, one leader
        narration: |                     # Markdown (a safe subset; HTML is escaped)
          Each control-plane node runs an etcd member ...
        highlight: [etcd, kube-apiserver@cp-1]   # the diagram's data-addr values, node names
        wait: etcd leader                # an `expect` of sim/scenario.py (or a list of them)
      - narration: Kill the leader.
        do: kill-member leader           # a scenario verb the player runs (or a list of them)
        kubectl: kubectl get pods -n kube-system   # a command the student may type (console)
        task: Create it yourself ...     # "wait for the student": play stops here until done
        wait: etcd new-leader
        timeout: 60s                     # virtual time after which the step is "stuck"
        question: {q: Why a higher term?, a: Raft's terms ...}

Actions are the scripted scenario engine's verbs (sim/scenario.py: kill-node, partition,
kill-member leader, create, apply, scale, taint, fault ...) and waits are its `expect` checks,
so a lesson and a scenario test speak one language, checked by one piece of code.
"""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from sim import yamlio as yaml

from sim.durations import parse_duration

LESSONS_DIR = Path(__file__).resolve().parents[2] / "lessons"
# The course's chapters in the order of the LFS158 outline; a lesson names one.
CHAPTERS = {
    "containers": "Containers and microservices",
    "orchestration": "Container orchestration",
    "features": "Kubernetes' features",
    "architecture": "The control plane and a request's path",
    "etcd": "etcd and Raft",
    "worker-node": "The worker node and the CRI",
    "installing": "Installing a cluster",
    "networking": "Networking",
    "workloads": "Pods and workloads",
    "scheduling": "Scheduling",
    "self-healing": "Self-healing",
    "scaling": "Scaling and autoscaling",
    "rollouts": "Rollouts and rollbacks",
    "services": "Services",
    "configuration": "Configuration and secrets",
    "storage": "Storage",
    "batch": "Batch: Jobs and CronJobs",
}
# The scenario verbs a step may `do` on a running cluster: not `cluster` (a lesson's cluster is
# its `cluster:` spec), not `advance` (the clock is the page's), not `expect` (that is `wait`).
ACTION_VERBS = {"kill-node", "restore-node", "add-node", "partition", "heal", "kill-member", "restore-member",
                "label", "taint", "create", "scale", "load", "delete", "apply", "fault", "kill-component", "kubeadm"}
# The checks a step may wait on: every `expect` but `write`, which creates a pod each time it looks.
WAIT_CHECKS_REFUSED = {"write"}
STEP_KEYS = {"title", "narration", "do", "kubectl", "task", "wait", "timeout", "question", "highlight", "hold"}
LESSON_KEYS = {"id", "title", "chapter", "order", "summary", "cluster", "from", "steps"}
# A saved moment is named as `runs/<file>.json`: one bare file name under lessons/runs/, so a
# lesson cannot reach outside that directory (no "..", no sub-directories, no absolute path).
RUN_FILE = re.compile(r"^runs/([A-Za-z0-9][-A-Za-z0-9_.]*\.json)$")
RUNS_DIR = "runs"
ID = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# A highlight names a diagram element: a node (worker-1), a component (kube-scheduler@cp-1,
# etcd, etcd-2), an object (pod/web-1): letters, digits and - . @ / : _ only.
ADDRESS = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9.@/:_]*$")
DEFAULT_TIMEOUT = 600.0   # virtual seconds a step waits before it reports itself stuck
DEFAULT_HOLD = 8.0        # virtual seconds a step stays up at least while the lesson plays
MAX_STEPS = 60
MAX_TEXT = 8000


class LessonError(ValueError):
    """A lesson file that cannot be played; the message names the file and the step."""


@dataclass(frozen=True)
class Step:
    index: int
    title: str = ""
    narration: str = ""
    do: tuple[str, ...] = ()
    kubectl: str = ""
    task: str = ""
    wait: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    question: dict | None = None
    highlight: tuple[str, ...] = ()
    hold: float = DEFAULT_HOLD

    def to_json(self) -> dict:
        return {"index": self.index, "title": self.title, "narration": self.narration, "do": list(self.do),
                "kubectl": self.kubectl, "task": self.task, "wait": list(self.wait), "timeout": self.timeout,
                "question": self.question, "highlight": list(self.highlight), "hold": self.hold}


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    chapter: str
    order: int = 0
    summary: str = ""
    cluster: dict | None = None
    start_from: str | None = None  # `from:` the saved moment's file, "runs/<file>.json"
    steps: tuple[Step, ...] = field(default_factory=tuple)
    base_dir: Path = LESSONS_DIR   # where `apply <file>` finds its manifests

    def run(self) -> dict:
        """The saved moment's export (a PilothouseRun), read again from its file."""
        return _read_run(self.id, self.base_dir, self.start_from)

    def to_json(self, steps: bool = True) -> dict:
        out = {"id": self.id, "title": self.title, "chapter": self.chapter,
               "chapterTitle": CHAPTERS.get(self.chapter, self.chapter), "order": self.order,
               "summary": self.summary, "cluster": self.cluster, "from": self.start_from,
               "stepCount": len(self.steps)}
        if steps:
            out["steps"] = [s.to_json() for s in self.steps]
        return out


def _text(where: str, value, key: str, required: bool = False) -> str:
    if value is None:
        if required:
            raise LessonError(f"{where}: {key}: Required value")
        return ""
    if not isinstance(value, str):
        raise LessonError(f"{where}: {key}: must be text")
    if len(value) > MAX_TEXT:
        raise LessonError(f"{where}: {key}: longer than {MAX_TEXT} characters")
    return value


def _lines(where: str, value, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
        raise LessonError(f"{where}: {key}: must be a line or a list of lines")
    return tuple(i.strip() for i in items)


def _words(where: str, line: str) -> list[str]:
    try:
        words = shlex.split(line)
    except ValueError as e:
        raise LessonError(f"{where}: {line!r}: {e}") from None
    if not words:
        raise LessonError(f"{where}: an empty line")
    return words


def _step(where: str, index: int, raw) -> Step:
    if not isinstance(raw, dict):
        raise LessonError(f"{where}: must be a map of {', '.join(sorted(STEP_KEYS))}")
    unknown = sorted(set(raw) - STEP_KEYS)
    if unknown:
        raise LessonError(f"{where}: unknown field {unknown[0]!r}; known: {', '.join(sorted(STEP_KEYS))}")
    do = _lines(where, raw.get("do"), "do")
    for line in do:
        verb = _words(where, line)[0]
        if verb not in ACTION_VERBS:
            raise LessonError(f"{where}: do: {verb!r} is not an action; use one of {', '.join(sorted(ACTION_VERBS))}")
    wait = tuple(w.removeprefix("expect ").strip() for w in _lines(where, raw.get("wait"), "wait"))
    for line in wait:
        if _words(where, line)[0] in WAIT_CHECKS_REFUSED:
            raise LessonError(f"{where}: wait: 'expect write' creates a pod each time it is checked; "
                              "wait on a state instead (etcd leader, pods ..., a field)")
    kubectl = _text(where, raw.get("kubectl"), "kubectl").strip()
    if kubectl and _words(where, kubectl)[0] != "kubectl":
        raise LessonError(f"{where}: kubectl: must be a kubectl command line (kubectl ...)")
    question = raw.get("question")
    if question is not None:
        if not isinstance(question, dict) or set(question) - {"q", "a"} or not all(
                isinstance(question.get(k), str) and question.get(k) for k in ("q", "a")):
            raise LessonError(f"{where}: question: must be {{q: <question>, a: <answer>}}")
        question = {"q": question["q"], "a": question["a"]}
    highlight = _lines(where, raw.get("highlight"), "highlight")
    for h in highlight:
        if not ADDRESS.match(h):
            raise LessonError(f"{where}: highlight: {h!r} is not a component address (kube-scheduler@cp-1, etcd, worker-1)")
    times = {}
    for key, default in (("timeout", DEFAULT_TIMEOUT), ("hold", DEFAULT_HOLD)):
        try:
            times[key] = parse_duration(raw[key]) if key in raw else default
        except (ValueError, TypeError) as e:
            raise LessonError(f"{where}: {key}: {e}") from None
    step = Step(index=index, title=_text(where, raw.get("title"), "title"),
                narration=_text(where, raw.get("narration"), "narration"), do=do, kubectl=kubectl,
                task=_text(where, raw.get("task"), "task"), wait=wait, question=question, highlight=highlight,
                **times)
    if not (step.narration or step.task or step.do or step.wait):
        raise LessonError(f"{where}: a step needs narration, a task, an action (do) or a wait")
    return step


def _read_run(name: str, base_dir: Path, value) -> dict:
    """The export a lesson's `from:` names, checked as an import would check it; LessonError
    otherwise."""
    m = RUN_FILE.match(value) if isinstance(value, str) else None
    if m is None:
        raise LessonError(f"{name}: from: must be runs/<file>.json, a saved run in the lessons' runs/ directory "
                          f"(a bare file name: no '..' or sub-directory), not {value!r}")
    path = base_dir / RUNS_DIR / m[1]
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise LessonError(f"{name}: from: {value}: no such file (record it: lessons/runs/record.py)") from None
    except (OSError, ValueError) as e:
        raise LessonError(f"{name}: from: {value}: not a JSON file: {e}") from None
    # The import's own check (kind, apiVersion, config, journal, end): one idea, one piece of code.
    from sim.runexport import TimelineError, check_export
    try:
        check_export(doc)
    except TimelineError as e:
        raise LessonError(f"{name}: from: {value}: {e.message}") from None
    return doc


def parse_lesson(text: str, name: str = "lesson", base_dir: Path = LESSONS_DIR) -> Lesson:
    """One lesson from its YAML text; LessonError says what is wrong and where."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise LessonError(f"{name}: not YAML: {e}") from None
    if not isinstance(raw, dict):
        raise LessonError(f"{name}: must be a map with {', '.join(sorted(LESSON_KEYS))}")
    unknown = sorted(set(raw) - LESSON_KEYS)
    if unknown:
        raise LessonError(f"{name}: unknown field {unknown[0]!r}; known: {', '.join(sorted(LESSON_KEYS))}")
    lesson_id = raw.get("id", name)
    if not isinstance(lesson_id, str) or not ID.match(lesson_id):
        raise LessonError(f"{name}: id: must be lower-case letters, digits and '-'")
    chapter = raw.get("chapter")
    if chapter not in CHAPTERS:
        raise LessonError(f"{name}: chapter: must be one of {', '.join(CHAPTERS)}")
    order = raw.get("order", 0)
    if isinstance(order, bool) or not isinstance(order, int):
        raise LessonError(f"{name}: order: must be an integer")
    cluster = raw.get("cluster")
    if cluster is not None:
        if not isinstance(cluster, dict) or "name" in cluster:
            raise LessonError(f"{name}: cluster: must be a cluster spec without a name (POST /sim/v1/clusters' body)")
        from sim.clusterconfig import ConfigError, config_from_spec
        try:
            config_from_spec(cluster)
        except ConfigError as e:
            raise LessonError(f"{name}: cluster: {e}") from None
    start_from = raw.get("from")
    if start_from is not None:
        if cluster is not None:
            raise LessonError(f"{name}: give cluster or from, not both: a saved moment brings its own cluster")
        _read_run(name, base_dir, start_from)
    steps = raw.get("steps")
    if not isinstance(steps, list) or not steps:
        raise LessonError(f"{name}: steps: Required value (a list of steps)")
    if len(steps) > MAX_STEPS:
        raise LessonError(f"{name}: steps: at most {MAX_STEPS}")
    return Lesson(id=lesson_id, title=_text(name, raw.get("title"), "title", required=True), chapter=chapter,
                  order=order, summary=_text(name, raw.get("summary"), "summary"), cluster=cluster,
                  start_from=start_from,
                  steps=tuple(_step(f"{name}: step {i + 1}", i, s) for i, s in enumerate(steps)),
                  base_dir=base_dir)


def load_lessons(directory: Path = LESSONS_DIR) -> dict[str, Lesson]:
    """Every lesson of the directory (*.yaml), in course order: by chapter, then order, then id."""
    lessons = []
    for path in sorted(directory.glob("*.yaml")):
        lessons.append(parse_lesson(path.read_text(), path.stem, base_dir=directory))
    chapters = list(CHAPTERS)
    lessons.sort(key=lambda l: (chapters.index(l.chapter), l.order, l.id))
    ids = [l.id for l in lessons]
    dup = next((i for i in ids if ids.count(i) > 1), None)
    if dup:
        raise LessonError(f"two lessons have the id {dup!r}")
    return {l.id: l for l in lessons}

"""Lessons in the engine: every shipped lesson plays to its end with its checks passing (virtual
time, a second at a time), and the player is level-triggered: a step the student did already is
passed without its action; back, restart and next do what the panel's buttons say."""
from __future__ import annotations

import pytest

from cluster.console.commandline import refusal, split
from sim.cluster import Cluster
from sim.clusterconfig import config_from_spec
from sim.lessons import LessonError, Player, load_lessons, parse_lesson
from sim.lessons.player import ACTIVE, DONE, PASSED, SKIPPED, WAITING
from sim.scenario import Scenario
from tests.lessons.runner import play_to_end

LESSONS = load_lessons()


@pytest.mark.parametrize("lesson_id", list(LESSONS))
def test_every_lesson_plays_to_its_end(lesson_id):
    lesson = LESSONS[lesson_id]
    player = play_to_end(lesson)
    assert player.finished
    # Every step ended as done (the player acted) or passed (it already held): none skipped.
    assert [s for _, _, s in player.history] == [s for s in player.states]
    assert set(player.states) <= {DONE, PASSED}, player.states


def test_the_lessons_cover_the_chapters_the_engine_can_show():
    assert {l.chapter for l in LESSONS.values()} == {
        "containers", "orchestration", "features", "architecture", "etcd", "worker-node", "installing",
        "networking", "workloads", "scheduling", "self-healing", "scaling", "rollouts", "services",
        "configuration", "storage", "batch"}


@pytest.mark.parametrize("lesson_id", list(LESSONS))
def test_every_kubectl_line_runs_in_the_console(lesson_id):
    """What a step asks the student to type is a command the page's console accepts."""
    for step in LESSONS[lesson_id].steps:
        if step.kubectl:
            assert refusal(split(step.kubectl)) is None, (lesson_id, step.index, step.kubectl)


SMALL = {"seed": 1, "etcd": {"members": 1}, "nodes": [{"name": "cp-1", "role": "control-plane"}, {"name": "worker-1"}]}

LESSON = """
title: A test lesson
chapter: architecture
steps:
  - narration: Create the pod yourself, or press n.
    task: Run `kubectl run web --image=nginx`.
    do: create pod web image=nginx
    wait: pod web Running
  - narration: Then the player makes a ReplicaSet.
    do: create replicaset hello replicas=2 image=nginx
    wait: pods app=hello phase=Running count=2
  - narration: The end.
"""




def _cluster() -> Cluster:
    c = Cluster("lesson-test", config_from_spec(SMALL))
    c.advance(15)
    return c


def _pods(c: Cluster, selector: str | None = None) -> list[str]:
    q = {"labelSelector": selector} if selector else {}
    return [p["metadata"]["name"] for p in c.request({"verb": "list", "resource": "pods", "namespace": "default",
                                                       "query": q})["body"]["items"]]


def test_a_student_who_does_the_task_passes_the_step_without_its_action():
    c = _cluster()
    player = Player(parse_lesson(LESSON, "t"), c)
    assert player.states[0] == ACTIVE and not player.playing
    # The student types it in the console (here: the same request through the API).
    Scenario(c).step("create pod web image=nginx")
    for _ in range(30):
        c.advance(1)
        player.tick()
        if player.index == 1:
            break
    assert player.index == 1 and player.states[0] == PASSED
    assert _pods(c) == ["web"]     # the player did not create a second one
    assert not player.acted         # ... nor anything for the next step: it is paused


def test_a_played_step_that_already_holds_is_passed_and_its_action_not_run():
    c = _cluster()
    Scenario(c).step("create replicaset hello replicas=2 image=nginx")
    lesson = parse_lesson(LESSON, "t")
    player = Player(lesson, c)
    player.goto(1)
    c.advance(15)
    player.play()
    for _ in range(20):
        c.advance(1)
        player.tick()
    assert player.states[1] == PASSED
    assert sorted(_pods(c, "app=hello")).__len__() == 2   # not a second ReplicaSet's pods


def test_next_runs_the_action_then_moves_on_once_the_checks_hold():
    c = _cluster()
    player = Player(parse_lesson(LESSON, "t"), c)
    player.next()                              # "show me" on the student's task
    assert player.acted and player.index == 0 and player.states[0] == WAITING
    for _ in range(30):
        c.advance(1)
        player.tick()
        if player.index == 1:
            break
    assert player.states[0] == DONE and player.index == 1
    assert not player.acted                    # paused: step 2 waits for the presenter
    player.next()
    assert player.acted
    player.next()                              # impatient: move on without waiting
    assert player.states[1] == SKIPPED and player.index == 2


def test_back_and_restart_pause_and_return():
    c = _cluster()
    player = Player(parse_lesson(LESSON, "t"), c)
    player.next()
    for _ in range(30):
        c.advance(1)
        player.tick()
        if player.index == 1:
            break
    player.play()
    player.back()
    assert not player.playing and player.index == 0 and player.states[:2] == [ACTIVE, "pending"]
    player.tick()
    assert player.states[0] == PASSED and player.index == 0   # holds, shown, but paused: stays
    player.restart()
    assert player.index == 0 and player.history == [] and not player.acted


def test_an_action_that_fails_pauses_the_lesson_with_its_error():
    c = _cluster()
    lesson = parse_lesson("title: x\nchapter: etcd\nsteps:\n  - do: kill-node nowhere\n    wait: pod web Running\n", "t")
    player = Player(lesson, c)
    player.next()
    assert player.states[0] == "failed" and "nowhere" in player.error and not player.playing
    player.next()                  # the presenter moves on past it
    assert player.states[0] == SKIPPED and player.index == 1 and player.finished and player.error == ""


@pytest.mark.parametrize("text,message", [
    ("title: x\nchapter: nope\nsteps: [{narration: a}]", "chapter: must be one of"),
    ("title: x\nchapter: etcd\nsteps: [{narration: a, colour: red}]", "unknown field 'colour'"),
    ("title: x\nchapter: etcd\nsteps: [{do: advance 10s}]", "'advance' is not an action"),
    ("title: x\nchapter: etcd\nsteps: [{wait: write succeeds}]", "expect write"),
    ("title: x\nchapter: etcd\nsteps: [{narration: a, highlight: ['<script>']}]", "is not a component address"),
    ("title: x\nchapter: etcd\nsteps: [{narration: a, kubectl: rm -rf /}]", "must be a kubectl command line"),
    ("title: x\nchapter: etcd\ncluster: {etcd: {members: 2}}\nsteps: [{narration: a}]", "etcd.members"),
    ("title: x\nchapter: etcd\nsteps: []", "steps: Required value"),
    ("title: x\nchapter: etcd\nsteps: [{question: {q: why}}]", "question: must be"),
    ("title: [", "not YAML"),
])
def test_a_bad_lesson_file_is_refused_with_a_reason(text, message):
    with pytest.raises(LessonError) as e:
        parse_lesson(text, "bad")
    assert message in str(e.value)


def test_a_write_without_an_etcd_quorum_is_refused_before_it_runs():
    """Without a leader a write would wait out the API server's timeout while the engine runs
    for it; the player says why instead, and no virtual time passes."""
    c = _cluster()
    leader = next(m["name"] for m in c.etcd_status() if m["role"] == "leader")
    c.kill_etcd_member(leader)
    player = Player(parse_lesson(LESSON, "t"), c)
    before = c.now
    player.next()
    assert player.states[0] == "failed" and "no quorum" in player.error and c.now == before


# -- a lesson that starts from a saved moment (`from:`) ------------------------------------------

FROM = "title: x\nchapter: self-healing\n{extra}steps: [{{narration: a}}]\n"


@pytest.fixture
def runs_dir(tmp_path):
    """A lessons directory whose runs/ holds the shipped run, a JSON file that is not a run,
    and a file that is not JSON; a run beside the directory, for `..` to reach."""
    import shutil
    from sim.lessons.format import LESSONS_DIR
    lessons = tmp_path / "lessons"
    (lessons / "runs").mkdir(parents=True)
    shutil.copy(LESSONS_DIR / "runs" / "troubleshooting.json", lessons / "runs" / "good.json")
    shutil.copy(LESSONS_DIR / "runs" / "troubleshooting.json", tmp_path / "outside.json")
    (lessons / "runs" / "notarun.json").write_text('{"kind": "Pod", "apiVersion": "v1"}')
    (lessons / "runs" / "notjson.json").write_text("kind: PilothouseRun")
    return lessons


def test_a_lesson_from_a_saved_moment_names_its_run(runs_dir):
    lesson = parse_lesson(FROM.format(extra="from: runs/good.json\n"), "ok", base_dir=runs_dir)
    assert lesson.start_from == "runs/good.json" and lesson.cluster is None
    assert lesson.to_json(steps=False)["from"] == "runs/good.json"
    assert lesson.run()["kind"] == "PilothouseRun"


@pytest.mark.parametrize("extra,message", [
    ("from: runs/missing.json\n", "runs/missing.json: no such file"),
    ("from: runs/../outside.json\n", "a bare file name"),
    ("from: ../outside.json\n", "must be runs/<file>.json"),
    ("from: /etc/passwd\n", "must be runs/<file>.json"),
    ("from: runs/sub/good.json\n", "a bare file name"),
    ("from: [runs/good.json]\n", "must be runs/<file>.json"),
    ("from: runs/notarun.json\n", 'kind must be "PilothouseRun" and apiVersion "pilothouse.dev/v1alpha1"'),
    ("from: runs/notjson.json\n", "not a JSON file"),
    ("from: runs/good.json\ncluster: {seed: 2}\n", "give cluster or from, not both"),
])
def test_a_bad_saved_moment_is_refused_with_a_reason(runs_dir, extra, message):
    with pytest.raises(LessonError) as e:
        parse_lesson(FROM.format(extra=extra), "bad", base_dir=runs_dir)
    assert message in str(e.value)


def test_the_troubleshooting_lesson_starts_in_trouble():
    """Its saved moment, imported as the page imports it, is the trouble the first steps
    narrate: worker-2 not Ready, the rollout's pod that cannot pull its image."""
    from tests.lessons.runner import cluster_for
    lesson = LESSONS["troubleshooting"]
    assert lesson.start_from == "runs/troubleshooting.json"
    c = cluster_for(lesson)
    run = lesson.run()
    assert c.now == pytest.approx(run["end"]["time"], abs=0.5)
    s = Scenario(c, cached_reads=True)
    s.step("expect node worker-2 Ready=Unknown")
    s.step("expect pods app=web phase=Pending count=1")
    s.step("expect deployment web .spec.template.spec.containers[0].image=nginx:1.99-typo")


def test_the_recipe_still_records_its_moment():
    """lessons/runs/record.py makes the run again from its recipe (its `expect` lines hold with
    this engine), journaled in the worker's words, without the cluster's secrets."""
    import importlib.util
    from sim.lessons.format import LESSONS_DIR
    spec = importlib.util.spec_from_file_location("record_run", LESSONS_DIR / "runs" / "record.py")
    record = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(record)
    export = record.record("troubleshooting")
    assert export["kind"] == "PilothouseRun" and export["end"]["time"] <= 120.5
    assert [e["op"] for e in export["journal"] if e["op"] != "api"] == ["node.kill"]
    assert "credentials" not in export["config"] and "start_unix_time" not in export["config"]

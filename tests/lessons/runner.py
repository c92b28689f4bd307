"""Play a lesson to its end in the engine, as a presenter who presses play (and `n` at a
student's task, the "show me"), with virtual time advancing a second at a time."""
from __future__ import annotations

import asyncio

from sim.cluster import Cluster
from sim.clusterconfig import config_from_spec
from sim.lessons import Lesson, Player
from sim.lessons.player import FAILED, STUCK


def cluster_for(lesson: Lesson) -> Cluster:
    if lesson.start_from:
        return imported(lesson)
    return Cluster(f"lesson-{lesson.id}", config_from_spec(lesson.cluster or {}))


def imported(lesson: Lesson) -> Cluster:
    """The engine of a lesson's saved moment, as "Start in a new cluster" makes it: the import's
    own replay (cluster/worker/timeline.replay with the worker's _apply_entry), loose
    ("exact": false), into a cluster built from the run's configuration."""
    from cluster.worker.commands import _apply_entry
    from cluster.worker.running import RunningCluster
    from cluster.worker.timeline import Timeline, check_export, replay
    from sim.cluster import ClusterConfig

    config, journal, end = check_export(lesson.run())
    name = f"lesson-{lesson.id}"
    rc = RunningCluster(name, Cluster(name, ClusterConfig.from_json(config)))
    rc.timeline = Timeline(config)
    asyncio.run(replay(rc, journal, (end["time"], end["events"]), _apply_entry, exact=False))
    return rc.engine


def play_to_end(lesson: Lesson, cluster: Cluster | None = None, tick: float = 1.0) -> Player:
    cluster = cluster or cluster_for(lesson)
    player = Player(lesson, cluster)
    player.play()
    budget = sum(s.timeout if s.wait else s.hold for s in lesson.steps) + 60
    start = cluster.now
    while not player.finished:
        step = player.step
        state = player.states[player.index]
        assert state not in (FAILED, STUCK), (
            f"{lesson.id} step {player.index + 1} ({step.title or step.wait}) is {state}: "
            f"{player.error or [c.to_json() for c in player.checks if not c.ok]}")
        assert cluster.now - start < budget, f"{lesson.id} did not finish within {budget:g}s of virtual time"
        if step.task and not player.acted:
            player.next()    # the presenter's "show me" at a student's task
        cluster.advance(tick)
        player.tick()
    return player

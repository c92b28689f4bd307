"""The worker's `lesson` command: the lesson player (sim/lessons/player.py) of each running
cluster lives here, beside the engine it reads, and is ticked whenever the page asks.

    {"action": "get"}                                  tick, then the player's state
    {"action": "start", "lesson": "<id>"}              a new player at step 1, paused
    {"action": "start", "lesson": "<id>", "moment": true}   the same, on the cluster just imported
                                                       from the lesson's saved moment
    {"action": "play" | "pause" | "next" | "back" | "restart" | "stop"}
    {"action": "goto", "step": <1-based index>}

The answer: {"player": Player.to_json() | None}.  A player belongs to one engine: after a reset
(a new engine) the cluster has no lesson until one is started again.  Each frame's write keeps
the player's checkpoint (`checkpoint_of`), and a restart of the worker resumes it (`resume`).
"""
from __future__ import annotations

import functools
import logging
from pathlib import Path

from cluster.worker.running import RunningCluster
from sim.lessons import LESSONS_DIR, LessonError, Player, load_lessons
from sim.lessons.player import replay_action

ACTIONS = ("get", "start", "play", "pause", "next", "back", "restart", "stop", "goto")

_players: dict[str, Player] = {}
log = logging.getLogger("cluster.worker")


@functools.lru_cache(maxsize=4)
def _lessons(directory: Path, stamp: tuple) -> dict:
    return load_lessons(directory)


def lessons(directory: Path = LESSONS_DIR) -> dict:
    """The lesson files, read again when one of them changes (a teacher editing a lesson)."""
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in directory.glob("*.yaml")))
    return _lessons(directory, stamp)


def player_for(rc: RunningCluster) -> Player | None:
    player = _players.get(rc.name)
    if player is not None and player.cluster is not rc.engine:
        del _players[rc.name]   # the cluster was reset or restored: a new engine
        return None
    return player


def checkpoint_of(rc: RunningCluster) -> dict:
    """The cluster's lesson as persisted (Player.checkpoint()); {} when none plays."""
    player = player_for(rc)
    return player.checkpoint() if player is not None else {}


def resume(rc: RunningCluster, saved: dict | None) -> None:
    """After a restart: the lesson `saved` plays on at the step it was on, if the file still
    has it as it was (a lesson edited since starts again from the page)."""
    if not isinstance(saved, dict) or not saved:
        return
    try:
        lesson = lessons().get(saved.get("lesson"))
        if lesson is None:
            raise ValueError(f"lesson {saved.get('lesson')!r} is not among the lessons any more")
        player = Player.resume(lesson, rc.engine, saved)
    except (LessonError, OSError, ValueError, TypeError) as e:
        log.warning("cluster %s: the lesson it played is not resumed: %s", rc.name, e)
        return
    player.on_act = functools.partial(_journal_action, rc)
    _players[rc.name] = player


# The journal's op for one action line a lesson ran (cluster/worker/timeline.py): the `lesson`
# command itself is not journaled, since a replay has no player to give it to.
ACTION_OP = "lesson.do"


def _journal_action(rc: RunningCluster, line: str, remembered: dict | None) -> None:
    from cluster.worker import timeline
    rc.timeline.note(timeline.point(rc.engine), ACTION_OP, {"line": line, "remembered": remembered})


def replay_entry(rc: RunningCluster, args: dict) -> None:
    """A journaled lesson action, applied to a replaying engine (lessons' manifests from this
    checkout's lessons/ directory)."""
    line, remembered = args.get("line"), args.get("remembered")
    if not isinstance(line, str) or not line.strip() or not isinstance(remembered, (dict, type(None))):
        from cluster.worker.commands import CommandError
        raise CommandError("Invalid", f"a {ACTION_OP} journal entry needs a line and a remembered leader or null")
    replay_action(rc.engine, line, remembered, LESSONS_DIR)


def lesson(worker, rc: RunningCluster, args: dict) -> dict:
    from cluster.worker.commands import CommandError
    action = args.get("action", "get")
    if action not in ACTIONS:
        raise CommandError("BadRequest", f"action: Unsupported value: {action!r}: supported values: "
                                         + ", ".join(f'"{a}"' for a in ACTIONS))
    engine = rc.engine
    before = engine.now
    if action == "start":
        lesson_id = args.get("lesson")
        if not isinstance(lesson_id, str) or not lesson_id:
            raise CommandError("BadRequest", "lesson: Required value")
        try:
            known = lessons()
        except (LessonError, OSError) as e:
            raise CommandError("BadRequest", f"the lessons cannot be read: {e}") from None
        if lesson_id not in known:
            raise CommandError("NotFound", f'lesson "{lesson_id}" not found')
        if known[lesson_id].start_from and args.get("moment") is not True:
            # Its first step is a saved moment: this cluster cannot be rewound to it.  Only the
            # creation of a cluster from that moment (cluster/api/lessonviews.py) says `moment`.
            raise CommandError("Conflict", f'lesson "{lesson_id}" starts from a saved moment '
                                           f'({known[lesson_id].start_from}): start it in a new cluster, '
                                           "which is made at that moment")
        _players[rc.name] = player = Player(known[lesson_id], engine)
        player.on_act = functools.partial(_journal_action, rc)
        player.tick()
    else:
        player = player_for(rc)
        if action == "stop":
            _players.pop(rc.name, None)
            player = None
        elif player is None:
            if action != "get":
                raise CommandError("Conflict", f'no lesson is playing on cluster "{rc.name}": start one first')
        elif action == "get":
            player.tick()
        elif action == "goto":
            step = args.get("step")
            if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= len(player.lesson.steps):
                raise CommandError("BadRequest", f"step: must be an integer from 1 to {len(player.lesson.steps)}")
            player.goto(step - 1)
            player.tick()
        else:
            getattr(player, action)()
    if engine.now != before:
        rc.reanchor()   # an action's requests ran the engine ahead: the clock goes on from there
    return {"player": player.to_json() if player is not None else None}

"""The lessons' control API (docs/lessons.md), JSON like the rest of /sim/v1; errors are
Kubernetes Status objects (with the control API's "error" object too, as simcontrol does).

    GET  /clusters/<name>/sim/v1/lessons          -> {"kind": "LessonList", "chapters": [{"name",
                                                     "title", "lessons": [{"id", "title", ...}]}]}
    GET  /clusters/<name>/sim/v1/lessons/<id>     -> the lesson, its steps' text rendered ("html")
    GET  /clusters/<name>/sim/v1/lesson           -> {"player": state | null, "step": current step}
                                                     (looking ticks the level-triggered player)
    POST /clusters/<name>/sim/v1/lesson           {"start": "<id>"} | {"action": "play" | "pause" |
                                                     "next" | "back" | "restart" | "stop"} |
                                                     {"action": "goto", "step": 3}
    POST /sim/v1/clusters                         {"name", "lesson": "<id>"}: a new cluster made
                                                     as the lesson wants it, the lesson started
                                                     (create_for_lesson, from simcontrol.clusters)

Narration, tasks, questions and answers are rendered from a safe Markdown subset
(cluster/dashboard/markdown.py: escaped first), so a lesson's text can never become markup.
"""
from __future__ import annotations

from django.http import JsonResponse

from cluster import services
from cluster.api.simcontrol import _json_body, control
from cluster.dashboard.markdown import render
from cluster.worker.lessons import lessons as load
from sim.lessons import CHAPTERS, LessonError

POST_KEYS = {"start", "action", "step"}


def _lessons() -> dict:
    try:
        return load()
    except (LessonError, OSError) as e:
        raise services.SimulationError(f"the lessons cannot be read: {e}") from None


def step_json(step) -> dict:
    out = step.to_json()
    out["html"] = {"narration": render(step.narration), "task": render(step.task)}
    if step.question:
        out["html"]["question"] = render(step.question["q"])
        out["html"]["answer"] = render(step.question["a"])
    return out


def lesson_json(lesson) -> dict:
    out = lesson.to_json(steps=False)
    out["steps"] = [step_json(s) for s in lesson.steps]
    return out


@control("GET")
async def lesson_list(request, cluster: str):
    by_chapter: dict[str, list] = {}
    for lesson in _lessons().values():
        by_chapter.setdefault(lesson.chapter, []).append(lesson.to_json(steps=False))
    chapters = [{"name": name, "title": title, "lessons": by_chapter[name]}
                for name, title in CHAPTERS.items() if name in by_chapter]
    return JsonResponse({"kind": "LessonList", "apiVersion": "pilothouse/v1", "chapters": chapters})


@control("GET")
async def lesson_detail(request, cluster: str, lesson: str):
    found = _lessons().get(lesson)
    if found is None:
        raise services.NotFound(f'lesson "{lesson}" not found')
    return JsonResponse(lesson_json(found))


def _with_step(result: dict) -> dict:
    player = result.get("player")
    if player and not player["finished"]:
        found = _lessons().get(player["lesson"])
        if found is not None and player["index"] < len(found.steps):
            result["step"] = step_json(found.steps[player["index"]])
    return result


@control("GET, POST")
async def player(request, cluster: str):
    if request.method == "GET":
        return JsonResponse(_with_step(await services.lesson(cluster, "get")))
    body = _json_body(request)
    unknown = sorted(set(body) - POST_KEYS)
    if unknown:
        raise services.BadCommand(f'unknown field "{unknown[0]}"; use start, or action (and step for goto)')
    if "start" in body:
        if not isinstance(body["start"], str) or not body["start"]:
            raise services.BadCommand("start: must be a lesson's id")
        result = await services.lesson(cluster, "start", lesson=body["start"])
    elif "action" in body:
        action = body["action"]
        if not isinstance(action, str) or action in ("get", "start"):
            raise services.BadCommand('action: must be "play", "pause", "next", "back", "restart", "stop" or "goto"')
        args = {"step": body["step"]} if "step" in body else {}
        result = await services.lesson(cluster, action, **args)
    else:
        raise services.BadCommand('give "start": <lesson id> or "action": play | pause | next | back | restart | stop')
    return JsonResponse(_with_step(result))


async def create_for_lesson(name: str, body: dict) -> JsonResponse:
    """POST /sim/v1/clusters {"name", "lesson": "<id>"}: the cluster the lesson wants — created
    from its `cluster:` spec, or, for a lesson that starts from a saved moment (`from:`), its
    run imported from the server's own file (the browser need not carry it) and left paused at
    that moment — then the lesson started there.  The same rules as any creation: this is
    POST /sim/v1/clusters, which anyone who may create a cluster may call.
    -> 201 {"cluster", "time", ..., "lesson": "<id>", "player": {...}}"""
    unknown = sorted(set(body) - {"name", "lesson"})
    if unknown:
        raise services.BadCommand(f'unknown field "{unknown[0]}" beside lesson: the lesson says how its cluster is made')
    lesson_id = body["lesson"]
    if not isinstance(lesson_id, str) or not lesson_id:
        raise services.BadCommand("lesson: must be a lesson's id")
    found = _lessons().get(lesson_id)
    if found is None:
        raise services.NotFound(f'lesson "{lesson_id}" not found')
    if found.start_from:
        try:
            run = found.run()
        except LessonError as e:
            raise services.SimulationError(str(e)) from None
        # Loose ("exact": false): the file was recorded by some version of the engine, and the
        # lesson must still start after the engine changes (docs/timeline.md).
        created = await services.import_run(name, run, paused=True, exact=False)
    else:
        spec = dict(found.cluster or {})
        created = await services.create_cluster(name, seed=spec.pop("seed", 1), nodes=spec.pop("nodes", None), **spec)
    started = await services.lesson(name, "start", lesson=lesson_id, moment=True)
    return JsonResponse({**created, "lesson": lesson_id, **started}, status=201)

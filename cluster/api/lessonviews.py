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

Narration, tasks, questions and answers are rendered from a safe Markdown subset
(cluster/dashboard/markdown.py: escaped first), so a lesson's text can never become markup.
"""
from __future__ import annotations

from django.http import JsonResponse

from cluster import services
from cluster.api.simcontrol import _json_body, _status_from, control
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


@control("GET", errors=_status_from)
async def lesson_list(request, cluster: str):
    by_chapter: dict[str, list] = {}
    for lesson in _lessons().values():
        by_chapter.setdefault(lesson.chapter, []).append(lesson.to_json(steps=False))
    chapters = [{"name": name, "title": title, "lessons": by_chapter[name]}
                for name, title in CHAPTERS.items() if name in by_chapter]
    return JsonResponse({"kind": "LessonList", "apiVersion": "pilothouse/v1", "chapters": chapters})


@control("GET", errors=_status_from)
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


@control("GET, POST", errors=_status_from)
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

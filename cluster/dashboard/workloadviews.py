"""The Workloads view's actions (htmx posts): each calls one service of cluster/workloads.py,
which talks to the cluster's Kubernetes API as the kubectl command of the same name does, and
answers a result fragment (templates/dashboard/_wl_result.html): the outcome's lines, or the
API's Status message and its causes, with the API's status code."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from cluster import services, workloads
from cluster.dashboard import forms, workloadforms
from cluster.dashboard.objectviews import visitor_credentials
from cluster.workloads import Outcome


def _lines(o: Outcome) -> list[dict]:
    """An outcome as lines to show: its message line by line; an invalid object's Status as its
    first words ("Deployment.apps "web" is invalid:") with one line per cause under it."""
    text = str(o.message)
    causes = [c for c in o.causes if c.get("message")]
    if causes and " is invalid: " in text:
        head = text.split(" is invalid: ", 1)[0] + " is invalid:"
        return [{"text": head, "ok": o.ok, "causes": causes}]
    return [{"text": line, "ok": o.ok, "causes": []} for line in text.split("\n")]


def _show(request: HttpRequest, outcome: Outcome | list[Outcome], element_id: str | None = None,
          template: str = "dashboard/_wl_result.html", **extra: Any) -> HttpResponse:
    outcomes = outcome if isinstance(outcome, list) else [outcome]
    ok = all(o.ok for o in outcomes)
    worst = next((o for o in outcomes if not o.ok), outcomes[0])
    status = 200 if ok else (worst.code if 400 <= worst.code < 600 else 500)
    return render(request, template, {"ok": ok, "lines": [line for o in outcomes for line in _lines(o)],
                                      "code": None if ok else status, "reason": None if ok else worst.reason,
                                      "element_id": element_id, **extra},
                  status=status)


def _target(data) -> tuple[str, str, str]:
    return (str(data.get("kind", "")).strip(), forms.namespace_of(data), str(data.get("name", "")).strip())


def _picked(request: HttpRequest) -> tuple[str, str, str] | HttpResponse:
    kind, ns, name = _target(request.POST)
    if not kind or not name:
        return _show(request, Outcome.bad("pick a workload (click one in the view) first"), "wl-action-result")
    return kind, ns, name


async def _guard(request: HttpRequest, coro, element_id: str) -> HttpResponse:
    try:
        outcome = await coro
    except services.SimulationError as e:
        outcome = Outcome(False, e.message, e.status, e.reason)
    return _show(request, outcome, element_id)


@require_POST
async def create(request: HttpRequest, name: str) -> HttpResponse:
    try:
        _, manifest = workloadforms.workload_from(request.POST)
    except forms.FormError as e:
        return _show(request, Outcome.bad(str(e)), "wl-create-result")
    return await _guard(request, workloads.create(name, manifest), "wl-create-result")


@require_POST
async def create_yaml(request: HttpRequest, name: str) -> HttpResponse:
    text = str(request.POST.get("yaml", ""))
    try:
        outcomes = await workloads.create_from_yaml(name, text, forms.namespace_of(request.POST))
    except services.SimulationError as e:
        outcomes = [Outcome(False, e.message, e.status, e.reason)]
    return _show(request, outcomes, "wl-yaml-result")


@require_POST
async def scale(request: HttpRequest, name: str) -> HttpResponse:
    picked = _picked(request)
    if isinstance(picked, HttpResponse):
        return picked
    raw = str(request.POST.get("replicas", "")).strip()
    try:
        replicas = int(raw)
    except ValueError:
        return _show(request, Outcome.bad(f'replicas: "{raw}" is not a whole number'), "wl-action-result")
    return await _guard(request, workloads.scale(name, *picked, replicas), "wl-action-result")


@require_POST
async def set_image(request: HttpRequest, name: str) -> HttpResponse:
    picked = _picked(request)
    if isinstance(picked, HttpResponse):
        return picked
    return await _guard(request, workloads.set_image(name, *picked, str(request.POST.get("container", "")).strip(),
                                                     str(request.POST.get("image", "")).strip()), "wl-action-result")


@require_POST
async def rollback(request: HttpRequest, name: str) -> HttpResponse:
    picked = _picked(request)
    if isinstance(picked, HttpResponse):
        return picked
    kind, ns, obj = picked
    raw = str(request.POST.get("revision", "")).strip() or "0"
    try:
        revision = int(raw)
    except ValueError:
        return _show(request, Outcome.bad(f'revision: "{raw}" is not a whole number'), "wl-action-result")
    return await _guard(request, workloads.rollback(name, kind, ns, obj, revision), "wl-action-result")


def _paused(paused: bool):
    @require_POST
    async def view(request: HttpRequest, name: str) -> HttpResponse:
        picked = _picked(request)
        if isinstance(picked, HttpResponse):
            return picked
        return await _guard(request, workloads.set_paused(name, *picked, paused), "wl-action-result")
    return view


pause = _paused(True)
resume = _paused(False)


@require_POST
async def restart(request: HttpRequest, name: str) -> HttpResponse:
    picked = _picked(request)
    if isinstance(picked, HttpResponse):
        return picked
    return await _guard(request, workloads.restart(name, *picked), "wl-action-result")


@require_POST
async def delete(request: HttpRequest, name: str) -> HttpResponse:
    picked = _picked(request)
    if isinstance(picked, HttpResponse):
        return picked
    return await _guard(request, workloads.delete(name, *picked, str(request.POST.get("cascade", "Background"))),
                        "wl-action-result")


@require_POST
async def load(request: HttpRequest, name: str) -> HttpResponse:
    picked = _picked(request)
    if isinstance(picked, HttpResponse):
        return picked
    kind, ns, workload = picked
    raw = str(request.POST.get("rps", "")).strip()
    try:
        rps = float(raw)
    except ValueError:
        return _show(request, Outcome.bad(f'load: "{raw}" is not a number of requests per second'), "wl-action-result")
    return await _guard(request, workloads.set_load(name, ns, kind, workload, rps), "wl-action-result")


def _node_action(which: str):
    @require_POST
    async def view(request: HttpRequest, name: str) -> HttpResponse:
        node = str(request.POST.get("node", "")).strip()
        def flag(field: str) -> bool:  # an unchecked box sends nothing
            return str(request.POST.get(field, "")).lower() in ("on", "true", "1")
        if which == "drain":
            coro = workloads.drain(name, node, ignore_daemonsets=flag("ignore_daemonsets"),
                                   delete_emptydir_data=flag("delete_emptydir_data"), force=flag("force"))
        else:
            coro = workloads.cordon(name, node, which == "cordon")
        return await _guard(request, coro, "wl-node-result")
    return view


cordon = _node_action("cordon")
uncordon = _node_action("uncordon")
drain = _node_action("drain")


# The YAML editors on the page: the Workloads view's ("edit"), the Objects view's ("obj") and the
# object drawer's ("drawer"); the answer is the editor's body with that prefix's element ids.
EDITORS = ("edit", "obj", "drawer")


def _editor(request: HttpRequest) -> str:
    params = request.GET if request.method == "GET" else request.POST
    prefix = str(params.get("editor", "")).strip()
    return prefix if prefix in EDITORS else "edit"


@require_http_methods(["GET", "POST"])
async def edit_get(request: HttpRequest, name: str) -> HttpResponse:
    """An object's YAML: a read, so a GET (the Objects view, which watchers use too) as well as
    the edit form's POST."""
    params = request.GET if request.method == "GET" else request.POST
    kind, ns, obj = _target(params)
    try:
        outcome = await workloads.get_yaml(name, kind, ns, obj, await visitor_credentials(request, name))
    except services.SimulationError as e:
        outcome = Outcome(False, e.message, e.status, e.reason)
    yaml_text = outcome.data if outcome.ok else str(params.get("yaml", ""))
    prefix = _editor(request)
    return _show(request, outcome, f"{prefix}-result", template="dashboard/_edit_body.html", yaml=yaml_text,
                 prefix=prefix)


@require_POST
async def edit_put(request: HttpRequest, name: str) -> HttpResponse:
    text = str(request.POST.get("yaml", ""))
    try:
        outcome = await workloads.put_yaml(name, text)
    except services.SimulationError as e:
        outcome = Outcome(False, e.message, e.status, e.reason)
    prefix = _editor(request)
    return _show(request, outcome, f"{prefix}-result", template="dashboard/_edit_body.html",
                 yaml=outcome.data if outcome.ok and outcome.data else text, prefix=prefix)

"""The classroom's pages and actions (issue 13): entering with a presenter's or student's link,
making a student's token, and a student's sandbox.  Who may do what is cluster/access.py's;
students are cluster/classroom.py's, sandboxes cluster/sandboxes.py's."""
from __future__ import annotations

import base64
import json
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_POST

from cluster import access, classroom, sandboxes, services

TEACHER_COOKIE = access.TEACHER_COOKIE


def _keep(response: HttpResponse, name: str, token: str) -> None:
    # HttpOnly: the page's scripts never read it; SameSite=Lax: another site's forms and fetches
    # do not carry it (and the APIs refuse other origins: cluster/api/guard.py).
    response.set_cookie(name, token, max_age=access.COOKIE_MAX_AGE, httponly=True, samesite="Lax", path="/")


async def enter_with_token(request: HttpRequest, name: str) -> HttpResponse:
    """/clusters/<name>/?token=<token>: a presenter's or student's link.  The token goes into the
    cluster's cookie and the page reloads without it in the address bar.  ?token= (empty)
    forgets it: the page is watched anonymously again."""
    token = request.GET.get("token", "").strip()
    response = HttpResponseRedirect(request.path)
    if not token:
        response.delete_cookie(access.cookie_name(name), path="/", samesite="Lax")
        return response
    visitor = await access.resolve(name, token, identify=True)
    if visitor.role not in (access.PRESENTER, access.STUDENT) and not visitor.user:
        return HttpResponse(f'The token in this link is not valid for cluster "{name}" (it may have expired). '
                            f"Ask for a new link, or watch the cluster without one at {request.path}",
                            status=403, content_type="text/plain; charset=utf-8")
    _keep(response, access.cookie_name(name), token)
    return response


async def presenter_link(request: HttpRequest, name: str, visitor: access.Access) -> str:
    """The link that makes whoever opens it this cluster's presenter: shown to its presenter,
    and to anyone on an open cluster (where anyone may change it anyway); "" otherwise."""
    if visitor.role == access.PRESENTER:
        token = visitor.api_token
    elif visitor.role == access.OPEN:
        token = (await services.cluster_access(name))["token"]
    else:
        return ""
    return request.build_absolute_uri(f"/clusters/{name}/?token={quote(token)}")


async def student(request: HttpRequest, name: str) -> HttpResponse:
    """GET: the students made so far (the presenter's Share menu; a watcher gets 403).  POST:
    make a student (AccessMiddleware let only a presenter through on an owned cluster): their
    link and their kubeconfig."""
    if request.method == "GET":
        visitor = await access.of_request(request, name)
        if not visitor.controls:
            return access.forbidden(visitor, "the list of students")
        return render(request, "dashboard/_students.html", {"name": name, "students": await classroom.students(name)})
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    try:
        made = await classroom.make_student(name, str(request.POST.get("student", "")),
                                            str(request.POST.get("role", "edit")))
    except classroom.StudentError as e:
        return render(request, "dashboard/_result.html", {"message": str(e), "ok": False, "code": 400,
                                                          "reason": "BadRequest"}, status=400)
    except services.SimulationError as e:
        return render(request, "dashboard/_result.html", {"message": e.message, "ok": False, "code": e.status,
                                                          "reason": e.reason}, status=e.status)
    short = made["user"].rsplit(":", 1)[-1]
    config = classroom.kubeconfig(request, name, f"{name}-{short}", made["token"], made["namespace"])
    return render(request, "dashboard/_student.html", {
        "name": name, "student": made,
        "link": request.build_absolute_uri(f"/clusters/{name}/?token={quote(made['token'])}"),
        "kubeconfig_href": "data:application/json;base64," + base64.b64encode(json.dumps(config).encode()).decode(),
        "kubeconfig_file": f"{name}-{short}.kubeconfig",
    })


async def index_context(request: HttpRequest) -> dict:
    """The index page's list of clusters (every sandbox with its state) and the sandbox form."""
    try:
        clusters, error = await services.clusters_summary(), None
    except services.SimulationError as e:
        clusters, error = [], e.message
    return {"clusters": clusters, "error": error, "sandbox": sandboxes.choices()}


async def index_with_teacher_token(request: HttpRequest) -> HttpResponse:
    """/?token=<PILOTHOUSE["TEACHER_TOKEN"]>: the teacher presents every cluster from now on."""
    token = request.GET.get("token", "").strip()
    response = HttpResponseRedirect(request.path)
    if not token:
        response.delete_cookie(TEACHER_COOKIE, path="/", samesite="Lax")
    elif access.teacher_token() and access._same(token, access.teacher_token()):
        _keep(response, TEACHER_COOKIE, token)
    else:
        return HttpResponse("That is not this server's teacher token.", status=403,
                            content_type="text/plain; charset=utf-8")
    return response


@require_POST
async def sandbox_create(request: HttpRequest) -> HttpResponse:
    """The index page's form: a cluster of the student's own; they present it from now on."""
    try:
        name, spec = sandboxes.spec_from_form(request.POST)
        await services.create_cluster(name, seed=1, nodes=spec.pop("nodes"), **spec)
        info = await services.cluster_access(name)
    except (sandboxes.SandboxError, services.SimulationError) as e:
        context = await index_context(request)
        status = getattr(e, "status", 400)
        context.update(sandbox_error=getattr(e, "message", str(e)), form=request.POST)
        return render(request, "dashboard/index.html", context, status=status)
    response = HttpResponseRedirect(f"/clusters/{name}/")
    response.status_code = 303
    _keep(response, access.cookie_name(name), info["token"])
    return response

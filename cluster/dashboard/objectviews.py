"""The Objects view's list (GET, JSON): the objects of one kind, read through the cluster's own
Kubernetes API (cluster/objects.py); the object drawer's read of one object and its Events.  Its YAML view and edit are workloadviews.edit_get and
edit_put, answering the fragment the view swaps in."""
from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from cluster import access, objects, services
from cluster.workloads import Outcome


@require_GET
async def object_list(request: HttpRequest, name: str) -> JsonResponse:
    """?kind=<kind | resource | resource.group>: {"items": [...], ...} or, on an error, the
    API's Status ({"kind": "Status", "message", "reason", "code"}) with its code."""
    kind = str(request.GET.get("kind", "")).strip()
    if not kind:
        outcome = Outcome.bad("kind: Required value")
    else:
        try:
            outcome = await objects.list_objects(name, kind, credentials=await visitor_credentials(request, name))
        except services.SimulationError as e:
            outcome = Outcome(False, e.message, e.status, e.reason)
    return _json(outcome)


@require_GET
async def object_read(request: HttpRequest, name: str) -> JsonResponse:
    """The object drawer's read (GET, JSON; watchers read too): ?kind=<kind | resource |
    resource.group>&namespace=&name=[&apiVersion=, with a kind: an owner reference's] ->
    cluster/objects.py read_object's data, or the API's Status with its code."""
    q = request.GET
    try:
        outcome = await objects.read_object(name, str(q.get("kind", "")).strip(), str(q.get("namespace", "")).strip(),
                                            str(q.get("name", "")).strip(), str(q.get("apiVersion", "")).strip() or None,
                                            credentials=await visitor_credentials(request, name))
    except services.SimulationError as e:
        outcome = Outcome(False, e.message, e.status, e.reason)
    return _json(outcome)


async def visitor_credentials(request: HttpRequest, cluster: str) -> dict | None:
    """What the page's reads of objects send to the API for whoever opened it (a student's token,
    a viewer impersonated: cluster/access.py page_credentials).  Raises services.SimulationError
    (an unknown cluster, say), which the views answer as a Status."""
    return access.page_credentials(await access.of_request(request, cluster, identify=True))


def _json(outcome: Outcome) -> JsonResponse:
    if outcome.ok:
        response = JsonResponse(outcome.data)
    else:
        response = JsonResponse({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                 "message": outcome.message, "reason": outcome.reason, "code": outcome.code},
                                status=outcome.code)
    response["Cache-Control"] = "no-store"
    return response

"""The Objects view's list (GET, JSON): the objects of one kind, read through the cluster's own
Kubernetes API (cluster/objects.py); the object drawer's read of one object and its Events.  Its YAML view and edit are workloadviews.edit_get and
edit_put, answering the fragment the view swaps in."""
from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from cluster import objects, services
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
            outcome = await objects.list_objects(name, kind)
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
                                            str(q.get("name", "")).strip(), str(q.get("apiVersion", "")).strip() or None)
    except services.SimulationError as e:
        outcome = Outcome(False, e.message, e.status, e.reason)
    return _json(outcome)


def _json(outcome: Outcome) -> JsonResponse:
    if outcome.ok:
        response = JsonResponse(outcome.data)
    else:
        response = JsonResponse({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                 "message": outcome.message, "reason": outcome.reason, "code": outcome.code},
                                status=outcome.code)
    response["Cache-Control"] = "no-store"
    return response

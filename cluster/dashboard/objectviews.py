"""The Objects view's list (GET, JSON): the objects of one kind, read through the cluster's own
Kubernetes API (cluster/objects.py).  Its YAML view and edit are workloadviews.edit_get and
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
    if outcome.ok:
        response = JsonResponse(outcome.data)
    else:
        response = JsonResponse({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                 "message": outcome.message, "reason": outcome.reason, "code": outcome.code},
                                status=outcome.code)
    response["Cache-Control"] = "no-store"
    return response

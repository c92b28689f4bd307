"""metav1.Status bodies, the shape every Kubernetes API error has.

See k8s.io/apimachinery/pkg/api/errors: reason and code go together (NotFound 404,
AlreadyExists 409, Conflict 409, Invalid 422, BadRequest 400, MethodNotAllowed 405, Expired 410,
ServiceUnavailable 503, InternalError 500)."""
from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from sim.api.jsonserializer import encode


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success" if code < 400 else "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def not_found_path() -> dict:
    # What kube-apiserver answers for a path no handler serves.
    return status(404, "NotFound", "the server could not find the requested resource")


def kube_json(body: Any, code: int = 200) -> HttpResponse:
    """A JSON response as kube-apiserver sends it: plain application/json, no escaping games."""
    return encoded_json(encode(body), code)


def encoded_json(body: bytes, code: int = 200) -> HttpResponse:
    """A response of JSON already encoded (sim.api.jsonserializer)."""
    return HttpResponse(body, status=code, content_type="application/json")


def status_response(code: int, reason: str, message: str, details: dict | None = None) -> HttpResponse:
    return kube_json(status(code, reason, message, details), code)

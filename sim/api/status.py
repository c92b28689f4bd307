"""metav1.Status errors, worded as kube-apiserver words them (apimachinery/pkg/api/errors)."""
from __future__ import annotations

from typing import Any


def status(code: int, reason: str, message: str, details: dict | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                            "status": "Failure", "message": message, "reason": reason, "code": code}
    if details is not None:
        body["details"] = details
    return body


def success(details: dict | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details:
        body["details"] = details
    return body


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def not_found(resource: str, name: str, group: str = "") -> dict:
    return status(404, "NotFound", f'{_qualified(resource, group)} "{name}" not found',
                  {"name": name, "group": group, "kind": resource} if group else {"name": name, "kind": resource})


def already_exists(resource: str, name: str, group: str = "") -> dict:
    return status(409, "AlreadyExists", f'{_qualified(resource, group)} "{name}" already exists',
                  {"name": name, "group": group, "kind": resource} if group else {"name": name, "kind": resource})


def conflict(resource: str, name: str, group: str = "", why: str | None = None) -> dict:
    why = why or "the object has been modified; please apply your changes to the latest version and try again"
    return status(409, "Conflict", f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": {why}',
                  {"name": name, "group": group, "kind": resource} if group else {"name": name, "kind": resource})


def invalid(kind: str, name: str, errors: list, group: str = "") -> dict:
    """422 Invalid with one cause per field error (errors.NewInvalid)."""
    causes = [{"reason": e.cause_reason, "message": e.message(), "field": e.field} for e in errors]
    if len(errors) == 1:
        agg = errors[0].text()
    else:
        agg = "[" + ", ".join(e.text() for e in errors) + "]"
    details = {"name": name, "kind": kind, "causes": causes}
    if group:
        details["group"] = group
    return status(422, "Invalid", f'{kind} "{name}" is invalid: {agg}', details)


def bad_request(message: str) -> dict:
    return status(400, "BadRequest", message)


def method_not_allowed(message: str = "the server does not allow this method on the requested resource") -> dict:
    return status(405, "MethodNotAllowed", message)


def forbidden(resource: str, name: str, why: str) -> dict:
    return status(403, "Forbidden", f'{resource} "{name}" is forbidden: {why}', {"name": name, "kind": resource})


def gone(message: str) -> dict:
    return status(410, "Expired", message)


def unavailable(message: str) -> dict:
    return status(503, "ServiceUnavailable", message)


def timeout(message: str = "Timeout: request did not complete within requested timeout - context deadline exceeded") -> dict:
    return status(504, "Timeout", message)


def internal(message: str) -> dict:
    """errors.NewInternalError(err): 500 "Internal error occurred: <err>", the error as a cause."""
    return status(500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]})


def unsupported_media_type(content_type: str) -> dict:
    return status(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")

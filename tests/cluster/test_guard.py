"""cluster/api/guard.py in-process: which requests it refuses before a view runs, and how it turns
what escapes a view into a Status."""
from __future__ import annotations

import json

import pytest
from django.http import HttpResponse, HttpResponseNotFound
from django.test import RequestFactory

from cluster.api.guard import APIGuard

PODS = "/clusters/demo/api/v1/namespaces/default/pods"


def guard(response=None, raises=None):
    def view(request):
        if raises is not None:
            raise raises
        return response or HttpResponse(b"{}", content_type="application/json")
    return APIGuard(view)


def post(path=PODS, content_type="application/json", host="127.0.0.1:8000", secure=False, **headers):
    return RequestFactory().post(path, data="{}", content_type=content_type, HTTP_HOST=host, secure=secure,
                                 **{f"HTTP_{k.upper()}": v for k, v in headers.items()})


def status_of(response) -> dict:
    body = json.loads(response.content)
    assert body["kind"] == "Status" and body["code"] == response.status_code
    return body


@pytest.mark.parametrize(("origin", "host", "secure", "allowed"), [
    ("http://127.0.0.1:8000", "127.0.0.1:8000", False, True),
    ("HTTP://127.0.0.1:8000", "127.0.0.1:8000", False, True),
    ("http://example.com", "example.com:80", False, True),       # default ports are the same origin
    ("https://example.com:443", "example.com", True, True),
    ("http://evil.example", "127.0.0.1:8000", False, False),
    ("http://127.0.0.1:8001", "127.0.0.1:8000", False, False),   # another port is another origin
    ("https://127.0.0.1:8000", "127.0.0.1:8000", False, False),  # and another scheme
    ("null", "127.0.0.1:8000", False, False),                    # sandboxed frames, file:// pages
])
def test_only_this_servers_own_origin_may_write(origin, host, secure, allowed, settings):
    settings.ALLOWED_HOSTS = ["*"]
    r = guard()(post(host=host, secure=secure, origin=origin))
    assert (r.status_code != 403) == allowed
    if not allowed:
        assert status_of(r)["reason"] == "Forbidden"


def test_reads_and_other_paths_are_not_its_business():
    request = RequestFactory().get(PODS, HTTP_ORIGIN="http://evil.example")
    assert guard()(request).status_code == 200
    form = post("/clusters/demo/dashboard/pods", content_type="application/x-www-form-urlencoded",
                origin="http://evil.example")
    assert guard()(form).status_code == 200  # the dashboard's forms: Django's CSRF middleware


@pytest.mark.parametrize("path", [PODS, "/clusters/demo/sim/v1/clock", "/sim/v1/clusters"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "TEXT/PLAIN; charset=utf-8"])
def test_the_bodies_a_browser_sends_cross_site_unasked_are_415(path, content_type):
    r = guard()(post(path, content_type=content_type))
    assert r.status_code == 415 and status_of(r)["reason"] == "UnsupportedMediaType"
    if "/sim/" in path:
        assert json.loads(r.content)["error"]["code"] == 415  # the control API's shape too


def test_a_body_over_the_limit_is_413_by_its_content_length():
    request = post()
    request.META["CONTENT_LENGTH"] = str(3 * 1024 * 1024 + 1)
    r = guard()(request)
    assert r.status_code == 413 and status_of(r)["message"] == "Request entity too large: limit is 3145728"
    restore = post("/clusters/demo/sim/v1/etcd/snapshot/restore")
    restore.META["CONTENT_LENGTH"] = str(10 * 1024 * 1024)
    assert guard()(restore).status_code == 200  # reads its own, larger, limit


def test_an_html_error_becomes_a_status_and_an_exception_a_logged_500(caplog):
    r = guard(HttpResponseNotFound(b"<h1>Not Found</h1>"))(RequestFactory().get("/clusters/Bad_Name/api/v1/pods"))
    assert r.status_code == 404 and status_of(r)["message"] == "the server could not find the requested resource"
    request = post()
    r = APIGuard(lambda req: None).process_exception(request, RuntimeError("boom"))
    assert r.status_code == 500
    assert status_of(r)["message"] == "Internal error occurred: RuntimeError: boom"
    assert "uncaught exception serving POST" in caplog.text

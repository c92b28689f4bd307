"""Browser tests: headless Debian chromium driven by Playwright (sync API) against a live server.

Fixtures
    browser         one chromium per test module (skipped without chromium, FAILS with REQUIRE_SERVICES=1)
    browser_server  a live `manage.py demo` on a free port with a temporary SQLite DB, one per
                    test module (tests kill nodes and pause clocks; modules must not see each
                    other's damage).  PILOTHOUSE_BROWSER_SERVER=http://host:port points the tests
                    at a server you already run instead (development only: they change it).
    page            a page (1600x1000) on about:blank whose console errors fail the test (the
                    module's page, navigated afresh by each test: see module_page); it asks for
                    reduced motion (see new_context) unless the test is marked `motion`
    dashboard       page opened on /clusters/demo/ with its WebSocket open
`open_dashboard(page, server, cluster, view)` opens a cluster's page (on a view); `show_view`
switches views by their tabs.

`wait_js(page, expr, timeout)` waits for a JS expression to be truthy: tests wait on conditions,
never sleep.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import LiveServer, require_service

CHROMIUM = os.environ.get("PILOTHOUSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1600, "height": 1000}


def new_context(browser, motion: bool = False):
    """A browser context for a test's pages.  Without `motion` it asks for reduced motion, and
    the page leaves its travelling messages and etcd's running timers off, as it does for anyone
    who asked their system for that (static/js/dashboard.js): Chromium's software renderer spent
    0.85 of a core on an idle demo page's animation, 0.33 without it (measured with Playwright
    over 15 s per page), and the suite runs several pages at once on two cores.  A test about
    the animation is marked `@pytest.mark.motion` (or passes motion=True)."""
    return browser.new_context(viewport=VIEWPORT, reduced_motion="no-preference" if motion else "reduce")


# Module-scoped, not session-scoped: while Playwright's sync API is started it registers its
# event loop as the main thread's running loop (microsoft/playwright-pytest#167), and every
# pytest-asyncio test or asyncio.run() after it in the same process would fail with "cannot be
# called from a running event loop".  Stopped at the end of each module, it leaves the thread as
# it found it, so a test worker may run browser and asyncio modules in any order.
@pytest.fixture(scope="module")
def playwright_instance():
    require_service("chromium", Path(CHROMIUM).exists() or bool(shutil.which(CHROMIUM)),
                    f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:  # pragma: no cover - pinned in requirements.txt
        require_service("playwright", False, str(e))
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright_instance):
    b = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


class ExternalServer(LiveServer):
    """A server somebody else started (PILOTHOUSE_BROWSER_SERVER)."""

    def __init__(self, base: str, workdir: Path):
        u = urlparse(base)
        super().__init__(workdir, port=u.port or 80)
        self.host = u.hostname

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 0):
        return self

    def stop(self, timeout: float = 0):
        return None


@pytest.fixture(scope="module")
def browser_server(request, tmp_path_factory):
    external = os.environ.get("PILOTHOUSE_BROWSER_SERVER")
    name = "browser-" + request.module.__name__.rsplit(".", 1)[-1]
    if external:
        yield ExternalServer(external, tmp_path_factory.mktemp(name))
        return
    # A module may set SERVER_ENV: more of its server's environment (a lower snapshot limit).
    server = LiveServer(tmp_path_factory.mktemp(name), env=getattr(request.module, "SERVER_ENV", None)).start()
    try:
        yield server
    finally:
        try:
            server.stop()
        except RuntimeError:
            pass


EXPECTED_ERRORS = ("status of 4", "Response Status Error")


def _watched_page(context):
    """A page whose JavaScript errors go to its `js_errors` list (the test's; replaced per test)."""
    pg = context.new_page()
    pg.js_errors = []
    # 4xx answers are how forms show API errors; a test expecting more (a server restart's
    # refused connections) adds substrings to page.expected_errors.
    pg.expected_errors = list(EXPECTED_ERRORS)
    pg.on("pageerror", lambda e: pg.js_errors.append(f"pageerror: {e}"))
    pg.on("console", lambda m: pg.js_errors.append(f"console.{m.type}: {m.text}")
          if m.type == "error" and not any(x in m.text for x in pg.expected_errors) else None)
    return pg


@pytest.fixture(scope="module")
def module_page(browser):
    """One page for a module's tests, each of which navigates it afresh: a new page cost
    Chromium a new renderer process, about a second of CPU, where a navigation of the same page
    costs 0.8 s (measured with Playwright on the demo cluster's page); the suite opens some
    hundred pages on two cores."""
    context = new_context(browser)
    pg = _watched_page(context)
    yield pg
    context.close()


@pytest.fixture
def page(request):
    """A page for the test, on about:blank with no cookies or storage, whose JavaScript errors
    fail the test: the module's page (module_page), or a page of its own in a context of its
    own for a test marked `motion` (the animation on)."""
    if request.node.get_closest_marker("motion") is not None:
        context = new_context(request.getfixturevalue("browser"), motion=True)
        pg = _watched_page(context)
    else:
        pg = request.getfixturevalue("module_page")
        context = None
        pg.js_errors, pg.expected_errors = [], list(EXPECTED_ERRORS)
    errors = pg.js_errors
    yield pg
    pg.js_errors = []  # what leaving the page logs is not the test's
    if context is not None:
        context.close()
    else:
        # What the test left behind goes before the next one: the pages it opened, the page's
        # own document (its WebSocket and timers), its cookies, storage and window size.
        for other in pg.context.pages:
            if other is not pg:
                other.close()
        try:
            if pg.url.startswith("http"):
                pg.evaluate("() => { try { localStorage.clear(); sessionStorage.clear(); } catch (e) {} }")
            pg.goto("about:blank")
        finally:
            pg.context.clear_cookies()
            pg.set_viewport_size(VIEWPORT)
    assert not errors, "JavaScript errors on the page:\n" + "\n".join(errors)


def wait_js(page, expression: str, timeout: float = 30, arg=None, message: str | None = None):
    """Wait until `expression` (a JS expression or arrow function) is truthy; return its value."""
    from playwright.sync_api import TimeoutError as PWTimeout

    try:
        return page.wait_for_function(expression, arg=arg, timeout=timeout * 1000,
                                      polling=100).json_value()
    except PWTimeout:
        state = page.evaluate("""() => { const d = document.getElementById('dashboard');
            return d ? {frame: d.dataset.frame, ws: d.dataset.ws, resyncs: d.dataset.resyncs,
                        pods: [...document.querySelectorAll('#diagram .pod')].map(p =>
                          `${p.dataset.pod} ${p.dataset.phase} ${p.dataset.node}`)} : null }""")
        pytest.fail(f"timed out after {timeout}s waiting for {message or expression}; page: {state}")


def open_dashboard(page, server, cluster: str = "demo", view: str = ""):
    """The cluster's page, on its Architecture view or on `view` (its URL: /clusters/<c>/<view>)."""
    page.goto(f"{server.base}/clusters/{cluster}/{'' if view == 'architecture' else view}")
    wait_js(page, "document.getElementById('dashboard')?.dataset.ws === 'open'", 20,
            message="the dashboard's WebSocket to open")
    return page


def show_view(page, view: str):
    """Switch the page to one of its views by clicking its tab, as a user would."""
    page.click(f"#view-nav a[data-view={view}]")
    wait_js(page, f"document.getElementById('dashboard').dataset.view === '{view}'", 5,
            message=f"the {view} view")
    return page


@pytest.fixture
def dashboard(page, browser_server):
    return open_dashboard(page, browser_server)


# JS helpers shared by the tests.
PODS_JS = """(sel) => [...document.querySelectorAll('#diagram .pod' + (sel || ''))].map(p => ({
    pod: p.dataset.pod, name: p.dataset.name, phase: p.dataset.phase, node: p.dataset.node,
    owner: p.dataset.owner}))"""


def pods(page, selector: str = ""):
    return page.evaluate(PODS_JS, selector)


def submit(page, form: str, button: str = "button[type=submit]", result: str | None = None):
    """Click `button` in `form` and wait for the answer htmx puts in the form's result slot.

    Returns ("ok" | "error", text).  The slot is emptied first, so an earlier answer is never
    mistaken for this one."""
    slot = result or f"{form} .result"
    page.eval_on_selector(slot, "el => { el.className = 'result'; el.textContent = ''; }")
    page.click(f"{form} {button}")
    page.wait_for_selector(f"{slot}.ok, {slot}.error")
    kind = "ok" if page.eval_on_selector(slot, "el => el.classList.contains('ok')") else "error"
    return kind, page.inner_text(slot)


def submit_ok(page, form: str, button: str = "button[type=submit]") -> str:
    kind, text = submit(page, form, button)
    assert kind == "ok", f"{form}: {text}"
    return text

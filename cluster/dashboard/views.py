"""Dashboard views: the pages, the state the page resyncs from, and the actions (htmx posts).

Each action answers with a small fragment (templates/dashboard/_result.html) that htmx puts next
to the form: the API's own message on an error, with the API's status code, so htmx's
`after-request` handler can tell success from failure (base.html lets 4xx responses swap).
"""
from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from cluster import access, services
from cluster.dashboard import classroomviews, forms

# Down to 0.01x: a 100 ms Raft heartbeat then takes 10 s, slow enough to follow an election.
SPEEDS = [f"{s:g}" for s in (0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50)]  # as JS prints them
ADVANCES = [("10s", 10), ("1m", 60), ("5m", 300)]
STEP_SECONDS = "1s"
# The views of a cluster's page, in the order of its tabs: each by URL (dashboard:<url>) and by
# key (static/js/views.js reads the same list from the tabs).
VIEWS = [
    {"name": "architecture", "key": "a", "url": "dashboard:cluster", "label": "Architecture",
     "title": "The architecture: control plane, nodes and their pods, the event log"},
    {"name": "workloads", "key": "w", "url": "dashboard:workloads", "label": "Workloads",
     "title": "Deployments, ReplicaSets, DaemonSets, StatefulSets, Jobs, CronJobs, HPAs"},
    {"name": "network", "key": "t", "url": "dashboard:network", "label": "Network",
     "title": "Pod IPs and node CIDRs, Services and their endpoints, NetworkPolicies; send traffic and watch its hops"},
    {"name": "etcd", "key": "e", "url": "dashboard:etcd", "label": "etcd",
     "title": "The Raft group behind the API server: leader, terms, logs; stop, isolate, snapshot"},
    {"name": "scheduler", "key": "s", "url": "dashboard:scheduler", "label": "Scheduler",
     "title": "kube-scheduler's queue and, for a picked pod, its decision node by node"},
    {"name": "objects", "key": "o", "url": "dashboard:objects", "label": "Objects",
     "title": "Every kind the API serves: list its objects, read and edit one as YAML"},
    {"name": "lessons", "key": "l", "url": "dashboard:lessons", "label": "Lessons",
     "title": "Guided lessons, step by step, on this cluster"},
]
VIEW_NAMES = {v["name"] for v in VIEWS}
OK_CODES = {200, 201, 202}


def _result(request: HttpRequest, message: str, *, ok: bool, status: int = 200,
            reason: str | None = None, element_id: str | None = None) -> HttpResponse:
    return render(
        request,
        "dashboard/_result.html",
        {"message": message, "ok": ok, "code": None if ok else status, "reason": reason,
         "element_id": element_id},
        status=status,
    )


def _error(request: HttpRequest, e: services.SimulationError, element_id: str | None = None) -> HttpResponse:
    return _result(request, e.message, ok=False, status=e.status, reason=e.reason, element_id=element_id)


def _status_message(resp: dict[str, Any]) -> tuple[str, str | None]:
    body = resp.get("body") or {}
    message = body.get("message") or body.get("reason") or f"request failed ({resp.get('code')})"
    return message, body.get("reason")


async def _api(request: HttpRequest, cluster: str, req: dict, success: str) -> HttpResponse:
    try:
        resp = await services.cluster_api(cluster, req)
    except services.SimulationError as e:
        return _error(request, e)
    return _answer(request, resp, success)


def _answer(request: HttpRequest, resp: dict[str, Any], success: str) -> HttpResponse:
    """An ApiResponse as the result fragment: `success`, or the Status message with its code."""
    code = int(resp.get("code", 500))
    if code in OK_CODES:
        return _result(request, success, ok=True, status=200)
    message, reason = _status_message(resp)
    return _result(request, message, ok=False, status=code if 400 <= code < 600 else 500, reason=reason)


# -- pages ----------------------------------------------------------------------------------
@require_GET
async def index(request: HttpRequest) -> HttpResponse:
    if "token" in request.GET:
        return await classroomviews.index_with_teacher_token(request)
    # Every cluster with its state (the teacher's list of sandboxes) and the sandbox form.
    return render(request, "dashboard/index.html", await classroomviews.index_context(request))


@require_GET
async def cluster_page(request: HttpRequest, name: str, view: str = "architecture",
                       console: bool = False) -> HttpResponse:
    """The cluster's page, opened on one of its views (VIEWS: /clusters/<name>/ is the
    architecture, /clusters/<name>/<view> the others); the page switches between them in place.
    /clusters/<name>/console opens the architecture with the kubectl console over it, so the
    requests it makes are seen travelling.  `controls` says whether the page shows the forms and
    action buttons (the templates wrap each in {% if controls %}): True for now; a watcher of an
    owned cluster gets False."""
    if view not in VIEW_NAMES:
        raise Http404(f'no view "{view}"')
    try:
        if "token" in request.GET:
            # A presenter or student link: keep its token in a cookie, then drop it from the URL.
            return await classroomviews.enter_with_token(request, name)
        visitor = await access.of_request(request, name, identify=True)
        state = await services.cluster_state(name)
    except services.ClusterNotFound:
        raise Http404(f'cluster "{name}" not found') from None
    except services.SimulationError as e:
        return HttpResponse(e.message, status=e.status, content_type="text/plain")
    return render(
        request,
        "dashboard/cluster.html",
        {
            # Who may do what (cluster/access.py): a watcher of an owned cluster gets no controls.
            "controls": visitor.controls,
            "access": visitor,
            "presenter_link": await classroomviews.presenter_link(request, name, visitor),
            "name": name,
            "state": state,
            "ws_url": f"/clusters/{name}/ws",
            "speeds": SPEEDS,
            "speed": f"{float(state.get('speed') or 1):g}",
            "advances": ADVANCES,
            "step": STEP_SECONDS,
            "view": view,
            "views": VIEWS,
            "console": console,
        },
    )


@require_GET
async def state(request: HttpRequest, name: str) -> JsonResponse:
    """The page's resync source: {"frame", "time", "speed", "paused", "snapshot", "log"}."""
    try:
        st = await services.cluster_state(name)
    except services.SimulationError as e:
        return JsonResponse({"error": e.message, "reason": e.reason}, status=e.status)
    response = JsonResponse(st)
    response["Cache-Control"] = "no-store"
    return response


# -- actions: Kubernetes objects --------------------------------------------------------------
@require_POST
async def create_pod(request: HttpRequest, name: str) -> HttpResponse:
    try:
        body = forms.pod_from(request.POST)
    except forms.FormError as e:
        return _result(request, str(e), ok=False, status=400, reason="BadRequest")
    ns = body["metadata"]["namespace"]
    req = forms.api_request("create", "pods", ns, body=body)
    return await _api(request, name, req, f'pod {ns}/{body["metadata"]["name"]} created')


@require_POST
async def create_replicaset(request: HttpRequest, name: str) -> HttpResponse:
    try:
        body = forms.replicaset_from(request.POST)
    except forms.FormError as e:
        return _result(request, str(e), ok=False, status=400, reason="BadRequest")
    ns = body["metadata"]["namespace"]
    req = forms.api_request("create", "replicasets", ns, body=body, group="apps", version="v1")
    return await _api(request, name, req,
                      f'replicaset {ns}/{body["metadata"]["name"]} created ({body["spec"]["replicas"]} replicas)')


@require_POST
async def delete_pod(request: HttpRequest, name: str) -> HttpResponse:
    ns = forms.namespace_of(request.POST)
    pod = str(request.POST.get("name", "")).strip()
    if not pod:
        return _result(request, "name: pick a pod (click one in the diagram) or type its name",
                       ok=False, status=400, reason="BadRequest")
    req = forms.api_request("delete", "pods", ns, name=pod)
    return await _api(request, name, req, f"pod {ns}/{pod} deleted")


# -- actions: the simulator -------------------------------------------------------------------
@require_POST
async def kill_node(request: HttpRequest, name: str) -> HttpResponse:
    node = str(request.POST.get("node", "")).strip()
    try:
        await services.kill_node(name, node)
    except services.SimulationError as e:
        return _error(request, e)
    return _result(request, f"node {node} killed: its kubelet stopped and it is cut off the network", ok=True)


@require_POST
async def kill_component(request: HttpRequest, name: str) -> HttpResponse:
    """Kill a control-plane component's process on the picked node: its static pod's container
    dies and the kubelet restarts it."""
    node = str(request.POST.get("node", "")).strip()
    component = str(request.POST.get("component", "")).strip()
    try:
        await services.kill_component(name, node, component)
    except services.SimulationError as e:
        return _error(request, e)
    return _result(request, f"{component} on {node} killed: the kubelet restarts its static pod's container", ok=True)


@require_POST
async def restore_node(request: HttpRequest, name: str) -> HttpResponse:
    node = str(request.POST.get("node", "")).strip()
    try:
        await services.restore_node(name, node)
    except services.SimulationError as e:
        return _error(request, e)
    return _result(request, f"node {node} restored", ok=True)


@require_POST
async def add_node(request: HttpRequest, name: str) -> HttpResponse:
    node = str(request.POST.get("name", "")).strip()
    cpu = str(request.POST.get("cpu", "")).strip() or "4"
    memory = str(request.POST.get("memory", "")).strip() or "8Gi"
    runtime = str(request.POST.get("runtime", "")).strip() or "containerd"
    kubelet_version = str(request.POST.get("kubeletVersion", "")).strip()
    try:
        labels = forms.key_values(str(request.POST.get("labels", "")), "labels")
    except forms.FormError as e:
        return _result(request, str(e), ok=False, status=400, reason="BadRequest")
    try:
        await services.add_node(name, node, cpu=cpu, memory=memory, runtime=runtime,
                                kubelet_version=kubelet_version, labels=labels)
    except services.SimulationError as e:
        return _error(request, e)
    return _result(request, f"node {node} added ({cpu} CPU, {memory}, {runtime}"
                            f"{', kubelet ' + kubelet_version if kubelet_version else ''})", ok=True)


@require_POST
async def edit_node(request: HttpRequest, name: str) -> HttpResponse:
    """Set the picked node's labels and taints (the Nodes panel's form), as `kubectl label`
    and `kubectl taint` would: through the Kubernetes API, whose errors are shown as they are."""
    node = str(request.POST.get("node", "")).strip()
    if not node:
        return _result(request, "node: pick a node (click one in the diagram)", ok=False, status=400,
                       reason="BadRequest")
    try:
        labels = forms.key_values(str(request.POST.get("labels", "")), "labels")
        taints = forms.taints(str(request.POST.get("taints", "")))
    except forms.FormError as e:
        return _result(request, str(e), ok=False, status=400, reason="BadRequest")
    try:
        resp = await services.set_node_labels_and_taints(name, node, labels, taints)
    except services.SimulationError as e:
        return _error(request, e)
    shown = ", ".join(forms.format_taint(t) for t in taints) or "none"
    return _answer(request, resp, f"node {node}: {len(labels)} label(s), taints: {shown}")


# What each etcd member action did, for the result line (the panel shows the rest as it happens).
ETCD_DONE = {
    "kill": "{m} stopped: its process is down, its disk (Raft log, term, vote) is kept",
    "restore": "{m} restarted: it rejoins as a follower and catches up from the leader",
    "timeout": "{m}'s election timer fired: it asks the others for pre-votes first. While they "
               "still hear from a leader they refuse (etcd's pre-vote), so a healthy cluster keeps "
               "its leader and term; without a leader, {m} becomes a candidate",
    "transfer-leadership": "leadership is moving to {m}: the leader catches it up and sends it "
                           "MsgTimeoutNow, and {m} starts an election at once (no pre-vote)",
    "isolate": "{m} is cut off from every other host; Heal the network to end it",
}


@require_POST
async def etcd_member(request: HttpRequest, name: str, action: str) -> HttpResponse:
    """An action on the etcd member picked in the panel: kill, restore, timeout,
    transfer-leadership, isolate."""
    member = str(request.POST.get("member", "")).strip()
    if not member:
        return _result(request, "member: pick an etcd member", ok=False, status=400, reason="BadRequest",
                       element_id="etcd-result")
    try:
        await services.etcd_member_action(name, member, action)
    except services.SimulationError as e:
        return _error(request, e, element_id="etcd-result")
    return _result(request, ETCD_DONE.get(action, "{m}: done").format(m=member), ok=True, element_id="etcd-result")


@require_POST
async def etcd_member_add(request: HttpRequest, name: str) -> HttpResponse:
    """The panel's "Add member": `etcdctl member add [--learner]` and etcd started on the host
    with --initial-cluster-state=existing."""
    host = str(request.POST.get("host", "")).strip()
    learner = str(request.POST.get("learner", "")).strip().lower() in {"1", "true", "on", "yes"}
    if not host:
        return _result(request, "host: Required value (a node without an etcd member, or a new host's name)",
                       ok=False, status=400, reason="BadRequest", element_id="etcd-member-result")
    try:
        out = await services.etcd_member_add(name, host, learner)
    except services.SimulationError as e:
        return _error(request, e, element_id="etcd-member-result")
    m = out["member"]
    if learner:
        text = (f"{m['name']} (ID {m['ID']}) added on {host} as a learner: it gets the log (or a snapshot) from "
                f"the leader but does not vote; promote it once it is in sync")
    else:
        text = (f"{m['name']} (ID {m['ID']}) added on {host} as a voter: the quorum is now a majority of "
                f"{sum(1 for x in out['members'] if not x['isLearner'])}")
    return _result(request, text, ok=True, element_id="etcd-member-result")


ETCD_MEMBER_DONE = {
    "promote": "{m} promoted: it is a voter now, and counts for every election and commit",
    "remove": "{m} removed from the cluster: it stops once it applies its removal, and the others no longer "
              "count it",
}


@require_POST
async def etcd_member_change(request: HttpRequest, name: str, action: str) -> HttpResponse:
    """Promote (a learner) or remove the member picked in the panel."""
    member = str(request.POST.get("member", "")).strip()
    if not member:
        return _result(request, "member: pick an etcd member", ok=False, status=400, reason="BadRequest",
                       element_id="etcd-result")
    fn = services.etcd_member_promote if action == "promote" else services.etcd_member_remove
    try:
        await fn(name, member)
    except services.SimulationError as e:
        return _error(request, e, element_id="etcd-result")
    return _result(request, ETCD_MEMBER_DONE[action].format(m=member), ok=True, element_id="etcd-result")


@require_POST
async def heal_network(request: HttpRequest, name: str) -> HttpResponse:
    try:
        await services.heal_network(name)
    except services.SimulationError as e:
        return _error(request, e, element_id="etcd-result")
    return _result(request, "network healed: every host reaches every other again", ok=True,
                   element_id="etcd-result")


@require_POST
async def etcd_put(request: HttpRequest, name: str) -> HttpResponse:
    """The client write button: `etcdctl put <key> <value>`, answered after commit."""
    key = str(request.POST.get("key", "")).strip()
    value = str(request.POST.get("value", ""))
    if not key:
        return _result(request, "key: Required value", ok=False, status=400, reason="BadRequest")
    try:
        result = await services.etcd_put(name, key, value)
    except services.SimulationError as e:
        return _error(request, e)
    return _result(request, f"put {key} committed at revision {result['revision']} (via {result['member']})",
                   ok=True)


@require_POST
async def clock(request: HttpRequest, name: str) -> HttpResponse:
    """Pause/resume ("paused"), speed, step (pauses, then runs that much) and advance."""
    data = request.POST
    kwargs: dict[str, Any] = {}
    if "paused" in data:
        kwargs["paused"] = data["paused"].strip().lower() in {"1", "true", "yes", "on"}
    if "speed" in data:
        try:
            kwargs["speed"] = float(data["speed"])
        except ValueError:
            return _result(request, f'speed: "{data["speed"]}" is not a number', ok=False, status=400,
                           element_id="clock-result")
    if "step" in data:
        kwargs["paused"] = True
        kwargs["step"] = data["step"] or STEP_SECONDS
    if "advance" in data:
        kwargs["advance"] = data["advance"]
    try:
        await services.set_clock(name, **kwargs)
    except services.SimulationError as e:
        return _error(request, e, element_id="clock-result")
    # The clock display follows the frames; nothing to say here.
    return _result(request, "", ok=True, element_id="clock-result")

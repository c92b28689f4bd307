"""Channels routing: WebSocket URLs and named background channels (see config/asgi.py)."""
from importlib.util import find_spec

from django.urls import re_path

from cluster.api.execstream import AttachConsumer, ExecConsumer
from cluster.api.portforwardstream import PortForwardConsumer
from cluster.console.consumer import KubectlConsoleConsumer
from cluster.consumers import ClusterFramesConsumer

CLUSTER_NAME = r"(?P<cluster>[a-z0-9]([-a-z0-9]*[a-z0-9])?)"

websocket_urlpatterns = [
    re_path(rf"^clusters/{CLUSTER_NAME}/ws$", ClusterFramesConsumer.as_asgi()),
    # The page's kubectl console (cluster/console/): this site's pages only, like the frames.
    re_path(rf"^clusters/{CLUSTER_NAME}/console/ws$", KubectlConsoleConsumer.as_asgi()),
]

# The dashboard's own WebSocket routes (htmx fragments), once that package provides them.
if find_spec("cluster.dashboard") is not None and find_spec("cluster.dashboard.routing") is not None:
    from cluster.dashboard.routing import websocket_urlpatterns as _dashboard_ws

    websocket_urlpatterns += _dashboard_ws

# The Kubernetes API's streams, for kubectl (no browser Origin: see config/asgi.py); the page's
# kubectl console reaches the same API under /clusters/<c>/console/kube/ (cluster/api/urls.py).
CONSOLE_PREFIX = r"(?:console/kube/)?"
kube_websocket_urlpatterns = [
    re_path(rf"^clusters/{CLUSTER_NAME}/{CONSOLE_PREFIX}api/v1/namespaces/(?P<namespace>[^/]+)/pods/(?P<pod>[^/]+)/exec/?$",
            ExecConsumer.as_asgi()),
    re_path(rf"^clusters/{CLUSTER_NAME}/{CONSOLE_PREFIX}api/v1/namespaces/(?P<namespace>[^/]+)/pods/(?P<pod>[^/]+)/attach/?$",
            AttachConsumer.as_asgi()),
    re_path(rf"^clusters/{CLUSTER_NAME}/{CONSOLE_PREFIX}api/v1/namespaces/(?P<namespace>[^/]+)/pods/(?P<pod>[^/]+)/portforward/?$",
            PortForwardConsumer.as_asgi()),
]

# Consumers addressed by channel name for `manage.py runworker`; none yet (the simulation
# worker reads its command channel itself).
channel_routes: dict = {}

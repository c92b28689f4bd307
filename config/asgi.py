"""ASGI entry point: HTTP (Django), WebSockets (cluster consumers) and background channels.

Daphne serves this in both deployments.  Static files are served by Django's staticfiles
handler because the embedded deployment has no separate web server in front of Daphne.
"""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

# Django must be set up before anything imports models or consumers.
django_asgi_app = get_asgi_application()

from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from cluster.api.bodylimit import BodyLimit  # noqa: E402
from cluster.api.guard import KubectlOrSameOrigin  # noqa: E402
from cluster.routing import channel_routes, kube_websocket_urlpatterns, websocket_urlpatterns  # noqa: E402
from cluster.worker.foreground import TrackRequests  # noqa: E402

def re_path_with(pattern, wrapper):
    """The same URL pattern, its consumer wrapped (an Origin check)."""
    from django.urls import re_path
    return re_path(pattern.pattern.regex.pattern, wrapper(pattern.callback), kwargs=pattern.default_args)


application = ProtocolTypeRouter(
    {
        # BodyLimit: no request body beyond the largest any endpoint takes, refused as it arrives.
        # TrackRequests: the simulation's background advance steps aside while one is served.
        "http": TrackRequests(BodyLimit(ASGIStaticFilesHandler(django_asgi_app))),
        # The dashboard's sockets take only this site's pages; the API's (kubectl exec) also
        # clients that send no Origin, as kubectl does - never another site's page.
        "websocket": URLRouter([*[re_path_with(p, KubectlOrSameOrigin) for p in kube_websocket_urlpatterns],
                                *[re_path_with(p, AllowedHostsOriginValidator) for p in websocket_urlpatterns]]),
        # Background consumers addressed by channel name (`manage.py runworker <channel>`).
        # The simulation worker reads its own command channel instead; see cluster/worker.py.
        "channel": ChannelNameRouter(channel_routes),
    }
)

"""URL map.

/clusters/<name>/...      the Kubernetes-compatible API of one simulated cluster (cluster.api)
/clusters/<name>/sim/v1/  the simulator control API (clock, nodes)
everything else           the dashboard (cluster.dashboard), when it is installed
"""
from importlib.util import find_spec

from django.urls import include, path

from cluster.api import simcontrol

urlpatterns = [
    path("clusters/", include("cluster.api.urls")),
    path("sim/v1/clusters", simcontrol.clusters, name="sim-clusters"),
]

# The dashboard is built beside the API by another part of the team; include its URLs once the
# package exists so the API can be served (and tested) on its own.
if find_spec("cluster.dashboard") is not None and find_spec("cluster.dashboard.urls") is not None:
    urlpatterns.append(path("", include("cluster.dashboard.urls")))

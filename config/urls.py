"""URL map.

/clusters/<name>/...      the Kubernetes-compatible API of one simulated cluster (cluster.api)
/clusters/<name>/sim/v1/  the simulator control API (clock, nodes)
everything else           the dashboard (cluster.dashboard)
"""
from django.urls import include, path

from cluster.api import simcontrol

urlpatterns = [
    path("clusters/", include("cluster.api.urls")),
    path("sim/v1/clusters", simcontrol.clusters, name="sim-clusters"),
    path("sim/v1/clusters/<str:name>", simcontrol.cluster_item, name="sim-cluster"),
    path("sim/v1/clusters/<str:name>/kubeconfig", simcontrol.kubeconfig, name="sim-cluster-kubeconfig"),
    path("", include("cluster.dashboard.urls")),
]

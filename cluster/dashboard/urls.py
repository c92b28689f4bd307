"""Dashboard URLs, mounted at the site root by config/urls.py.

/                                        list of clusters
/clusters/<name>/                        the live dashboard of one cluster
/clusters/<name>/dashboard/state         JSON state the page resyncs from after a frame gap
/clusters/<name>/dashboard/...           htmx actions (POST)
"""
from django.urls import path, re_path

from cluster.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.index, name="index"),
    path("clusters/<str:name>/", views.cluster_page, name="cluster"),
    path("clusters/<str:name>/dashboard/state", views.state, name="state"),
    path("clusters/<str:name>/dashboard/pods", views.create_pod, name="create_pod"),
    path("clusters/<str:name>/dashboard/pods/delete", views.delete_pod, name="delete_pod"),
    path("clusters/<str:name>/dashboard/replicasets", views.create_replicaset, name="create_replicaset"),
    path("clusters/<str:name>/dashboard/nodes", views.add_node, name="add_node"),
    path("clusters/<str:name>/dashboard/nodes/kill", views.kill_node, name="kill_node"),
    path("clusters/<str:name>/dashboard/nodes/kill-component", views.kill_component, name="kill_component"),
    path("clusters/<str:name>/dashboard/nodes/restore", views.restore_node, name="restore_node"),
    path("clusters/<str:name>/dashboard/nodes/edit", views.edit_node, name="edit_node"),
    path("clusters/<str:name>/dashboard/clock", views.clock, name="clock"),
    path("clusters/<str:name>/dashboard/etcd/put", views.etcd_put, name="etcd_put"),
    path("clusters/<str:name>/dashboard/network/heal", views.heal_network, name="heal_network"),
    re_path(r"^clusters/(?P<name>[^/]+)/dashboard/etcd/(?P<action>kill|restore|timeout|transfer-leadership|isolate)$",
            views.etcd_member, name="etcd_member"),
]

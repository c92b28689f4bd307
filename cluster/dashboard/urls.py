"""Dashboard URLs, mounted at the site root by config/urls.py.

/                                        list of clusters
/clusters/<name>/                        the live dashboard of one cluster
/clusters/<name>/workloads               the same page, opened on its Workloads view
/clusters/<name>/network                 the same page, opened on its Network view
/clusters/<name>/lessons                 the same page, opened on its Lessons view
/clusters/<name>/console                 the same page, its kubectl console open (cluster/console/)
/clusters/<name>/dashboard/state         JSON state the page resyncs from after a frame gap
/clusters/<name>/dashboard/...           htmx actions (POST)
"""
from django.urls import path, re_path

from cluster.dashboard import classroomviews as classroom, objectviews, views, workloadviews as wl

app_name = "dashboard"

urlpatterns = [
    path("", views.index, name="index"),
    path("sandboxes", classroom.sandbox_create, name="sandbox_create"),
    path("clusters/<str:name>/dashboard/students", classroom.student, name="student"),
    path("clusters/<str:name>/", views.cluster_page, name="cluster"),
    path("clusters/<str:name>/workloads", views.cluster_page, {"view": "workloads"}, name="workloads"),
    path("clusters/<str:name>/network", views.cluster_page, {"view": "network"}, name="network"),
    path("clusters/<str:name>/etcd", views.cluster_page, {"view": "etcd"}, name="etcd"),
    path("clusters/<str:name>/scheduler", views.cluster_page, {"view": "scheduler"}, name="scheduler"),
    path("clusters/<str:name>/objects", views.cluster_page, {"view": "objects"}, name="objects"),
    path("clusters/<str:name>/lessons", views.cluster_page, {"view": "lessons"}, name="lessons"),
    path("clusters/<str:name>/console", views.cluster_page, {"console": True}, name="console"),
    path("clusters/<str:name>/dashboard/state", views.state, name="state"),
    path("clusters/<str:name>/dashboard/workloads/create", wl.create, name="wl_create"),
    path("clusters/<str:name>/dashboard/workloads/yaml", wl.create_yaml, name="wl_yaml"),
    path("clusters/<str:name>/dashboard/workloads/scale", wl.scale, name="wl_scale"),
    path("clusters/<str:name>/dashboard/workloads/image", wl.set_image, name="wl_image"),
    path("clusters/<str:name>/dashboard/workloads/rollback", wl.rollback, name="wl_rollback"),
    path("clusters/<str:name>/dashboard/workloads/pause", wl.pause, name="wl_pause"),
    path("clusters/<str:name>/dashboard/workloads/resume", wl.resume, name="wl_resume"),
    path("clusters/<str:name>/dashboard/workloads/restart", wl.restart, name="wl_restart"),
    path("clusters/<str:name>/dashboard/workloads/delete", wl.delete, name="wl_delete"),
    path("clusters/<str:name>/dashboard/workloads/load", wl.load, name="wl_load"),
    path("clusters/<str:name>/dashboard/nodes/cordon", wl.cordon, name="wl_cordon"),
    path("clusters/<str:name>/dashboard/nodes/uncordon", wl.uncordon, name="wl_uncordon"),
    path("clusters/<str:name>/dashboard/nodes/drain", wl.drain, name="wl_drain"),
    path("clusters/<str:name>/dashboard/objects/list", objectviews.object_list, name="objects_list"),
    path("clusters/<str:name>/dashboard/objects/read", objectviews.object_read, name="objects_read"),
    path("clusters/<str:name>/dashboard/objects/get", wl.edit_get, name="edit_get"),
    path("clusters/<str:name>/dashboard/objects/put", wl.edit_put, name="edit_put"),
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
    path("clusters/<str:name>/dashboard/etcd/members", views.etcd_member_add, name="etcd_member_add"),
    path("clusters/<str:name>/dashboard/etcd/promote", views.etcd_member_change, {"action": "promote"},
         name="etcd_member_promote"),
    path("clusters/<str:name>/dashboard/etcd/remove", views.etcd_member_change, {"action": "remove"},
         name="etcd_member_remove"),
]

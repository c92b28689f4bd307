"""URLs under /clusters/ (see config/urls.py)."""
from django.urls import path, re_path

from cluster.api import lessonviews, schedulerviews, simcontrol, views
from sim.external import VIA_CONSOLE

CLUSTER = r"(?P<cluster>[a-z0-9]([-a-z0-9]*[a-z0-9])?)"

urlpatterns = [
    path("<str:cluster>/sim/v1/clock", simcontrol.clock, name="sim-clock"),
    path("<str:cluster>/sim/v1/state", simcontrol.state, name="sim-state"),
    path("<str:cluster>/sim/v1/reset", simcontrol.reset, name="sim-reset"),
    path("<str:cluster>/sim/v1/retry", simcontrol.retry, name="sim-retry"),
    path("<str:cluster>/sim/v1/stored-keys/delete", simcontrol.delete_stored_key, name="sim-delete-stored-key"),
    path("<str:cluster>/sim/v1/nodes", simcontrol.nodes, name="sim-nodes"),
    path("<str:cluster>/sim/v1/history", simcontrol.history, name="sim-history"),
    re_path(rf"^{CLUSTER}/sim/v1/history/(?P<at>[^/]+)$", simcontrol.history_at, name="sim-history-at"),
    path("<str:cluster>/sim/v1/export", simcontrol.export_run, name="sim-export"),
    path("<str:cluster>/sim/v1/fork", simcontrol.fork, name="sim-fork"),
    path("<str:cluster>/sim/v1/network", simcontrol.network, name="sim-network"),
    re_path(rf"^{CLUSTER}/sim/v1/network/(?P<action>partition|heal|link)$", simcontrol.network_action,
            name="sim-network-action"),
    path("<str:cluster>/sim/v1/etcd", simcontrol.etcd, name="sim-etcd"),
    path("<str:cluster>/sim/v1/etcd/put", simcontrol.etcd_put, name="sim-etcd-put"),
    path("<str:cluster>/sim/v1/etcd/compact", simcontrol.etcd_compact, name="sim-etcd-compact"),
    path("<str:cluster>/sim/v1/etcd/snapshot", simcontrol.etcd_snapshot, name="sim-etcd-snapshot"),
    path("<str:cluster>/sim/v1/etcd/snapshot/restore", simcontrol.etcd_snapshot_restore,
         name="sim-etcd-snapshot-restore"),
    path("<str:cluster>/sim/v1/etcd/members", simcontrol.etcd_members, name="sim-etcd-members"),
    re_path(rf"^{CLUSTER}/sim/v1/etcd/members/(?P<member>[^/]+)/(?P<action>promote|remove)$",
            simcontrol.etcd_member_change, name="sim-etcd-member-change"),
    re_path(
        rf"^{CLUSTER}/sim/v1/etcd/members/(?P<member>[^/]+)/"
        r"(?P<action>kill|restore|timeout|transfer-leadership|isolate)$",
        simcontrol.etcd_member_action,
        name="sim-etcd-member-action",
    ),
    re_path(rf"^{CLUSTER}/sim/v1/pods/(?P<namespace>[^/]+)/(?P<name>[^/]+)/fault$", simcontrol.pod_fault,
            name="sim-pod-fault"),
    re_path(rf"^{CLUSTER}/sim/v1/nodes/(?P<node>[^/]+)/iptables$", simcontrol.node_iptables,
            name="sim-node-iptables"),
    re_path(rf"^{CLUSTER}/sim/v1/nodes/(?P<node>[^/]+)/routes$", simcontrol.node_routes, name="sim-node-routes"),
    re_path(rf"^{CLUSTER}/sim/v1/traffic$", simcontrol.traffic, name="sim-traffic"),
    re_path(rf"^{CLUSTER}/sim/v1/nodes/(?P<node>[^/]+)/proxy-rules$", simcontrol.node_proxy_rules,
            name="sim-node-proxy-rules"),
    re_path(rf"^{CLUSTER}/sim/v1/pods/(?P<namespace>[^/]+)/(?P<name>[^/]+)/cri$", simcontrol.pod_cri_calls,
            name="sim-pod-cri"),
    re_path(rf"^{CLUSTER}/sim/v1/workloads/(?P<namespace>[^/]+)/(?P<kind>[^/]+)/(?P<name>[^/]+)/load$",
            simcontrol.workload_load, name="sim-workload-load"),
    path("<str:cluster>/sim/v1/kubeadm", simcontrol.kubeadm_status, name="sim-kubeadm"),
    re_path(rf"^{CLUSTER}/sim/v1/kubeadm/(?P<action>init|join|pod-network)$", simcontrol.kubeadm_action,
            name="sim-kubeadm-action"),
    path("<str:cluster>/sim/v1/scheduler", schedulerviews.scheduler, name="sim-scheduler"),
    path("<str:cluster>/sim/v1/lessons", lessonviews.lesson_list, name="sim-lessons"),
    re_path(rf"^{CLUSTER}/sim/v1/lessons/(?P<lesson>[^/]+)$", lessonviews.lesson_detail, name="sim-lesson"),
    path("<str:cluster>/sim/v1/lesson", lessonviews.player, name="sim-lesson-player"),
    re_path(rf"^{CLUSTER}/sim/v1/scheduler/pods/(?P<namespace>[^/]+)/(?P<name>[^/]+)$",
            schedulerviews.pod_explanation, name="sim-scheduler-pod"),
    re_path(
        rf"^{CLUSTER}/sim/v1/nodes/(?P<node>[^/]+)/(?P<action>kill|restore)$",
        simcontrol.node_action,
        name="sim-node-action",
    ),
    re_path(
        rf"^{CLUSTER}/sim/v1/nodes/(?P<node>[^/]+)/components/(?P<component>[^/]+)/kill$",
        simcontrol.component_kill,
        name="sim-component-kill",
    ),
    re_path(
        rf"^{CLUSTER}/(?P<path>(?:api|apis|version|openapi|healthz|livez|readyz|metrics)(?:/.*)?)$",
        views.kube_api,
        name="kube-api",
    ),
    # The same API for the page's kubectl console, whose kubeconfig points here: its requests
    # are marked, so the diagram shows them leaving the console (sim/external.py ConsoleClient).
    re_path(
        rf"^{CLUSTER}/console/kube/(?P<path>(?:api|apis|version|openapi|healthz|livez|readyz|metrics)(?:/.*)?)$",
        views.kube_api,
        {"via": VIA_CONSOLE},
        name="kube-api-console",
    ),
]

"""VolumeRestrictions (plugins/volumerestrictions), the part about claims: a
ReadWriteOncePod claim is used by one pod only, so a pod whose ReadWriteOncePod claim another
scheduled pod already uses fits nowhere until that pod is gone (Unschedulable: preemption may
make room).  The in-tree disk conflicts it also checks (GCE PD, AWS EBS, RBD, iSCSI) are not
simulated."""
from __future__ import annotations

from sim.api import storage as stg
from sim.scheduler.framework.interface import (ADD, DELETE, POD, SKIP_STATUS, UNSCHEDULABLE, UPDATE, ClusterEvent,
                                               ClusterEventWithHint, EnqueueExtensions, FilterPlugin,
                                               PreFilterPlugin, Status)

ERR_RWOP_CONFLICT = "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode"


class VolumeRestrictions(PreFilterPlugin, FilterPlugin, EnqueueExtensions):
    name = "VolumeRestrictions"
    informers = ("persistentvolumeclaims",)

    def pre_filter(self, state, pod, nodes):
        claims = stg.pod_claim_names(pod.pod)
        if not claims:
            return None, SKIP_STATUS
        pvcs = stg.claims_in(pod.namespace, claims, self.handle.lister("persistentvolumeclaims"))
        rwop = {name for name in claims
                if stg.RWOP in ((pvcs.get(name) or {}).get("spec") or {}).get("accessModes", [])}
        if not rwop:
            return None, SKIP_STATUS
        for info in self.handle.snapshot.node_infos():
            for other in info.pods.values():
                if other.uid != pod.uid and other.namespace == pod.namespace and \
                        rwop & set(stg.pod_claim_names(other.pod)):
                    return None, Status(UNSCHEDULABLE, (ERR_RWOP_CONFLICT,))
        return None, None

    def filter(self, state, pod, node_info):
        return None

    def events_to_register(self):
        return [ClusterEventWithHint(ClusterEvent(POD, DELETE)),
                ClusterEventWithHint(ClusterEvent("PersistentVolumeClaim", ADD | UPDATE))]

"""What survives a restart: each simulated cluster and the etcd keyspace its store committed.

The engine is the source of truth while it runs; these rows are its write-ahead record.  On start
the worker hands `SimCluster.topology` and the `EtcdEntry` log to `sim.cluster.Cluster.restore`
and the engine's controllers reconcile from there, as a real control plane does after a restart.
"""
from django.db import models


class SimCluster(models.Model):
    """One simulated Kubernetes cluster and its clock."""

    name = models.CharField(max_length=63, unique=True)  # a DNS-1123 label, like a kube context
    # Cluster.topology(): the ClusterConfig, the nodes and whether each is alive.
    topology = models.JSONField(default=dict)
    # Virtual seconds since the cluster was created (the engine's clock, persisted every frame).
    time = models.FloatField(default=0.0)
    speed = models.FloatField(default=1.0)
    paused = models.BooleanField(default=False)
    # etcd's compaction point: revisions at or below it can no longer be watched from.
    compacted_revision = models.BigIntegerField(default=0)
    # Highest revision copied into EtcdEntry; the next frame persists everything after it.
    persisted_revision = models.BigIntegerField(default=0)
    # Cluster.etcd_disk_states(): each etcd member's Raft HardState (term, vote, commit) and the
    # (index, term) its keyspace is at, saved with the entries of the same frame, so a restart
    # brings the Raft group back with its terms and indexes instead of a new group at term 0.
    etcd_disks = models.JSONField(default=dict)
    # The ClusterConfig the cluster was created with (ClusterConfig.to_json()): what "reset to
    # the template" brings it back to.  Empty for rows from before templates were kept.
    template = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EtcdEntry(models.Model):
    """One committed write of the cluster's etcd: append-only, like etcd's MVCC log.

    `value` is the stored object as JSON text; NULL marks a delete (etcd's tombstone).  One etcd
    revision may carry several keys (a transaction), so (cluster, revision, key) is the identity.
    When the cluster's kube-apiserver compacts etcd, superseded entries at or below the
    compaction revision are deleted, as etcd drops them (cluster/persistence.py).
    """

    cluster = models.ForeignKey(SimCluster, on_delete=models.CASCADE, related_name="etcd_entries")
    revision = models.BigIntegerField()
    key = models.CharField(max_length=512)
    value = models.TextField(null=True, blank=True)

    class Meta:
        ordering = ["cluster", "revision", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "revision", "key"], name="etcd_entry_unique_revision_key"
            )
        ]
        indexes = [
            models.Index(fields=["cluster", "revision"], name="etcd_entry_cluster_rev"),
            # Compaction looks for a newer entry of the same key.
            models.Index(fields=["cluster", "key", "revision"], name="etcd_entry_cluster_key_rev"),
        ]

    def __str__(self) -> str:
        return f"{self.cluster_id}@{self.revision} {self.key}"

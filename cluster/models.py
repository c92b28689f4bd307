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
    # The run's timeline (cluster/worker/timeline.py): {"origin": the ClusterConfig JSON a replay
    # starts from (null: none), "unreplayable": why the run cannot be replayed from its origin
    # any more (null: it can), "replayableUntil": [time, events] where it stopped being
    # replayable (a restart, say), "nextSeq": the next moment's number}.  With JournalEntry and
    # HistoryMoment rows, what lets a restart keep the history.
    timeline = models.JSONField(default=dict)
    # The lesson playing on the cluster (sim/lessons/player.py Player.checkpoint()), {} none: a
    # restart resumes it at the step it was on.
    lesson = models.JSONField(default=dict)
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


class JournalEntry(models.Model):
    """One command of the cluster's run, in order (cluster/worker/timeline.py's journal): with
    the run's origin, what a fork or an export replays.  Append-only; a reset starts a new run."""

    cluster = models.ForeignKey(SimCluster, on_delete=models.CASCADE, related_name="journal_entries")
    seq = models.IntegerField()            # its place in the journal, from 0
    time = models.FloatField()             # the point of the run it came in at: virtual time ...
    events = models.BigIntegerField()      # ... and kernel events run by then
    op = models.CharField(max_length=64)
    args = models.TextField()              # the command's arguments as JSON text

    class Meta:
        ordering = ["cluster", "seq"]
        constraints = [models.UniqueConstraint(fields=["cluster", "seq"], name="journal_entry_unique_seq")]


class HistoryMoment(models.Model):
    """One moment of the cluster's history (cluster/worker/timeline.py Moment): its point, frame,
    the page's snapshot and log then (zlib-compressed JSON).  Not its etcd keyspace: that is the
    memory's (values shared with the store); after a restart a moment from before it is shown
    and forked by replaying the journal.  Pruned with the in-memory ring."""

    cluster = models.ForeignKey(SimCluster, on_delete=models.CASCADE, related_name="history_moments")
    seq = models.IntegerField()
    time = models.FloatField()
    frame = models.BigIntegerField()
    events = models.BigIntegerField()
    revision = models.BigIntegerField()
    journal = models.IntegerField()        # journal entries applied before it was taken
    replayable = models.BooleanField()     # within the stretch of the run the journal replays
    blob = models.BinaryField()

    class Meta:
        ordering = ["cluster", "seq"]
        constraints = [models.UniqueConstraint(fields=["cluster", "seq"], name="history_moment_unique_seq")]

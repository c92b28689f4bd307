"""Where a cluster's commands and frames travel on the channel layer."""
from __future__ import annotations


def worker_channel_for(cluster_name: str) -> str:
    """The channel the worker owning `cluster_name` listens on.

    One worker owns every cluster for now; sharding clusters across worker processes only has
    to change this function (and start one `runsimworker --channel` per shard)."""
    return "simworker"


def group_for(cluster_name: str) -> str:
    """The channel-layer group that receives a cluster's frames (WebSocket consumers join it)."""
    return f"cluster.{cluster_name}"

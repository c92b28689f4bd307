"""ImageLocality (plugins/imagelocality): favours nodes that already have the pod's images.
Each image on the node counts its size scaled by the share of nodes that have it (spread, to
avoid piling pods onto the few nodes with an image); the sum is clamped to
[23 MiB, 1000 MiB x containers] and mapped linearly onto 0..100."""
from __future__ import annotations

import numpy as np

from sim.scheduler.framework.interface import MAX_NODE_SCORE, ScorePlugin

MB = 1024 * 1024
MIN_THRESHOLD = 23 * MB
MAX_CONTAINER_THRESHOLD = 1000 * MB


def normalized_image_name(name: str) -> str:
    """A name without a tag gets ":latest" (the CRI form)."""
    if name.rfind(":") <= name.rfind("/"):
        name = name + ":latest"
    return name


def calculate_priority(sum_scores: int, num_containers: int) -> int:
    max_threshold = MAX_CONTAINER_THRESHOLD * num_containers
    if sum_scores < MIN_THRESHOLD:
        sum_scores = MIN_THRESHOLD
    elif sum_scores > max_threshold:
        sum_scores = max_threshold
    return MAX_NODE_SCORE * (sum_scores - MIN_THRESHOLD) // (max_threshold - MIN_THRESHOLD)


class ImageLocality(ScorePlugin):
    name = "ImageLocality"
    bounded_scores = True

    def score(self, state, pod, node_info) -> int:
        snapshot = self.handle.snapshot
        total = snapshot.num_nodes()
        s = 0
        for image in pod.images:
            name = normalized_image_name(image)
            size = node_info.images.get(name)
            if size is not None:
                spread = snapshot.image_num_nodes(name) / total
                s += int(size * spread)
        return calculate_priority(s, len(pod.images))

    def score_vec(self, state, pod, table, rows):
        images = tuple(normalized_image_name(i) for i in pod.images)
        # The score depends only on the nodes' images and the pod's image list: computed once
        # per distinct image list over every node, until a node changes.
        return table.derived(("ImageLocality", images), lambda: self._score_all(table, images))[rows]

    @staticmethod
    def _score_all(table, images: tuple[str, ...]) -> np.ndarray:
        total = len(table)
        sums = np.zeros(table.high, np.int64)
        for name in images:
            num = table.image_num_nodes(name)
            if num == 0:
                continue
            spread = num / total
            sums += (table.image_sizes(name).astype(np.float64) * spread).astype(np.int64)
        max_threshold = MAX_CONTAINER_THRESHOLD * len(images)
        if max_threshold <= MIN_THRESHOLD:
            return np.array([calculate_priority(int(x), len(images)) for x in sums], np.int64)
        clamped = np.clip(sums, MIN_THRESHOLD, max_threshold)
        return MAX_NODE_SCORE * (clamped - MIN_THRESHOLD) // (max_threshold - MIN_THRESHOLD)

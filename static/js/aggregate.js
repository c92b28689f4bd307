// aggregate.js — a large cluster stays readable: what the diagram draws of a snapshot.
//
// Beyond a few dozen pods on a node, or a few dozen nodes, chips stop being readable from the
// back of a room.  The page then draws such a node's pods as counts per phase (the shape the
// server already sends for clusters past 600 pods: node.podCounts / podTotal, see
// cluster/worker/frames.py), and the scheduling queue as its count and its first pods.
// Clicking a node zooms into it: that node alone, its pods as chips.
//
// Pure functions of the snapshot (no DOM): the diagram renders what `aggregate` returns.

import { displayPhase } from "./diagram.js";

export const MAX_PODS_PER_NODE = 30;   // more pods than this on a node: counts
export const MAX_NODES = 30;           // more nodes than this: every node as counts
export const QUEUE_SHOWN = 50;         // pending pods drawn as chips (as many as the server sends past 600 pods); the rest counted

// A node's pods as {display phase: n}, the phases the chips would show.
export function podCountsOf(pods) {
  const counts = {};
  for (const p of pods || []) {
    const phase = displayPhase(p, true);
    counts[phase] = (counts[phase] || 0) + 1;
  }
  return counts;
}

// The snapshot the diagram should draw.  `zoom`: a node's name to show alone with its chips
// (ignored when the node is gone).  Returns {snap, aggregated: [node names drawn as counts],
// zoomed: the zoomed node's name or null}.
export function aggregate(snap, { zoom = null, maxPods = MAX_PODS_PER_NODE, maxNodes = MAX_NODES,
                                  queueShown = QUEUE_SHOWN } = {}) {
  if (!snap || !Array.isArray(snap.nodes)) return { snap, aggregated: [], zoomed: null };
  const out = { ...snap };
  const aggregated = [];
  let zoomed = null;
  const counted = (n) => {
    if (n.podCounts || !Array.isArray(n.pods)) {
      if (n.podCounts) aggregated.push(n.name);
      return n;
    }
    aggregated.push(n.name);
    const { pods, ...rest } = n;
    return { ...rest, pods: [], podCounts: podCountsOf(pods), podTotal: pods.length, aggregated: true };
  };
  const zoomNode = zoom ? snap.nodes.find((n) => n.name === zoom) : null;
  if (zoomNode) {
    // The node alone with its chips; the control plane stays (counted), so the requests to
    // and from the node's kubelet still travel on the picture.
    zoomed = zoomNode.name;
    out.nodes = snap.nodes.filter((n) => n === zoomNode || n.role === "control-plane")
      .map((n) => (n === zoomNode ? n : counted(n)));
  } else {
    const many = snap.nodes.length > maxNodes;
    // A node over the bound (or every node of a large cluster) is counted.
    out.nodes = snap.nodes.map((n) => {
      if (n.podCounts) return counted(n);  // the server counted them already
      if (!Array.isArray(n.pods) || (!many && n.pods.length <= maxPods)) return n;
      return counted(n);
    });
  }
  const pending = Array.isArray(snap.pending) ? snap.pending : [];
  if (pending.length > queueShown) {
    out.pending = pending.slice(0, queueShown);
    out.pendingTotal = Math.max(Number(snap.pendingTotal) || 0, pending.length);
  }
  return { snap: out, aggregated, zoomed };
}

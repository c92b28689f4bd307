// status.js — what the header says about the cluster, and only what is true.
//
// The status badge is derived from what the page knows for sure, in this order:
//   deleted         the cluster was deleted (its last frame said so, or the server no longer knows it)
//   broken          the cluster could not be restored after a restart (the repair panel shows why)
//   disconnected    the WebSocket to the server is not open (closed, reconnecting)
//   not responding  the WebSocket is open but no frame came for STALE_MS while the clock runs
//                   (a running cluster sends about ten a second)
//   paused / running
// The pace badge: the cluster's clock runs slower than asked (frames carry `pace`, the ratio of
// the asked speed it really runs at) — shown below PACE_WARN while the cluster is live.

export const STALE_MS = 3000;
export const PACE_WARN = 0.95;
// Once shown, the warning stays until the pace is back above this (no flicker around 0.95).
export const PACE_CLEAR = 0.97;

// -> {label, cls, title}
export function clusterStatus({ deleted = false, broken = null, ws = "open", paused = false,
                                sinceFrameMs = 0 } = {}) {
  if (deleted) {
    return { label: "deleted", cls: "deleted", title: "This cluster was deleted." };
  }
  if (broken) {
    return { label: "broken", cls: "broken",
             title: "This cluster could not be restored after the server restarted; see the repair panel." };
  }
  if (ws !== "open") {
    return { label: "disconnected", cls: "disconnected",
             title: "The page has no connection to the server: what it shows may be out of date. It keeps trying to reconnect." };
  }
  if (!paused && sinceFrameMs > STALE_MS) {
    return { label: "not responding", cls: "stale",
             title: `No update from the server for ${Math.round(sinceFrameMs / 1000)} s: it may be overloaded or stuck. What the page shows may be out of date.` };
  }
  if (paused) return { label: "paused", cls: "paused", title: "The cluster's clock is paused." };
  return { label: "running", cls: "running", title: "The cluster's clock runs; the page is up to date." };
}

// "0.42" / "2.1" / "0.005": a speed or ratio as a short number.
export function fmtRatio(x) {
  const n = Number(x);
  if (!Number.isFinite(n)) return "?";
  if (n >= 10) return String(Math.round(n));
  if (n >= 0.1) return String(Number(n.toFixed(2)));
  return String(Number(n.toPrecision(2)));
}

// -> null (keeping up, or nothing to say) or {label, title}.  shown: the warning is on screen now.
export function paceWarning(pace, speed, { shown = false } = {}) {
  const p = Number(pace);
  if (pace == null || !Number.isFinite(p) || p >= (shown ? PACE_CLEAR : PACE_WARN)) return null;
  const asked = Number(speed) || 1;
  return {
    label: `falling behind: ${fmtRatio(p * asked)}× of ${fmtRatio(asked)}×`,
    title: `The simulation has more work than it can do at this speed; its clock runs slower than asked ` +
           `(${fmtRatio(p)} of the asked ${fmtRatio(asked)}×, i.e. ${fmtRatio(p * asked)} virtual seconds per second). ` +
           `Lower the speed, or give it less to do.`,
  };
}

// The "API objects" panel: every kind the cluster's kube-apiserver serves - built-in, or
// defined by a CustomResourceDefinition - with how many objects it holds and the first few
// names.  Drawn from snapshot.kinds (Cluster._kinds_frame), which reaches kinds through the
// API server's registry: a CRD's kind appears here the moment it is established.

// Each row is a button of the Objects view (static/js/objects.js): click it, or Enter on it, to
// list that kind's objects; the picked row has aria-selected="true".
export function renderKinds(table, kinds, picked = null) {
  if (!table || !Array.isArray(kinds)) return;
  const body = table.tBodies[0] || table.createTBody();
  const rows = kinds
    .slice()
    .sort((a, b) => (a.source === "builtin") - (b.source === "builtin") || String(a.kind).localeCompare(String(b.kind)));
  const key = JSON.stringify(rows);
  if (table.dataset.key === key) return;  // nothing changed: keep the DOM (and any selection)
  table.dataset.key = key;
  body.textContent = "";
  for (const k of rows) {
    const tr = body.insertRow();
    tr.dataset.kind = k.kind;
    tr.dataset.resource = k.group ? `${k.resource}.${k.group}` : k.resource;
    tr.dataset.count = String(k.count);
    tr.tabIndex = 0;
    tr.setAttribute("aria-selected", String(tr.dataset.resource === picked));
    tr.title = `List the ${k.kind} objects`;
    const kindCell = tr.insertCell();
    kindCell.textContent = k.kind;
    if (k.source !== "builtin") {
      const badge = document.createElement("span");
      badge.className = "badge crd";
      badge.title = `defined by the CustomResourceDefinition ${k.source}`;
      badge.textContent = "CRD";
      kindCell.append(" ", badge);
    }
    tr.insertCell().textContent = k.group || "core";
    tr.insertCell().textContent = k.namespaced ? "Namespaced" : "Cluster";
    const count = tr.insertCell();
    count.className = "count";
    count.textContent = Number(k.count).toLocaleString("en-US");
    const names = tr.insertCell();
    names.className = "names";
    const shown = (k.names || []).join(", ");
    names.textContent = k.count > (k.names || []).length ? `${shown}, …` : shown;
  }
  const summary = document.getElementById("kinds-summary");
  if (summary) {
    const custom = rows.filter((k) => k.source !== "builtin").length;
    summary.textContent = `${rows.length} kinds served` + (custom ? `, ${custom} from CustomResourceDefinitions` : "");
  }
}

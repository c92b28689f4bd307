// objects.js — the Objects view: every kind the API serves (kinds.js draws the table from
// snapshot.kinds), the objects of the picked kind (a LIST through the cluster's own API:
// GET <data-list-url>?kind=<resource.group>), and the picked object as YAML (kubectl edit's GET
// and PUT: the Reload and Save buttons post to dashboard:edit_get / edit_put with htmx, which
// swaps #obj-body with the answer: the YAML, and the API's Status message on an error).
//
// What the DOM exposes (tests rely on it):
//   #kinds-table tr      data-kind, data-resource ("deployments.apps"), data-count, aria-selected
//   #objects-table       data-resource (the kind listed), data-total; its rows data-namespace, data-name
//   #objects-list-result the list's error, if any (the Status message)
//   #obj-body            the editor (#obj-yaml, #obj-result: ok / error, data-code)

import { renderKinds } from "./kinds.js";

export class ObjectsView {
  constructor(section) {
    this.section = section;
    this.kindsTable = section?.querySelector("#kinds-table");
    this.table = section?.querySelector("#objects-table");
    this.result = section?.querySelector("#objects-list-result");
    this.title = section?.querySelector("#objects-title");
    this.picked = null;        // "deployments.apps"
    this.pickedObject = null;  // "ns/name"
    this.counts = new Map();
    this.loading = null;
    if (!section) return;
    const pick = (e, fn) => {
      const tr = e.target.closest("tbody tr[data-resource], tbody tr[data-name]");
      if (!tr) return;
      if (e.type === "keydown") {
        if (e.key !== "Enter" && e.key !== " ") return;
        e.preventDefault();
      }
      fn(tr);
    };
    // A page without controls shows the YAML read-only, also after each Reload's swap.
    section.addEventListener("htmx:afterSwap", () => {
      const yaml = document.getElementById("obj-yaml");
      if (yaml && !document.getElementById("btn-obj-save")) yaml.readOnly = true;
    });
    for (const type of ["click", "keydown"]) {
      this.kindsTable?.addEventListener(type, (e) => pick(e, (tr) => this.pickKind(tr.dataset.resource)));
      this.table?.addEventListener(type, (e) => pick(e, (tr) => this.pickObject(tr)));
    }
  }

  // A new snapshot: the kinds and their counts; the listed kind's objects again when its count
  // changed (an object made or deleted elsewhere shows up here).
  render(kinds) {
    if (!this.kindsTable || !Array.isArray(kinds)) return;
    renderKinds(this.kindsTable, kinds, this.picked);
    for (const k of kinds) {
      const key = k.group ? `${k.resource}.${k.group}` : k.resource;
      const before = this.counts.get(key);
      this.counts.set(key, k.count);
      if (key === this.picked && before !== undefined && before !== k.count) this.list();
    }
  }

  // The object drawer's "Show in Objects view": its kind listed, its row marked.
  reveal(resource, namespace, name) {
    this.pickedObject = `${namespace || ""}/${name}`;
    this.pickKind(resource);
  }

  pickKind(resource) {
    this.picked = resource;
    for (const tr of this.kindsTable.querySelectorAll("tbody tr")) {
      tr.setAttribute("aria-selected", String(tr.dataset.resource === resource));
    }
    this.list();
  }

  async list() {
    const resource = this.picked;
    if (!resource) return;
    const url = `${this.section.dataset.listUrl}?kind=${encodeURIComponent(resource)}`;
    const ticket = (this.loading = Symbol(resource));
    let data, ok;
    try {
      const r = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
      ok = r.ok;
      data = await r.json();
    } catch (err) {
      ok = false;
      data = { message: `could not list ${resource}: ${err.message || err}` };
    }
    if (this.loading !== ticket) return;  // a newer pick answered (or will)
    this.showList(resource, ok, data);
  }

  showList(resource, ok, data) {
    const body = this.table.tBodies[0];
    this.table.dataset.resource = resource;
    if (!ok) {
      this.result.className = "result error";
      this.result.dataset.code = String(data?.code ?? "");
      this.result.textContent = data?.message || `could not list ${resource}`;
      this.table.hidden = true;
      return;
    }
    this.result.className = "result";
    this.result.textContent = "";
    const items = data.items || [];
    this.table.dataset.total = String(data.total ?? items.length);
    this.title.textContent = `${data.kind} — ${Number(data.total ?? items.length).toLocaleString("en-US")}` +
      (items.length < (data.total ?? 0) ? ` (first ${items.length} shown)` : "");
    this.table.tHead.rows[0].cells[0].hidden = !data.namespaced;
    body.textContent = "";
    for (const o of items) {
      const tr = body.insertRow();
      tr.dataset.kind = data.kind;
      tr.dataset.namespace = o.namespace;
      tr.dataset.name = o.name;
      tr.tabIndex = 0;
      const key = `${o.namespace}/${o.name}`;
      tr.setAttribute("aria-selected", String(key === this.pickedObject));
      const ns = tr.insertCell();
      ns.textContent = o.namespace;
      ns.hidden = !data.namespaced;
      tr.insertCell().textContent = o.name;
      tr.insertCell().textContent = o.age;
    }
    if (!items.length) {
      const td = body.insertRow().insertCell();
      td.colSpan = 3;
      td.className = "muted";
      td.textContent = `No ${data.kind} objects.`;
    }
    this.table.hidden = false;
  }

  pickObject(tr) {
    this.pickedObject = `${tr.dataset.namespace}/${tr.dataset.name}`;
    for (const row of this.table.querySelectorAll("tbody tr")) row.setAttribute("aria-selected", String(row === tr));
    const set = (id, v) => { const el = document.getElementById(id); if (el) el.value = v; };
    set("obj-kind", this.table.dataset.resource);
    set("obj-namespace", tr.dataset.namespace);
    set("obj-name", tr.dataset.name);
    const title = document.getElementById("obj-title");
    if (title) title.textContent = `${tr.dataset.kind} ${tr.dataset.namespace ? tr.dataset.namespace + "/" : ""}${tr.dataset.name}`;
    const load = document.getElementById("btn-obj-load");
    const save = document.getElementById("btn-obj-save");
    if (load) load.disabled = false;
    if (save) save.disabled = false;
    load?.click();
  }
}

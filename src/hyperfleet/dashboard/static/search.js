// One search's page: plots from /plots (downsampled by the server), then live updates from
// /live?since=CURSOR every second (only the evaluations finished since the cursor), and the
// evaluations table one server-side page at a time. Every value from the store is put in the page
// as text (textContent), never as HTML; strings given to Plotly are escaped first (Plotly reads
// a few HTML tags in its labels).
"use strict";
(function () {
  const root = document.getElementById("search");
  const sid = root.dataset.id;
  const api = "/api/search/" + encodeURIComponent(sid);
  const LAG = 30;            // seconds of results the server sends again (see queries.LIVE_LAG_S)
  const POLL_MS = 500;     // a poll whose counts did not change costs the server one index query
  const REPLOT_MS = 15000;   // the downsampled plots are rebuilt at most this often (or 10x their load time)
  const STATES = ["CREATED", "RUNNING", "DONE", "FAILED", "TIMEOUT", "CANCELLED", "STOPPED"];
  // baseline: the newest end time the last /plots answer covered (rows up to it are drawn already)
  const live = { cursor: null, baseline: null, seen: new Map(), finished: 0, best: null, lastPlot: 0, more: false };
  const table = { offset: 0, limit: 25, sort: "number", order: "desc", state: "", q: "" };
  let params = { names: [], kinds: [] };
  let plotCost = 0;          // ms the last /plots took: big searches replot less often
  // plotly.js (4.8 MB) loads after the page: the counts and the table show before it is parsed
  const plotlyReady = new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/static/plotly.min.js";
    script.onload = resolve;
    script.onerror = () => reject(new Error("plotly.js did not load"));
    document.head.appendChild(script);
  });
  const layoutBase = { margin: { l: 50, r: 10, t: 10, b: 40 }, showlegend: false };
  const config = { displaylogo: false, responsive: true };

  function esc(value) {  // for Plotly labels only
    return String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  function fmt(v) {
    if (v === null || v === undefined) return "-";
    if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
    return typeof v === "string" ? v : JSON.stringify(v);
  }
  function text(id, value) { const el = document.getElementById(id); if (el) el.textContent = value; }
  function dates(ts) { return ts.map(t => (t === null ? null : new Date(t * 1000))); }
  async function getJSON(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  // ----- plots -------------------------------------------------------------------------------
  function drawHistory(data) {
    const h = data.history, p = data.points;
    Plotly.react("plot-best-evals", [
      { x: p.x, y: p.y, mode: "markers", type: "scatter", marker: { size: 4, color: "#9ab" }, name: "objective" },
      { x: h.x, y: h.best, mode: "lines", type: "scatter", line: { shape: "hv", color: "#1f3b57" }, name: "best" },
    ], { ...layoutBase, xaxis: { title: { text: "evaluations finished" } }, yaxis: { title: { text: "objective" } } }, config);
    Plotly.react("plot-best-time", [
      { x: dates(p.t), y: p.y, mode: "markers", type: "scatter", marker: { size: 4, color: "#9ab" }, name: "objective" },
      { x: dates(h.t), y: h.best, mode: "lines", type: "scatter", line: { shape: "hv", color: "#1f3b57" }, name: "best" },
    ], { ...layoutBase, xaxis: { type: "date" }, yaxis: { title: { text: "objective" } } }, config);
  }

  function drawParams(data) {
    params = data.params;
    const box = document.getElementById("plot-params");
    params.names.forEach((name, i) => {
      let div = document.getElementById("plot-param-" + i);
      if (!div) { div = document.createElement("div"); div.id = "plot-param-" + i; box.appendChild(div); }
      const cat = params.kinds[i] === "cat";
      const x = params.values[i].map(v => (cat ? esc(fmt(v)) : v));
      Plotly.react(div, [{ x: x, y: params.objective, mode: "markers", type: "scatter", marker: { size: 4, opacity: 0.6 } }],
        { ...layoutBase, xaxis: { title: { text: esc(name) }, type: cat ? "category" : (params.log[i] ? "log" : "-") }, yaxis: { title: { text: "objective" } } }, config);
    });
    if (!params.objective.length) return;
    const dims = params.names.map((name, i) => {
      if (params.kinds[i] !== "cat") return { label: esc(name), values: params.values[i] };
      const labels = [...new Set(params.values[i].map(v => fmt(v)))].sort();
      const index = new Map(labels.map((l, k) => [l, k]));
      return { label: esc(name), values: params.values[i].map(v => index.get(fmt(v))),
               tickvals: labels.map((_, k) => k), ticktext: labels.map(esc) };
    });
    dims.push({ label: "objective", values: params.objective });
    Plotly.react("plot-parcoords", [{ type: "parcoords", dimensions: dims,
      line: { color: params.objective, colorscale: "Viridis", showscale: true } }],
      { margin: { l: 60, r: 60, t: 40, b: 20 } }, config);
  }

  function drawOthers(data) {
    const u = data.utilization;
    Plotly.react("plot-utilization", [
      { x: dates(u.t), y: u.busy, type: "scatter", mode: "lines", fill: "tozeroy", name: "busy" },
      { x: dates([u.t[0], u.t[u.t.length - 1]]), y: [u.workers, u.workers], type: "scatter", mode: "lines",
        line: { dash: "dot", color: "#a33" }, name: "workers" },
    ], { ...layoutBase, xaxis: { type: "date" }, yaxis: { title: { text: "busy workers" }, rangemode: "tozero" } }, config);
    if (data.curves.length) {
      document.getElementById("curves").hidden = false;
      Plotly.react("plot-curves", data.curves.map(c => ({ x: c.steps, y: c.values, type: "scatter", mode: "lines",
        name: "#" + c.number })), { ...layoutBase, showlegend: true, xaxis: { title: { text: "step" } },
        yaxis: { title: { text: "reported value" } } }, config);
    }
    if (data.pareto) drawPareto(data.pareto);
  }

  function drawPareto(p) {
    document.getElementById("pareto").hidden = false;
    text("pareto-size", p.size);
    const label = (i) => esc(p.names[i]) + " (" + (p.directions[i] === "minimize" ? "min" : "max") + ")";
    const groups = [
      { part: p.others, name: "dominated", marker: { size: 4, color: "#999", opacity: 0.5 } },
      { part: p.infeasible, name: "infeasible", marker: { size: 5, color: "#c33", symbol: "x", opacity: 0.6 } },
      { part: p.front, name: "Pareto front", marker: { size: 7, color: "#1f77b4" } },
    ];
    const hover = (part) => part.numbers.map(n => "#" + n);
    if (p.names.length === 2) {
      Plotly.react("plot-pareto", groups.map(g => ({ x: g.part.values[0], y: g.part.values[1], text: hover(g.part),
        type: "scatter", mode: g.name === "Pareto front" ? "lines+markers" : "markers",
        line: { shape: "hv" }, name: g.name, marker: g.marker })),
        { ...layoutBase, showlegend: true, xaxis: { title: { text: label(0) } }, yaxis: { title: { text: label(1) } } }, config);
      return;
    }
    Plotly.react("plot-pareto", groups.map(g => ({ type: "splom", name: g.name, text: hover(g.part), marker: g.marker,
      dimensions: p.names.map((_, i) => ({ label: label(i), values: g.part.values[i] })) })),
      { margin: { l: 60, r: 20, t: 20, b: 60 }, showlegend: true, height: 160 * p.names.length + 80 }, config);
  }

  async function loadImportance() {
    const data = await getJSON(api + "/importance");
    const imp = data.importance.slice().reverse();
    Plotly.react("plot-importance", [{ type: "bar", orientation: "h", x: imp.map(r => r.importance), y: imp.map(r => esc(r.name)) }],
      { ...layoutBase, margin: { l: 120, r: 10, t: 10, b: 40 }, xaxis: { title: { text: "share" } } }, config);
  }

  async function loadPlots() {
    const started = Date.now();
    const [data] = await Promise.all([getJSON(api + "/plots"), plotlyReady]);
    live.lastPlot = Date.now();
    plotCost = live.lastPlot - started;
    if (live.cursor === null) live.cursor = data.cursor;
    live.baseline = data.cursor;
    live.finished = data.finished;
    const bests = data.history.best.filter(b => b !== null);
    live.best = bests.length ? bests[bests.length - 1] : null;
    drawHistory(data);
    if (!performance.getEntriesByName("hf-plots").length) performance.mark("hf-plots");  // benchmarks/dashboard.py
    drawParams(data);
    drawOthers(data);
    loadImportance().catch(err => text("live-status", "importance: " + err.message));
  }

  // ----- live updates ------------------------------------------------------------------------
  function showCounts(info) {
    STATES.forEach(s => text("count-" + s.toLowerCase(), info.counts[s]));
    text("count-finished", info.finished);
    text("best", fmt(info.best));
    text("rate", fmt(info.rate_per_min));
    text("search-state", info.state);
  }

  async function poll() {
    try {
      const since = live.cursor === null ? "" : live.cursor;
      const data = await getJSON(api + "/live?since=" + encodeURIComponent(since));
      showCounts(data);
      const fresh = data.rows.filter(r => !live.seen.has(r[0]) && (live.baseline === null || r[1] > live.baseline));
      data.rows.forEach(r => live.seen.set(r[0], r[1]));
      for (const [n, t] of live.seen) if (t !== null && t < data.cursor - 2 * LAG) live.seen.delete(n);
      if (fresh.length) appendRows(fresh);
      if (typeof data.cursor === "number") live.cursor = data.cursor;
      live.more = data.more;
      text("live-status", "live: updated " + new Date().toLocaleTimeString());
      if (fresh.length) {
        refreshTable();
        if (Date.now() - live.lastPlot > Math.max(REPLOT_MS, 10 * plotCost)) loadPlots();
      }
    } catch (err) {
      text("live-status", "live: " + err.message);
    }
    setTimeout(poll, live.more ? 50 : POLL_MS);
  }

  function appendRows(rows) {
    const hx = [], ht = [], hb = [], px = [], pt = [], py = [];
    for (const [, t, objective, state] of rows) {
      live.finished += 1;
      if (state === "DONE" && objective !== null) {
        live.best = live.best === null ? objective : Math.max(live.best, objective);
        px.push(live.finished); pt.push(new Date(t * 1000)); py.push(objective);
      }
      hx.push(live.finished); ht.push(new Date(t * 1000)); hb.push(live.best);
    }
    Plotly.extendTraces("plot-best-evals", { x: [px, hx], y: [py, hb] }, [0, 1]);
    Plotly.extendTraces("plot-best-time", { x: [pt, ht], y: [py, hb] }, [0, 1]);
  }

  // ----- the evaluations table ---------------------------------------------------------------
  let tableTimer = null, tableAt = 0;
  function refreshTable() {
    if (tableTimer) return;
    const wait = Math.max(0, 2000 - (Date.now() - tableAt));
    tableTimer = setTimeout(() => { tableTimer = null; loadTable(); }, wait);
  }

  async function loadTable() {
    tableAt = Date.now();
    const q = new URLSearchParams({ offset: table.offset, limit: table.limit, sort: table.sort, order: table.order,
                                    state: table.state, q: table.q });
    let data;
    try { data = await getJSON(api + "/evaluations?" + q); } catch (err) { text("table-count", err.message); return; }
    const body = document.querySelector("#evaluations tbody");
    const rows = data.rows.map(r => {
      const tr = document.createElement("tr");
      tr.dataset.number = r.number;
      const cells = [r.number, r.id.slice(0, 8), r.state, fmt(r.objective), ...r.config.map(fmt),
                     r.duration === null ? "-" : r.duration.toFixed(2), r.worker || "-", r.error || ""];
      cells.forEach((value, i) => {
        const td = document.createElement("td");
        td.textContent = value;
        if (i === 0 || i === 3) td.className = "n";
        tr.appendChild(td);
      });
      tr.addEventListener("click", () => showDetail(r.number));
      return tr;
    });
    body.replaceChildren(...rows);
    if (!performance.getEntriesByName("hf-table").length) performance.mark("hf-table");  // benchmarks/dashboard.py
    const last = Math.min(data.offset + data.rows.length, data.total);
    text("table-count", data.total ? `${data.offset + 1}–${last} of ${data.total}` : "no evaluations match");
    document.getElementById("prev").disabled = data.offset === 0;
    document.getElementById("next").disabled = last >= data.total;
    document.querySelectorAll("#evaluations th[data-sort]").forEach(th => {
      th.classList.toggle("sorted-asc", th.dataset.sort === table.sort && table.order === "asc");
      th.classList.toggle("sorted-desc", th.dataset.sort === table.sort && table.order === "desc");
    });
  }

  async function showDetail(number) {
    const e = await getJSON(api + "/evaluation/" + number);
    document.getElementById("detail").hidden = false;
    text("detail-title", "#" + e.number + " " + e.id);
    const fields = document.getElementById("detail-fields");
    const items = [["state", e.state], ["objective", fmt(e.objective)], ["step", fmt(e.step)],
                   ["worker", (e.worker || "-") + " on " + (e.host || "-")],
                   ...Object.entries(e.config).map(([k, v]) => [k, fmt(v)]),
                   ...Object.entries(e.metadata || {}).map(([k, v]) => ["metadata." + k, fmt(v)])];
    fields.replaceChildren(...items.flatMap(([k, v]) => {
      const dt = document.createElement("dt"); dt.textContent = k;
      const dd = document.createElement("dd"); dd.textContent = v;
      return [dt, dd];
    }));
    text("detail-error", e.error || "(none)");
    for (const name of ["stdout", "stderr"]) {
      const file = e.files[name + ".txt"];
      text("detail-" + name, file ? (file.tail || "(empty)") : "(no file)");
      const link = document.getElementById("detail-" + name + "-link");
      if (file) link.href = "/search/" + encodeURIComponent(sid) + "/file/" + file.href.split("/").map(encodeURIComponent).join("/");
      else link.removeAttribute("href");
    }
  }

  function wireTable() {
    document.querySelectorAll("#evaluations th[data-sort]").forEach(th => th.addEventListener("click", () => {
      if (table.sort === th.dataset.sort) table.order = table.order === "asc" ? "desc" : "asc";
      else { table.sort = th.dataset.sort; table.order = th.dataset.sort === "objective" ? "desc" : "asc"; }
      table.offset = 0; loadTable();
    }));
    document.getElementById("filter-state").addEventListener("change", ev => { table.state = ev.target.value; table.offset = 0; loadTable(); });
    let typing = null;
    document.getElementById("filter-text").addEventListener("input", ev => {
      clearTimeout(typing);
      typing = setTimeout(() => { table.q = ev.target.value.trim(); table.offset = 0; loadTable(); }, 250);
    });
    document.getElementById("prev").addEventListener("click", () => { table.offset = Math.max(0, table.offset - table.limit); loadTable(); });
    document.getElementById("next").addEventListener("click", () => { table.offset += table.limit; loadTable(); });
    document.getElementById("detail-close").addEventListener("click", () => { document.getElementById("detail").hidden = true; });
  }

  wireTable();
  loadTable();
  loadPlots().catch(err => text("live-status", "plots: " + err.message)).finally(() => setTimeout(poll, POLL_MS));
})();

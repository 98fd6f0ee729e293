// The list of searches: counts, state, best and rate refreshed every 3 s from /api/searches
// (values set as text, never as HTML). A new search shows after a reload.
"use strict";
(function () {
  function fmt(v) { return v === null || v === undefined ? "-" : String(Number(v.toPrecision(6))); }
  async function refresh() {
    try {
      const response = await fetch("/api/searches", { credentials: "same-origin" });
      const data = await response.json();
      for (const s of data.searches) {
        const row = document.querySelector(`tr[data-id="${CSS.escape(s.id)}"]`);
        if (!row) continue;
        const set = (cls, value) => { const td = row.querySelector("." + cls); if (td) td.textContent = value; };
        set("state", s.state);
        set("done", s.counts.DONE); set("running", s.counts.RUNNING);
        set("failed", s.counts.FAILED + s.counts.TIMEOUT); set("stopped", s.counts.STOPPED);
        set("cancelled", s.counts.CANCELLED); set("total", s.total);
        set("best", fmt(s.best)); set("rate", fmt(s.rate_per_min));
      }
      document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
    } catch (err) {
      document.getElementById("updated").textContent = "not updated: " + err.message;
    }
    setTimeout(refresh, 3000);
  }
  setTimeout(refresh, 3000);
})();

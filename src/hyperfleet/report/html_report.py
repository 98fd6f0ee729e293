"""``hyperfleet report``: PNG plots and one self-contained HTML page in the search's folder."""

from __future__ import annotations

import base64
import html
import json
import time
from pathlib import Path

from hyperfleet.files import set_file_mode
from hyperfleet.problem import HpProblem
from hyperfleet.report import plots
from hyperfleet.store import EvaluationState, SearchRecord, Store

REPORT_NAME = "report.html"


def write_report(store: Store, search: SearchRecord, top: int = 10) -> dict[str, Path]:
    """Draw every plot of ``search`` into its folder and write ``report.html`` beside them.

    Works on running searches too: it reads what the store holds now.

    Returns:
        The files written, by name (``best``, ``utilization``, ``parameters``, ``importance``
        when there are enough results, ``html``).
    """
    folder = Path(search.folder)
    problem = HpProblem.from_dict(search.problem)
    records = store.list_evaluations(search.id)
    start = search.start_time or search.created_time or time.time()
    files = {
        "best": plots.best_so_far(records, start, folder / "report_best.png"),
        "utilization": plots.utilization(records, start, folder / "report_utilization.png"),
        "parameters": plots.objective_by_parameter(problem, records, folder / "report_parameters.png"),
    }
    imp = plots.importance(problem, records, folder / "report_importance.png")
    if imp is not None:
        files["importance"] = imp
    files["html"] = _write_html(search, problem, records, files, folder / REPORT_NAME, top)
    return files


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _write_html(search: SearchRecord, problem: HpProblem, records, files: dict, path: Path, top: int) -> Path:
    counts: dict[str, int] = {}
    for r in records:
        counts[r.state.value] = counts.get(r.state.value, 0) + 1
    done = sorted((r for r in records if r.state == EvaluationState.DONE), key=lambda r: -r.objective)[:top]
    head = "".join(f"<th>{html.escape(n)}</th>" for n in ["rank", "id", "objective", *problem.names])
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in
                         [i, r.id[:8], f"{r.objective:.6g}", *(_fmt(r.config[n]) for n in problem.names)]) + "</tr>"
        for i, r in enumerate(done, 1))
    settings = html.escape(json.dumps(search.settings, indent=2, default=str))
    state_line = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items())) or "no evaluations yet"
    titles = {"best": "Best objective so far", "utilization": "Worker utilization",
              "parameters": "Objective against each hyperparameter", "importance": "Hyperparameter importance"}
    figures = "".join(f"<h2>{titles[k]}</h2>{_img(files[k], titles[k])}" for k in titles if k in files)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>hyperfleet report: {html.escape(search.label)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; font-size: 0.9em; }}
th {{ background: #f0f0f0; }}
img {{ max-width: 100%; display: block; margin: 0.5em 0 1.5em; }}
pre {{ background: #f7f7f7; padding: 1em; overflow-x: auto; }}
</style></head>
<body>
<h1>Search {html.escape(search.label)}</h1>
<p>id {html.escape(search.id)} &middot; state {html.escape(search.state.value)} &middot; {html.escape(state_line)}
&middot; report written {html.escape(time.strftime("%Y-%m-%d %H:%M:%S"))}</p>
<h2>Top {len(done)} evaluations</h2>
<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>
{figures}
<h2>Settings</h2>
<pre>{settings}</pre>
</body></html>
"""
    path.write_text(page)
    set_file_mode(path)
    return path


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)

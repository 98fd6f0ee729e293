"""``hyperfleet report``: PNG plots and one self-contained HTML page in the search's folder."""

from __future__ import annotations

import base64
import html
import json
import time
from pathlib import Path

from hyperfleet.active_time import ActiveClock
from hyperfleet.files import set_file_mode
from hyperfleet.problem import HpProblem
from hyperfleet.report import curves, plots
from hyperfleet.store import EvaluationState, SearchRecord, Store

REPORT_NAME = "report.html"


def write_report(store: Store, search: SearchRecord, top: int = 10) -> dict[str, Path]:
    """Draw every plot of ``search`` into its folder and write ``report.html`` beside them.

    Works on running searches too: it reads what the store holds now.

    Returns:
        The files written, by name (``best``, ``utilization``, ``parameters``, ``importance``
        when there are enough results, ``curves`` when evaluations reported intermediate
        values, ``html``).
    """
    folder = Path(search.folder)
    problem = HpProblem.from_dict(search.problem)
    records = store.list_evaluations(search.id)
    start = ActiveClock.of(search.settings, search.start_time or search.created_time or time.time())
    files = {
        "best": plots.best_so_far(records, start, folder / "report_best.png",
                                  minimize=problem.directions[0] == "minimize"),
        "utilization": plots.utilization(records, start, folder / "report_utilization.png"),
        "parameters": plots.objective_by_parameter(problem, records, folder / "report_parameters.png"),
    }
    if problem.is_multi_objective:
        from hyperfleet.report import front_plots

        for name, draw in (("front", front_plots.pareto_front),
                           ("hypervolume", front_plots.hypervolume_over_time)):
            drawn = draw(problem, records, folder / f"report_{name}.png")
            if drawn is not None:
                files[name] = drawn
    imp = plots.importance(problem, records, folder / "report_importance.png")
    if imp is not None:
        files["importance"] = imp
    reports = store.list_reports(search.id)
    saved = curves.steps_saved(records, reports, (search.settings.get("stopper_settings") or {}).get("max_step"))
    lines = curves.learning_curves(records, reports, folder / "report_curves.png", saved)
    if lines is not None:
        files["curves"] = lines
    files["html"] = _write_html(search, problem, records, files, folder / REPORT_NAME, top, saved)
    return files


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _write_html(search: SearchRecord, problem: HpProblem, records, files: dict, path: Path, top: int,
                saved=None) -> Path:
    counts: dict[str, int] = {}
    for r in records:
        counts[r.state.value] = counts.get(r.state.value, 0) + 1
    done = _top(problem, records, top)
    columns = [*problem.objective_names, *problem.constraints]
    head = "".join(f"<th>{html.escape(n)}</th>" for n in ["rank", "id", *columns, *problem.names])
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in
                         [i, r.id[:8], *_values(problem, r), *(_fmt(r.config[n]) if n in r.config else "" for n in problem.names)]) + "</tr>"
        for i, r in enumerate(done, 1))
    settings = html.escape(json.dumps(search.settings, indent=2, default=str))
    state_line = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items())) or "no evaluations yet"
    titles = {"front": "Pareto front", "hypervolume": "Hypervolume over time",
              "best": "Best objective so far", "utilization": "Worker utilization",
              "parameters": "Objective against each hyperparameter", "importance": "Hyperparameter importance",
              "curves": "Learning curves"}
    notes = {"curves": f"<p>{html.escape(saved.sentence())}.</p>" if saved is not None else ""}
    figures = "".join(f"<h2>{titles[k]}</h2>{notes.get(k, '')}{_img(files[k], titles[k])}"
                      for k in titles if k in files)
    space = "".join(f"<tr><td>{html.escape(d.name)}</td><td>{html.escape(_describe(d))}</td></tr>"
                    for d in problem.dims)
    failed = [r for r in records if r.state in (EvaluationState.FAILED, EvaluationState.TIMEOUT)]
    if done:
        what = (f"Pareto front ({len(done)} feasible non-dominated evaluations)"
                if problem.is_multi_objective else f"Top {len(done)} evaluations")
        top_section = (f"<h2>{what}</h2>\n"
                       f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    elif failed:
        errors = "".join(f"<tr><td>{r.number}</td><td>{html.escape(r.id[:8])}</td>"
                         f"<td class=left>{html.escape(_first_line(r.error))}</td></tr>" for r in failed[:top])
        top_section = (f'<p class="warn">No evaluation succeeded: {len(failed)} failed. The first errors '
                       f"(<code>hyperfleet ls {html.escape(search.label)}</code> lists them all):</p>\n"
                       f"<table><thead><tr><th>#</th><th>id</th><th>error</th></tr></thead>"
                       f"<tbody>{errors}</tbody></table>")
    else:
        top_section = "<p>No evaluation has finished yet.</p>"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>hyperfleet report: {html.escape(search.label)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; font-size: 0.9em; }}
th {{ background: #f0f0f0; }}
td.left, table.space td {{ text-align: left; }}
p.warn {{ color: #b00; font-weight: bold; }}
img {{ max-width: 100%; display: block; margin: 0.5em 0 1.5em; }}
pre {{ background: #f7f7f7; padding: 1em; overflow-x: auto; }}
</style></head>
<body>
<h1>Search {html.escape(search.label)}</h1>
<p>id {html.escape(search.id)} &middot; state {html.escape(search.state.value)} &middot; {html.escape(state_line)}
&middot; {html.escape(_duration_line(search, records))}
&middot; report written {html.escape(time.strftime("%Y-%m-%d %H:%M:%S"))}</p>
{top_section}
<h2>Search space</h2>
<table class="space"><thead><tr><th>hyperparameter</th><th>range</th></tr></thead><tbody>{space}</tbody></table>
{figures}
<h2>Settings</h2>
<pre>{settings}</pre>
</body></html>
"""
    path.write_text(page)
    set_file_mode(path)
    return path


def _top(problem: HpProblem, records, top: int) -> list:
    """The best feasible DONE records in the objective's direction; several objectives: the
    whole Pareto front, by the first objective."""
    from hyperfleet.report.front import front_records

    sign = -1.0 if problem.directions[0] == "maximize" else 1.0
    if problem.is_multi_objective:
        return sorted(front_records(problem, records), key=lambda r: sign * r.objective)
    done = [r for r in records if r.state == EvaluationState.DONE and r.feasible is not False]
    return sorted(done, key=lambda r: sign * r.objective)[:top]


def _values(problem: HpProblem, r) -> list[str]:
    k = len(problem.objective_names)
    ys = r.objectives if r.objectives is not None and len(r.objectives) == k else [r.objective] + [None] * (k - 1)
    cs = r.constraints if r.constraints is not None else [None] * len(problem.constraints)
    return ["" if v is None else f"{v:.6g}" for v in [*ys, *cs]]


def _describe(dim) -> str:
    """A dimension's range as people write it: ``int [5, 10]``, ``float [1e-05, 0.1] log``, choices."""
    data = dim.to_dict()
    if data["kind"] == "cat":
        return "one of " + ", ".join(json.dumps(c) if not isinstance(c, str) else c for c in data["choices"])
    scale = " log" if data.get("log") else ""
    if data["kind"] == "ord" and "values" in data:
        return "ordered " + ", ".join(json.dumps(c) if not isinstance(c, str) else c
                                      for c in data["values"]) + scale
    if data["kind"] == "ord":
        kind = "int" if isinstance(data["step"], int) else "float"
        return f"{kind} [{data['low']}, {data['high']}] step {data['step']}{scale}"
    return f"{data['kind']} [{data['low']}, {data['high']}]{scale}"


def _duration_line(search: SearchRecord, records) -> str:
    """``ran 0:12:34 (12 Dec 21:13 to 21:25)`` or ``running for 0:02:00``."""
    start = search.start_time or min((r.start_time for r in records if r.start_time), default=None)
    if start is None:
        return "not started"
    end = search.end_time or max((r.end_time for r in records if r.end_time), default=None)
    running = search.state.value in ("RUNNING", "QUEUED") or end is None
    stop = time.time() if running else end
    seconds = int(max(stop - start, 0))
    clock = f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(start))
    return f"running for {clock} since {since}" if running else f"ran {clock} from {since}"


def _first_line(error) -> str:
    lines = [line.strip() for line in (error or "").splitlines() if line.strip()]
    return lines[0] if lines else ""


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)

"""The dashboard and ``load_results`` at 100,000 evaluations, against Optuna's ``trials_dataframe``.

    python benchmarks/dashboard.py [--n 100000] [--anchor-python /work/venvs/anchors/bin/python]
        [--screenshot docs/dashboard.png] [--skip-optuna]

1. A SQLite store with one search of N finished evaluations (inserted in bulk into the real
   schema by ``hyperfleet.testing.synthetic_store``; 3 hyperparameters, 5 % failures, 50 curves).
2. ``hyperfleet.load_results`` on it (best of 3), and Optuna's ``study.trials_dataframe()`` on a
   SQLite study of N trials, in the anchors' interpreter (``benchmarks/optuna_frame.py``).
3. ``hyperfleet dashboard`` started as a user would (a subprocess); the size and server time of
   each request the search page makes.
4. Headless Chromium: first paint of the search page, cold (plotly.js not cached) and warm:
   navigation start to DOMContentLoaded, to the first table rows, to the first plots drawn.
5. Live update latency: a finished evaluation is written to the store while the page is open;
   the time until the page's finished count shows it (5 times).

Prints a markdown table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(SRC))

import httpx  # noqa: E402

import hyperfleet  # noqa: E402
from hyperfleet.store import SqlStore  # noqa: E402
from hyperfleet.store.schema import evaluations_table  # noqa: E402
from hyperfleet.testing.synthetic_store import fill_search  # noqa: E402


def timed(fn, repeat=1):
    times, value = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return value, times


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_dashboard(store: str):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen([sys.executable, "-m", "hyperfleet", "dashboard", "--store", store, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(url + "/api/searches", timeout=30)
            return proc, url
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the dashboard did not start: " + proc.stderr.read().decode()) from None
            time.sleep(0.2)


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1300",
                "--enable-unsafe-swiftshader", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(300)
    return driver


def first_paint(driver, url: str) -> dict:
    driver.get(url)
    deadline = time.monotonic() + 300
    script = ("const m = n => (performance.getEntriesByName(n)[0] || {}).startTime;"
              "const nav = performance.getEntriesByType('navigation')[0];"
              "return [nav.domContentLoadedEventEnd, m('hf-table'), m('hf-plots')];")
    while True:
        dcl, table, plots = driver.execute_script(script)
        if table is not None and plots is not None:
            return {"dom_content_loaded_s": dcl / 1000, "table_s": table / 1000, "plots_s": plots / 1000}
        if time.monotonic() > deadline:
            raise RuntimeError("the page showed no data in 300 s")
        time.sleep(0.05)


def live_latency(driver, store: SqlStore, search_id: str, number: int, times: int = 5) -> list[float]:
    """Write one finished evaluation at a time; seconds until the count on screen shows it."""
    out = []
    for k in range(times):
        shown = int(driver.find_element("id", "count-finished").text)
        now = time.time()
        with store.engine.begin() as conn:
            conn.execute(evaluations_table.insert(), [{
                "id": str(uuid.uuid4()), "search_id": search_id, "number": number + k, "config": {"x": 0.3, "units": 64, "opt": "adam"},
                "state": "DONE", "objective": 0.5, "metadata": {}, "created_time": now - 1, "start_time": now - 1,
                "end_time": now, "worker": "worker-0", "host": "node1"}])
        t0 = time.perf_counter()
        while int(driver.find_element("id", "count-finished").text) < shown + 1:
            if time.perf_counter() - t0 > 30:
                raise RuntimeError("the live update never came")
            time.sleep(0.01)
        out.append(time.perf_counter() - t0)
        time.sleep(0.3)  # land at varied points of the page's 1 s polling cycle
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--anchor-python", default="/work/venvs/anchors/bin/python")
    parser.add_argument("--skip-optuna", action="store_true")
    parser.add_argument("--screenshot", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hf-dash-bench-"))
    path = str(work / "hyperfleet.db")
    store = SqlStore(path)
    results: dict = {"n": args.n, "load_average": os.getloadavg()}
    sid, build = timed(lambda: fill_search(store, args.n, label="bench", folder=str(work / "searches" / "bench"),
                                           curves=50))
    results["fill_s"] = build[0]
    frame, load = timed(lambda: hyperfleet.load_results("bench", store=path), repeat=3)
    results["load_results_s"] = min(load)
    results["load_results_all_s"] = load
    results["frame_shape"] = list(frame.shape)
    if not args.skip_optuna:
        proc = subprocess.run([args.anchor_python, str(HERE / "optuna_frame.py"), str(args.n), str(work / "optuna.db")],
                              capture_output=True, text=True, timeout=3600)
        if proc.returncode == 0:
            results["optuna"] = json.loads(proc.stdout.strip().splitlines()[-1])
            results["ratio_optuna_over_hyperfleet"] = results["optuna"]["frame_s"] / results["load_results_s"]
        else:
            results["optuna_error"] = proc.stderr[-2000:]
    server, url = start_dashboard(path)
    try:
        plots = httpx.get(f"{url}/api/search/{sid}/plots", timeout=300)  # the first build (then cached)
        cursor = plots.json()["cursor"]
        requests = {"front page /": "/", "search page HTML": f"/search/{sid}",
                    "plots (downsampled)": f"/api/search/{sid}/plots",
                    "importance": f"/api/search/{sid}/importance",
                    "table page (25 rows, sorted by objective)": f"/api/search/{sid}/evaluations?limit=25&sort=objective&order=desc",
                    "table page filtered (FAILED, search 'adam')": f"/api/search/{sid}/evaluations?limit=25&state=FAILED&q=adam",
                    "live update (nothing new)": f"/api/search/{sid}/live?since={cursor + 60}",
                    "live update (last 30 s again)": f"/api/search/{sid}/live?since={cursor}",
                    "plotly.min.js": "/static/plotly.min.js"}
        results["requests"] = {}
        for name, path_ in requests.items():
            response, seconds = timed(lambda p=path_: httpx.get(url + p, timeout=300), repeat=3)
            results["requests"][name] = {"bytes": len(response.content), "seconds": statistics.median(seconds)}
        driver = browser()
        try:
            results["first_paint_cold"] = first_paint(driver, f"{url}/search/{sid}")
            results["first_paint_warm"] = first_paint(driver, f"{url}/search/{sid}")
            time.sleep(2)
            results["live_latency_s"] = live_latency(driver, store, sid, args.n)
            if args.screenshot:
                driver.set_window_size(1400, 1250)
                time.sleep(2)
                driver.save_screenshot(str(args.screenshot))
        finally:
            driver.quit()
    finally:
        server.terminate()
        server.wait(timeout=30)
    results["load_average_after"] = os.getloadavg()
    print(report(results))
    print(json.dumps(results))


def report(r: dict) -> str:
    lines = [f"N = {r['n']:,} evaluations; load average before {r['load_average'][0]:.1f}, after "
             f"{r['load_average_after'][0]:.1f}", "", "| measure | value |", "|---|---:|",
             f"| store filled (bulk insert) | {r['fill_s']:.1f} s |",
             f"| `load_results` (best of 3; shape {r['frame_shape'][0]:,} x {r['frame_shape'][1]}) | {r['load_results_s']:.2f} s |"]
    if "optuna" in r:
        lines += [f"| Optuna {r['optuna']['optuna']} `trials_dataframe()` ({r['optuna']['rows']:,} trials, one run) | "
                  f"{r['optuna']['frame_s']:.2f} s |",
                  f"| ratio Optuna / hyperfleet | {r['ratio_optuna_over_hyperfleet']:.1f}x |"]
    for key in ("first_paint_cold", "first_paint_warm"):
        p = r[key]
        lines.append(f"| first paint {key.split('_')[-1]}: DOMContentLoaded / table rows / plots | "
                     f"{p['dom_content_loaded_s']:.2f} / {p['table_s']:.2f} / {p['plots_s']:.2f} s |")
    live = r["live_latency_s"]
    lines.append(f"| live update latency, median (max) of {len(live)} | {statistics.median(live):.2f} ({max(live):.2f}) s |")
    lines += ["", "| request | bytes | server time (median of 3) |", "|---|---:|---:|"]
    for name, v in r["requests"].items():
        lines.append(f"| {name} | {v['bytes']:,} | {v['seconds']:.3f} s |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

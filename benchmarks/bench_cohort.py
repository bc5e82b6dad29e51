"""Cohort model speed: 1,000 draws x 5 years on the witan.send demo, x 10 years on the bundled demo.

Run ``.venv/bin/python benchmarks/bench_cohort.py [--draws 1000] [--repeats 3]`` and record the
figures in ``benchmarks/README.md``. Prints wall and CPU seconds (best of the repeats), the
load average (the build box is shared: wall time at high load is not the code's speed), the
size of the projection and its memory. First, in two fresh processes sharing an empty numba
cache directory: the first projection's CPU time when numba compiles the kernel (once per
machine) and when it loads it from the cache (once per process).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # this checkout's senforecast, not an installed one
    sys.path.insert(0, str(ROOT))

from senforecast.datasets.demo import load_demo
from senforecast.io.witan import load_witan_demo
from senforecast.models.cohort.model import CohortModel


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


_FIRST_CALL = """
import time
from senforecast.io.witan import load_witan_demo
from senforecast.models.cohort.model import CohortModel
m = CohortModel().fit(load_witan_demo())
c = time.process_time()
m.project(years=1, n_draws=2, seed=0)
print(time.process_time() - c)
"""


def first_call_cpu(cache_dir: str) -> float:
    """CPU seconds of a fresh process's first (tiny) projection with numba's cache in ``cache_dir``."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir,
           "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    out = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def run(name: str, data, years: int, mode: str, draws: int, repeats: int, flows: bool = True) -> None:
    t0 = time.perf_counter()
    model = CohortModel(mode=mode).fit(data)
    fit_s = time.perf_counter() - t0
    best_wall = best_cpu = float("inf")
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        proj = model.project(years=years, n_draws=draws, seed=1, flows=flows)
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    mb = (proj.draws.nbytes + sum(f.nbytes for f in proj.flows.values())) / 2**20
    total = proj.summary().iloc[-1]
    print(f"{name:<14} mode={mode:<5} flows={str(flows):<5} {draws} draws x {years} years: fit {fit_s:.2f} s, project "
          f"{best_wall:.2f} s wall / {best_cpu:.2f} s CPU (best of {repeats}); "
          f"{proj.draws.shape[2]} cells, draws+flows {mb:.0f} MiB; "
          f"last-year total {total['mean']:.0f} [{total['p05']:.0f}, {total['p95']:.0f}]", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"nproc {os.cpu_count()}, CPU {_cpu_model()}, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as cache:
        compile_s, load_s = first_call_cpu(cache), first_call_cpu(cache)
    print(f"first projection in a process: {compile_s:.2f} s CPU compiling the kernel (empty cache), "
          f"{load_s:.2f} s CPU loading it from the cache", flush=True)
    witan = load_witan_demo()
    demo = load_demo()
    for mode in ("witan", "bayes"):
        run("witan.send demo", witan, 5, mode, args.draws, args.repeats)
    for mode in ("bayes", "witan"):
        run("bundled demo", demo, 10, mode, args.draws, args.repeats)
    run("bundled demo", demo, 10, "bayes", args.draws, args.repeats, flows=False)
    print(f"load average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

"""Scale benchmarks: reading plans, transitions, fitting, projecting, gap analysis, national runs.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--quick] [--only NAME ...] [--draws N]``
(or ``python -m benchmarks`` for every benchmark). Each step runs in a fresh (spawned)
Python process, so its wall time excludes imports and its peak memory is the peak resident
set size (``resource.ru_maxrss``) of that process and of any worker processes it starts,
with the size of a process that has only imported the library shown separately.

Data are synthetic authorities from :mod:`senforecast.datasets.synthetic` (a known Markov process):
plan files of 10k, 100k and 1M rows over 6 censuses; authorities of 3,000 and 20,000 plans;
a national set of 150 authorities averaging 4,000 plans (about 600,000), each generated,
fitted and projected in a worker of :func:`senforecast.pipeline.runs.project_many` and reduced there
to national totals by need and setting.
"""
from __future__ import annotations

import argparse
import functools
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _rss_mib() -> tuple[float, float]:
    """Peak RSS of this process and of its largest finished child, MiB.

    This process: ``VmHWM`` (reset by exec, unlike ``ru_maxrss``, which a spawned process
    inherits from the parent it was forked from). Children: ``ru_maxrss`` (Linux, KiB).
    """
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                me = int(line.split()[1]) / 1024
    except OSError:
        pass
    return me, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _quiet():
    warnings.simplefilter("ignore")


class _Clock:
    """Wall and CPU time of a block (CPU includes finished child processes, e.g. pool workers)."""

    def __enter__(self):
        self.w0 = time.perf_counter()
        self.c0 = self._cpu()
        return self

    @staticmethod
    def _cpu() -> float:
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.w0
        self.cpu = self._cpu() - self.c0
        return False


# ----------------------------------------------------------------------------- steps
# Each step runs in its own process and returns (seconds, details dict).

def step_baseline() -> tuple[float, dict]:
    import senforecast.planning.gap  # noqa: F401 - the imports every other step pays for
    import senforecast.io  # noqa: F401
    import senforecast.models.cohort.model  # noqa: F401
    return None, {}


def step_read_plans(path: str) -> tuple[float, dict]:
    from senforecast.io import read_plans
    _quiet()
    with _Clock() as c:
        plans = read_plans(path)
    return c, {"rows": len(plans)}


def step_transitions(path: str) -> tuple[float, dict]:
    import pandas as pd

    from senforecast.core.transitions import build_transitions
    _quiet()
    plans = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_pickle(path)
    with _Clock() as c:
        t = build_transitions(plans, warn=False)
    return c, {"rows": len(plans), "transition_rows": len(t)}


def _authority(n_plans: int, seed: int = 0):
    from senforecast.datasets.synthetic import synthetic_authority
    return synthetic_authority(n_plans, n_years=6, seed=seed, code=f"LA{n_plans}")


def step_fit(n_plans: int) -> tuple[float, dict]:
    from senforecast.models.cohort.model import CohortModel
    _quiet()
    d = _authority(n_plans)
    with _Clock() as first:
        CohortModel().fit(_authority(100, seed=1))  # first fit in a process: lazy imports
    with _Clock() as c:
        CohortModel().fit(d)  # includes building transitions from the plans
    return c, {"first_tiny_fit_cpu_s": round(first.cpu, 2),
               "plans_last_census": int((d.plans["year"] == d.plans["year"].max()).sum())}


def step_project(n_plans: int, n_draws: int, years: int = 10, flows: bool = True) -> tuple[float, dict]:
    from senforecast.models.cohort.model import CohortModel
    _quiet()
    m = CohortModel().fit(_authority(n_plans))
    # the first projection in a process loads the compiled kernel from numba's disk cache
    # (or compiles it, once per machine): timed apart from the projection itself
    with _Clock() as first:
        m.project(years=1, n_draws=2, seed=0, flows=flows)
    with _Clock() as dt:
        p = m.project(years=years, n_draws=n_draws, seed=1, flows=flows)
    nbytes = p.draws.nbytes + sum(f.nbytes for f in p.flows.values())
    return dt, {"first_tiny_call_cpu_s": round(first.cpu, 2), "cells": p.draws.shape[2],
                "projection_MiB": round(nbytes / 2**20),
                "mean_total_last_year": round(float(p.total()[:, -1].mean()))}


def step_naive(n_plans: int, n_draws: int, years: int = 10) -> tuple[float, dict]:
    from benchmarks.naive_cohort import naive_simulate, plan_for
    from senforecast.models.cohort.model import CohortModel
    from senforecast.models.cohort.sim import simulate
    _quiet()
    m = CohortModel().fit(_authority(n_plans))
    plan = plan_for(m, years)
    with _Clock() as dt:
        naive = naive_simulate(plan, n_draws, np.random.default_rng(2))
    # same model: the library simulation's mean totals agree with the loop's (sanity check)
    _, out = simulate(plan, 400, np.random.default_rng(3))
    vec = out["stock"].sum(2)
    nav = naive.sum((2, 3))
    z = (nav[:, -1].mean() - vec[:, -1].mean()) / np.sqrt(nav[:, -1].var() / n_draws + vec[:, -1].var() / 400)
    return dt, {"draws": n_draws, "per_draw_cpu_s": round(dt.cpu / n_draws, 3), "z_last_year_mean_vs_library": round(float(z), 2),
                "sd_ratio_last_year_vs_library": round(float(nav[:, -1].std() / vec[:, -1].std()), 2)}


def step_gap(n_plans: int, n_draws: int, years: int = 10) -> tuple[float, dict]:
    from senforecast.planning.gap import gap_analysis
    from senforecast.models.cohort.model import CohortModel
    _quiet()
    d = _authority(n_plans)
    p = CohortModel().fit(d).project(years=years, n_draws=n_draws, seed=1)
    with _Clock() as c:
        g = gap_analysis(p, d.provision, allocate=True)
        g.by_year()
    return c, {"groups": len(g.groups)}


def _national_item(seed: int, i: int, size: int):
    from senforecast.datasets.synthetic import synthetic_authority
    return synthetic_authority(size, n_years=6, seed=np.random.SeedSequence(seed).spawn(i + 1)[i],
                               code=f"LA{i + 1:03d}")


def _by_need_setting_kind(projection):
    # reduce in the worker: national tables by need and setting kind (codes differ by authority)
    from senforecast.pipeline.runs import totals_by
    setting = projection.cells["setting"].astype(str)
    kind = setting.str.extract(r"-([A-Z]+)\d*$")[0].fillna("OTHER")
    projection.cells = projection.cells.assign(setting=kind.to_numpy())
    return totals_by(projection, ["need", "setting"])


def step_national(n_authorities: int, mean_plans: int, n_draws: int, years: int = 10,
                  workers: int = 2, flows: bool = False) -> tuple[float, dict]:
    from senforecast.pipeline.runs import project_many
    _quiet()
    rng = np.random.default_rng(0)
    sizes = rng.lognormal(0, 0.6, n_authorities)
    sizes = np.maximum(100, np.rint(sizes / sizes.sum() * n_authorities * mean_plans)).astype(int)
    loaders = [functools.partial(_national_item, 0, i, int(s)) for i, s in enumerate(sizes)]
    with _Clock() as dt, ProcessPoolExecutor(max_workers=workers, initializer=_quiet) as pool:
        out = project_many(loaders, years=years, n_draws=n_draws, seed=1, executor=pool,
                           reduce=_by_need_setting_kind, flows=flows, priority=sizes)
    # national total: draws of independent authorities add up
    total = sum(p.total() for p in out)
    return dt, {"authorities": n_authorities, "plans": int(sizes.sum()), "workers": workers, "flows": flows,
                "national_total_last_year_p05_p50_p95": np.percentile(total[:, -1], [5, 50, 95]).round().tolist()}


def step_scenarios(n_plans: int, n_scenarios: int, n_draws: int, years: int = 10,
                   workers: int = 2) -> tuple[float, dict]:
    from senforecast.models.cohort.model import CohortModel
    from senforecast.pipeline.runs import run_scenarios, totals_by
    from senforecast.core.scenarios import RateChange, Scenario
    _quiet()
    m = CohortModel().fit(_authority(n_plans))
    grid = [Scenario(f"joiners x{1 + 0.05 * i:.2f}, leavers x{1 - 0.03 * i:.2f}", joiner_multiplier=1 + 0.05 * i,
                     rate_changes=(RateChange("leaver", 1 - 0.03 * i),)) for i in range(n_scenarios)]
    with _Clock() as dt, ProcessPoolExecutor(max_workers=workers, initializer=_quiet) as pool:
        out = run_scenarios(m, grid, years=years, n_draws=n_draws, seed=1, executor=pool,
                            reduce=functools.partial(totals_by, by="need"), flows=False)
    last = [float(p.total()[:, -1].mean()) for p in out.values()]
    return dt, {"scenarios": n_scenarios, "workers": workers,
                "mean_total_last_year_first_last": [round(last[0]), round(last[-1])]}


def _child(name: str, kwargs: dict) -> dict:
    fn = globals()[f"step_{name}"]
    clock, details = fn(**kwargs)
    me, kids = _rss_mib()
    return {"seconds": getattr(clock, "wall", 0.0), "cpu_s": round(getattr(clock, "cpu", 0.0), 2),
            "peak_rss_MiB": round(me), "worker_peak_rss_MiB": round(kids), **details}


def run_step(name: str, **kwargs) -> dict:
    """Run ``step_<name>(**kwargs)`` in a fresh spawned process; return its figures."""
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as ex:
        return ex.submit(_child, name, kwargs).result()


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines()
                   if x.startswith("MemTotal")) / 2**20
    except (OSError, StopIteration):
        mem = float("nan")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}, "
            f"numpy {np.__version__}; load average {load:.1f} at start")


def _fmt(name: str, r: dict) -> str:
    skip = ("seconds", "cpu_s", "peak_rss_MiB", "worker_peak_rss_MiB")
    extra = ", ".join(f"{k}={v}" for k, v in r.items() if k not in skip)
    w = f" (+ workers up to {r['worker_peak_rss_MiB']} MiB each)" if r.get("worker_peak_rss_MiB") else ""
    return (f"{name:<40} {r['seconds']:8.2f} s wall {r['cpu_s']:8.2f} s CPU  peak RSS {r['peak_rss_MiB']:>6} MiB{w}"
            f"  {extra}")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--only", nargs="*", help="step names to run (prefix match)")
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--naive-draws", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    q = args.quick
    D = 50 if q else args.draws
    read_sizes = (10_000, 20_000) if q else (10_000, 100_000, 1_000_000)
    n_la, mean_plans = (6, 500) if q else (150, 4000)
    n_sc = 4 if q else 20

    print("machine:", machine())
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    results: dict[str, dict] = {}

    def want(name: str) -> bool:
        return not args.only or any(name.startswith(o) for o in args.only)

    def record(name: str, step: str, **kw) -> None:
        if not want(name):
            return
        r = run_step(step, **kw)
        results[name] = r
        print(_fmt(name, r), flush=True)

    record("imports only", "baseline")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in read_sizes:
            name = f"read+validate plans {rows:,} rows"
            if not want(name) and not want(f"transitions {rows:,}"):
                continue
            d = _authority(max(10, rows // 6))  # ~rows over 6 censuses
            path = Path(tmp) / f"plans_{rows}.csv"
            d.plans.to_csv(path, index=False)
            record(name, "read_plans", path=str(path))
            if rows == read_sizes[-1]:
                pk = Path(tmp) / "plans.pkl"
                d.plans.to_pickle(pk)
                record(f"transitions {len(d.plans):,} rows", "transitions", path=str(pk))
            del d
    for n in (3000, 20_000):
        record(f"fit cohort model {n:,} plans", "fit", n_plans=n)
    for n in (3000, 20_000):
        record(f"project {n:,} plans {D}x10", "project", n_plans=n, n_draws=D)
        record(f"project {n:,} plans {D}x10 flows=False", "project", n_plans=n, n_draws=D, flows=False)
    record(f"naive loop 3,000 plans {args.naive_draws}x10", "naive", n_plans=3000, n_draws=args.naive_draws)
    for n in (3000, 20_000):
        record(f"gap+allocation {n:,} plans {D}x10", "gap", n_plans=n, n_draws=D)
    record(f"scenarios 3,000 plans {n_sc} x {D}x10", "scenarios", n_plans=3000, n_scenarios=n_sc, n_draws=D,
           workers=args.workers)
    record(f"national {n_la} LAs {D}x10", "national", n_authorities=n_la, mean_plans=mean_plans,
           n_draws=D, workers=args.workers)

    nv = results.get(f"naive loop 3,000 plans {args.naive_draws}x10")
    for label, key in (("stock only, as the loop", f"project 3,000 plans {D}x10 flows=False"),
                       ("with the four flows", f"project 3,000 plans {D}x10")):
        p = results.get(key)
        if p and nv:
            ratio = nv["per_draw_cpu_s"] * D / p["cpu_s"]
            print(f"library ({label}) vs naive per-cohort loop, 3,000 plans x 10 years, CPU time: {ratio:.0f}x "
                  f"faster (naive {nv['per_draw_cpu_s'] * D:.0f} s CPU for {D} draws, extrapolated from "
                  f"{args.naive_draws})")
            results[f"ratio_vs_naive ({label})"] = {"ratio": ratio}
    return results


if __name__ == "__main__":
    main()

"""Benchmark: build transitions and the anomaly report from ~1M plan rows.

Run: ``.venv/bin/python benchmarks/bench_transitions.py [n_children]``. Synthetic plans:
``n_children`` (default 222,222) over five censuses, each child present in 90% of them,
giving about one million rows; a 3-setting provision register for the anomaly checks.
"""
from __future__ import annotations

import sys
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd

from senforecast.core.errors import InputWarning
from senforecast.core.transitions import build_transitions, transition_anomalies


def synthetic_plans(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    years = np.arange(2019, 2024)
    ids = np.repeat(np.arange(n), len(years))
    yr = np.tile(years, n)
    keep = rng.random(len(ids)) < 0.9
    return pd.DataFrame({
        "pupil_id": np.char.add("P", ids.astype(str))[keep], "year": yr[keep],
        "ncy": (rng.integers(-1, 10, n).repeat(len(years)) + (yr - years[0]))[keep],
        "need": rng.choice(["ASD", "MLD", "SLD", "BESD"], len(ids))[keep],
        "setting": rng.choice(["MS", "RB", "SS"], len(ids))[keep],
        "area": rng.choice(["N", "S", "E", "W"], n).repeat(len(years))[keep]})


def main(n: int = 222_222) -> None:
    plans = synthetic_plans(n)
    prov = pd.DataFrame({"setting": ["MS", "RB", "SS"], "min_ncy": [-1, 0, -1], "max_ncy": [13, 6, 13],
                         "designation": ["*", "ASD;MLD", "*"], "opens": pd.array([pd.NA] * 3, "Int64"),
                         "closes": pd.array([pd.NA] * 3, "Int64")})
    warnings.simplefilter("ignore", InputWarning)
    t0 = time.perf_counter()
    t = build_transitions(plans)
    t1 = time.perf_counter()
    a = transition_anomalies(plans, prov)
    t2 = time.perf_counter()
    tracemalloc.start()  # memory in a second run: tracing slows the first one down
    build_transitions(plans)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"{len(plans):,} plan rows -> {len(t):,} transition rows ({int(t['count'].sum()):,} children-pairs)")
    print(f"build_transitions {t1 - t0:.2f} s; transition_anomalies {t2 - t1:.2f} s "
          f"({len(a):,} anomaly rows); build peak traced memory {peak:.0f} MiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 222_222)

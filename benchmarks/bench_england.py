"""Benchmark: the whole England backtest (150 stable areas, origins 2016-2019, horizons 1-3).

Includes the frozen issue-15 settings model and the region / England totals' intervals (1,000
joint draws per origin and model, independent and with shared shocks), then the held-out
origins 2020-2021.

Run: .venv/bin/python benchmarks/bench_england.py   (prints seconds; target < 60 s on 2 cores)
"""
from __future__ import annotations

import time


def main() -> dict[str, float]:
    t0 = time.perf_counter()
    from senforecast.england import load_england_ehcp, run_england_backtest
    from senforecast.evaluation.england_selection import HELD_OUT_ORIGINS, frozen_backtest

    tables = load_england_ehcp()
    t1 = time.perf_counter()
    result = run_england_backtest(tables.age, tables.setting, origins=(2016, 2017, 2018, 2019), horizons=(1, 2, 3))
    t2 = time.perf_counter()
    held = frozen_backtest(tables.age, tables.setting, origins=HELD_OUT_ORIGINS)
    t3 = time.perf_counter()
    n, n_tot = len(result.forecasts), len(result.totals)
    out = {"load_s": t1 - t0, "backtest_s": t2 - t1, "held_out_s": t3 - t2, "forecast_rows": n, "total_rows": n_tot}
    print(f"load extract {out['load_s']:.2f} s; backtest {out['backtest_s']:.2f} s "
          f"({n:,} scored forecasts, {n_tot:,} region/England totals, {tables.age['area'].nunique()} areas); "
          f"held-out origins {out['held_out_s']:.2f} s ({len(held.forecasts):,} forecasts)")
    return out


if __name__ == "__main__":
    main()

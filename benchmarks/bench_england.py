"""Benchmark: the whole England backtest (150 stable areas, origins 2016-2019, horizons 1-3).

Run: .venv/bin/python benchmarks/bench_england.py   (prints seconds; target < 60 s on 2 cores)
"""
from __future__ import annotations

import time


def main() -> dict[str, float]:
    t0 = time.perf_counter()
    from senforecast.england import load_england_ehcp, run_england_backtest

    tables = load_england_ehcp()
    t1 = time.perf_counter()
    result = run_england_backtest(tables.age, tables.setting, origins=(2016, 2017, 2018, 2019), horizons=(1, 2, 3))
    t2 = time.perf_counter()
    n = len(result.forecasts)
    out = {"load_s": t1 - t0, "backtest_s": t2 - t1, "forecast_rows": n}
    print(f"load extract {out['load_s']:.2f} s; backtest {out['backtest_s']:.2f} s "
          f"({n:,} scored forecasts, {tables.age['area'].nunique()} areas)")
    return out


if __name__ == "__main__":
    main()

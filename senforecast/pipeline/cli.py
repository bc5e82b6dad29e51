"""Command line: ``senforecast demo --out DIR`` and ``senforecast run CONFIG.toml --out DIR``.

Both run the whole pipeline (read, fit, project, gap, scenarios, backtest) and write
``report.html``, ``senforecast.xlsx``, ``csv/`` and ``charts/`` to ``DIR``. Progress goes to
stderr. A problem with the inputs or the config prints a short message (file, row, column)
and exits with status 2, without a traceback.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from ..core.errors import InputValidationError, SenForecastError
from .config import demo_config, load_config
from .run import run_pipeline, write_outputs

EXIT_OK = 0
EXIT_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="senforecast",
        description="Forecast demand for specialist SEN/ALN school places and the gap to capacity.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser("demo", help="run the whole pipeline on the bundled demo authority")
    run = sub.add_parser("run", help="run the whole pipeline on your own files, described in a TOML config")
    run.add_argument("config", help="TOML config file (see examples/config.toml)")
    for p in (demo, run):
        p.add_argument("--out", default="senforecast-output" if p is run else "demo-output",
                       help="output folder (created)")
        p.add_argument("--draws", type=int, help="simulation draws (overrides the config)")
        p.add_argument("--horizon", type=int, help="years to project (overrides the config)")
        p.add_argument("--seed", type=int, help="random seed (overrides the config)")
        p.add_argument("--backtest-draws", type=int, help="draws per backtest origin")
        p.add_argument("--no-backtest", action="store_true", help="skip the backtest")
        p.add_argument("--suppress-below", type=float,
                       help="show published counts below this as '<N' (e.g. 5)")
        p.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def _config(args: argparse.Namespace):
    cfg = demo_config() if args.command == "demo" else load_config(args.config)
    changes = {k: v for k, v in {"draws": args.draws, "horizon": args.horizon, "seed": args.seed,
                                 "backtest_draws": args.backtest_draws,
                                 "suppress_below": args.suppress_below}.items() if v is not None}
    if args.no_backtest:
        changes["backtest"] = False
    for k in ("draws", "horizon", "backtest_draws"):
        if k in changes and changes[k] < 1:
            raise SenForecastError(f"--{k.replace('_', '-')} must be at least 1 (got {changes[k]})")
    return cfg.replace(**changes) if changes else cfg


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``senforecast`` command; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 when an input file or the config has problems.

    Examples
    --------
    >>> main(["run", "no-such-config.toml", "--quiet"])
    2
    """
    args = _parser().parse_args(argv)

    def progress(msg: str) -> None:
        if not args.quiet:
            print(f"senforecast: {msg}", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    try:
        cfg = _config(args)
        progress(f"{cfg.name}: {cfg.model} model, {cfg.horizon} years, {cfg.draws} draws, seed {cfg.seed}")
        with warnings.catch_warnings():
            # warnings are collected into the report; keep the terminal to progress lines
            warnings.simplefilter("ignore")
            result = run_pipeline(cfg, progress=progress)
            files = write_outputs(result, args.out, progress=progress)
    except InputValidationError as exc:
        print(f"senforecast: the input files have problems; nothing was written.\n{exc}", file=sys.stderr)
        return EXIT_INPUT
    except SenForecastError as exc:
        print(f"senforecast: {exc}", file=sys.stderr)
        return EXIT_INPUT
    out = Path(args.out)
    n_warn = len(result.warnings)
    progress(f"finished in {time.perf_counter() - t0:.0f} s; {n_warn} data-quality warning(s) in the report")
    print(f"Report:   {files['report']}")
    print(f"Workbook: {files['workbook']}")
    print(f"CSVs:     {out / 'csv'} ({len(files['csv'])} files)")
    print(f"Charts:   {out / 'charts'} ({len(files['charts'])} files)")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())

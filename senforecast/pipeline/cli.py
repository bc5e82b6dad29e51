"""Command line: ``senforecast demo --out DIR`` and ``senforecast run CONFIG.toml --out DIR``.

Both run the whole pipeline (read, fit, project, gap, scenarios, backtest) and write
``report.html``, ``senforecast.xlsx``, ``csv/`` and ``charts/`` to ``DIR``. Progress goes to
stderr. Exit status:

* 0: done;
* 2: a problem with the inputs, the config, an option or the output folder; a short message
  (file, row, column) and no traceback. Options are checked by the same rules as the config
  file. The output folder is checked before anything is computed;
* 130: interrupted with Ctrl-C; one line, no traceback.

Outputs are written into a staging folder beside ``DIR`` and swapped in at the end, so a
failure or Ctrl-C leaves an earlier output in ``DIR`` exactly as it was.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Iterable

from ..core.errors import InputValidationError, Problem, SenForecastError
from .atomic import OutputError, check_output_folder
from .config import Config, config_warnings, demo_config, load_config
from .run import run_pipeline, write_outputs

EXIT_OK = 0
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

MAX_PROBLEM_LINES = 60
"""At most this many lines of input problems are printed (one per kind of problem)."""


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
                       help="output folder (created; an earlier output there is replaced only when "
                            "the new one is complete)")
        p.add_argument("--draws", type=int, help="simulation draws, at least 10 (overrides the config)")
        p.add_argument("--horizon", type=int, help="years to project (overrides the config)")
        p.add_argument("--seed", type=int, help="random seed, 0 or more (overrides the config)")
        p.add_argument("--backtest-draws", type=int, help="draws per backtest origin, at least 10")
        p.add_argument("--no-backtest", action="store_true", help="skip the backtest")
        p.add_argument("--suppress-below", type=float,
                       help="show published counts below this as '<N' (a whole number, e.g. 5)")
        p.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


_OPTIONS = {"draws": "--draws", "horizon": "--horizon", "seed": "--seed",
            "backtest_draws": "--backtest-draws", "suppress_below": "--suppress-below"}


def _config(args: argparse.Namespace) -> Config:
    """The config file's settings with the command-line options on top, all checked by the
    config's own rules (``--draws 1`` is refused like ``draws = 1``)."""
    cfg = demo_config() if args.command == "demo" else load_config(args.config)
    changes = {k: getattr(args, k) for k in _OPTIONS if getattr(args, k) is not None}
    if args.no_backtest:
        changes["backtest"] = False
    return cfg.replace(labels=_OPTIONS, **changes) if changes else cfg


def _rows_text(rows: list[int], limit: int = 8) -> str:
    shown = ", ".join(map(str, rows[:limit]))
    return shown + (f" and {len(rows) - limit:,} more" if len(rows) > limit else "")


def summarise_problems(problems: Iterable[Problem], max_lines: int = MAX_PROBLEM_LINES) -> list[str]:
    """Input problems as lines: one per problem, or, when there are many, one per kind.

    Problems that differ only in their row (the same file, column, message and value) are
    put on one line with the number of rows and the first row numbers, so 4,664 rows with
    the unknown need code ``'Autism'`` are one line, not 4,664.

    Parameters
    ----------
    problems : iterable of Problem
    max_lines : int
        Lines printed at most; the last says how many kinds of problem were left out.

    Returns
    -------
    list of str

    Examples
    --------
    >>> ps = [Problem("plans.csv", r, "need", "unknown need code", "Autism") for r in range(2, 5002)]
    >>> summarise_problems(ps + [Problem("plans.csv", 7, "ncy", "expected an NCY", "Y99")])
    ["plans.csv, column 'need': unknown need code (found 'Autism') - 5,000 rows: 2, 3, 4, 5, 6, 7, 8, 9 and 4,992 more", "plans.csv, row 7, column 'ncy': expected an NCY (found 'Y99')"]
    """
    problems = list(problems)
    if len(problems) <= 20:
        return [str(p) for p in problems]
    groups: dict[tuple, list[Problem]] = {}
    for p in problems:
        try:
            key = (p.file, p.column, p.message, p.value)
            hash(key)
        except TypeError:
            key = (p.file, p.column, p.message, repr(p.value))
        groups.setdefault(key, []).append(p)
    lines = []
    for (file, column, message, _), members in groups.items():
        rows = [m.row for m in members if m.row is not None]
        if len(members) == 1 or not rows:
            lines += [str(m) for m in members]
            continue
        head = str(Problem(file, None, column, message, members[0].value))
        lines.append(f"{head} - {len(rows):,} rows: {_rows_text(rows)}")
    if len(lines) > max_lines:
        rest = lines[max_lines - 1:]
        lines = lines[:max_lines - 1] + [f"... and {len(rest):,} more lines of problems like those above"]
    return lines


def _input_problems_text(exc: InputValidationError) -> str:
    lines = summarise_problems(exc.problems)
    n = len(exc.problems)
    head = f"{n:,} problem(s) found in the input" + ("; rows with the same problem share a line:"
                                                     if len(lines) < n else ":")
    return "\n".join([head] + [f"  - {line}" for line in lines])


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``senforecast`` command; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success; 2 when an input file, the config, an option or the output folder has a
        problem; 130 when interrupted (Ctrl-C).

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
    out = Path(args.out)
    try:
        cfg = _config(args)
        check_output_folder(out)  # before computing: a read-only or wrong --out fails in a second
        cautions = config_warnings(cfg)
        for note in cautions:
            print(f"senforecast: warning: {note}", file=sys.stderr)
        progress(f"{cfg.name}: {cfg.model} model, {cfg.horizon} years, {cfg.draws} draws, seed {cfg.seed}")
        with warnings.catch_warnings():
            # warnings are collected into the report; keep the terminal to progress lines
            warnings.simplefilter("ignore")
            result = run_pipeline(cfg, progress=progress)
            result.warnings[:0] = [n for n in cautions if n not in result.warnings]
            files = write_outputs(result, out, progress=progress)
    except KeyboardInterrupt:
        kept = " the earlier output there is unchanged" if out.is_dir() else " nothing was written"
        print(f"senforecast: interrupted (Ctrl-C) before the output in {str(out)!r} was complete;{kept}.",
              file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except InputValidationError as exc:
        print(f"senforecast: the input files have problems; nothing was written.\n{_input_problems_text(exc)}",
              file=sys.stderr)
        return EXIT_INPUT
    except OutputError as exc:
        print(f"senforecast: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except SenForecastError as exc:
        print(f"senforecast: {exc}", file=sys.stderr)
        return EXIT_INPUT
    n_warn = len(result.warnings)
    progress(f"finished in {time.perf_counter() - t0:.0f} s; {n_warn} data-quality warning(s) in the report")
    print(f"Report:   {files['report']}")
    print(f"Workbook: {files['workbook']}")
    print(f"CSVs:     {out / 'csv'} ({len(files['csv'])} files)")
    print(f"Charts:   {out / 'charts'} ({len(files['charts'])} files)")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())

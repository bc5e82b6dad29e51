"""How the probe cases are built and run (shared by the tests/test_probes*.py files).

Each case starts from the bundled demo CSVs (``senforecast.datasets.demo_dir()``) copied to a
folder with a fast config (20 draws, a 3-year horizon, no backtest), edited with a few pandas
changes, and run through the command line in-process (``cli.main``).
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")

import openpyxl
import pandas as pd
import pytest

from senforecast.datasets.demo import demo_dir
from senforecast.pipeline import cli

REPO = Path(__file__).resolve().parents[1]
TABLES = ("plans", "population", "provision", "costs")

BASE_TOML = """name = "Probe authority"

[inputs]
plans = "plans.csv"
population = "population.csv"
provision = "provision.csv"
costs = "costs.csv"
need_scheme = "wales_plasc"

[model]
kind = "cohort"
horizon = 3
draws = 20
seed = 1

[gap]
confidence = 0.9
kinds = { "OLA-MS" = "mainstream" }

[backtest]
enabled = false

[output]
chart_formats = ["png"]
"""


def owned(work: str) -> pytest.MarkDecorator:
    """Cases fixed by other work (disclosure, costs, scenarios), first written as strict xfails;
    that work has landed, so they are plain tests now (the marker only labels them)."""
    return pytest.mark.owned(work)


# ------------------------------------------------------------------------------ building cases
Edit = Callable[[Path], None]


def _read(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)


def _write(folder: Path, table: str, df: pd.DataFrame) -> None:
    df.to_csv(folder / f"{table}.csv", index=False)


def frame(table: str, fn: Callable[[pd.DataFrame], pd.DataFrame | None]) -> Edit:
    """Edit one demo CSV as a DataFrame of text (fn may change it in place or return a new one)."""
    def edit(folder: Path) -> None:
        df = _read(folder, table)
        out = fn(df)
        _write(folder, table, df if out is None else out)
    return edit


def cells(table: str, changes: dict[tuple[int, str], str]) -> Edit:
    """Set cells by spreadsheet row (the header is row 1) and column."""
    def fn(df: pd.DataFrame) -> None:
        for (row, col), value in changes.items():
            df.loc[row - 2, col] = value
    return frame(table, fn)


def text(table: str, fn: Callable[[str], str]) -> Edit:
    def edit(folder: Path) -> None:
        path = folder / f"{table}.csv"
        path.write_text(fn(path.read_text(encoding="utf-8")), encoding="utf-8")
    return edit


def chain(*edits: Edit) -> Edit:
    def edit(folder: Path) -> None:
        for e in edits:
            e(folder)
    return edit


def last_censuses(folder: Path) -> None:
    """Plans of the last two censuses only: workbooks are slow to write and read, and two
    censuses are enough for a reading case."""
    plans = _read(folder, "plans")
    _write(folder, "plans", plans[plans["year"].isin(["2024", "2025"])])


def xlsx(sheets: Callable[[pd.DataFrame], dict[str, object]]) -> Edit:
    """plans.csv replaced by plans.xlsx; ``sheets(plans)`` gives sheet name -> DataFrame or
    a function filling an openpyxl worksheet."""
    def edit(folder: Path) -> None:
        last_censuses(folder)
        plans = pd.read_csv(folder / "plans.csv")
        (folder / "plans.csv").unlink()
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for name, content in sheets(plans).items():
            ws = wb.create_sheet(name)
            if callable(content):
                content(ws)
            else:
                ws.append(list(content.columns))
                for row in content.itertuples(index=False):
                    ws.append(list(row))
        wb.save(folder / "plans.xlsx")
        cfg = folder / "config.toml"
        cfg.write_text(cfg.read_text(encoding="utf-8").replace('plans = "plans.csv"', 'plans = "plans.xlsx"'),
                       encoding="utf-8")
    return edit


def build_case(folder: Path, edit: Edit | None = None, toml: tuple[tuple[str, str], ...] = (),
               extra_toml: str = "") -> Path:
    """Demo CSVs and the fast config in ``folder``, then the case's edits; returns the config."""
    folder.mkdir(parents=True, exist_ok=True)
    for t in TABLES:
        shutil.copy(demo_dir() / f"{t}.csv", folder / f"{t}.csv")
    config = BASE_TOML
    for old, new in toml:
        assert old in config, old
        config = config.replace(old, new)
    (folder / "config.toml").write_text(config + extra_toml, encoding="utf-8")
    if edit is not None:
        edit(folder)
    return folder / "config.toml"


@dataclass
class Run:
    rc: int
    err: str
    std: str
    out: Path
    folder: Path
    seconds: float

    def warnings(self) -> str:
        path = self.out / "csv" / "Data_warnings.csv"
        return path.read_text(encoding="utf-8-sig") if path.is_file() else ""

    def csv(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.out / "csv" / f"{name}.csv", encoding="utf-8-sig")


def run_cli(args: list[str], folder: Path, out: Path | None = None) -> Run:
    out = out or folder / "out"
    err, std = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        rc = cli.main([*args, "--out", str(out)])
    return Run(rc, err.getvalue(), std.getvalue(), out, folder, time.perf_counter() - t0)


@dataclass
class Probe:
    """One row of the probe report: how to build it and what a user should get."""

    number: int
    name: str
    edit: Edit | None = None
    rc: int = 0
    err: tuple[str, ...] = ()  # fragments of stderr
    not_err: tuple[str, ...] = ()  # must not be in stderr
    warn: tuple[str, ...] = ()  # fragments of Data_warnings.csv (rc 0)
    args: tuple[str, ...] = ()
    toml: tuple[tuple[str, str], ...] = ()
    extra_toml: str = ""
    check: Callable[[Run], None] | None = None
    marks: tuple = ()
    config: Callable[[Path, Path], str] | None = None  # config path as given on the command line
    early: bool = False  # must fail before the inputs are read (a config or option problem)

    @property
    def id(self) -> str:
        return f"n{self.number:03d}_{self.name}"


def run_probe(p: Probe, tmp_path: Path) -> Run:
    folder = tmp_path / p.name
    cfg = build_case(folder, p.edit, p.toml, p.extra_toml)
    given = p.config(folder, cfg) if p.config else str(cfg)
    return run_cli(["run", given, *p.args], folder)


def assert_run(p: Probe, r: Run) -> None:
    assert r.rc == p.rc, f"exit {r.rc}, expected {p.rc}\n{r.err[-3000:]}"
    assert "Traceback" not in r.err, r.err[-3000:]
    for frag in p.err:
        assert frag in r.err, f"{frag!r} not in stderr:\n{r.err[-3000:]}"
    for frag in p.not_err:
        assert frag not in r.err, f"{frag!r} in stderr:\n{r.err[-3000:]}"
    if p.rc != 0:
        assert not r.out.exists(), "a failed run wrote an output folder"
    else:
        assert (r.out / "report.html").is_file() and (r.out / "senforecast.xlsx").is_file()
        warnings_text = r.warnings()
        for frag in p.warn:
            assert frag in warnings_text, f"{frag!r} not in Data_warnings:\n{warnings_text}"
    if p.early:
        assert "[1/" not in r.err, "the config problem was found only after reading the inputs"
    if p.check:
        p.check(r)


def problems_in(err: str) -> list[str]:
    return [line.strip()[2:] for line in err.splitlines() if line.strip().startswith("- ")]


def _stage_dirs(parent: Path) -> list[Path]:
    return [p for p in parent.iterdir() if ".partial-" in p.name]


def _checksums(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}

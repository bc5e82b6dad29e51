"""Probe cases about writing the output folder: read-only and full disks, Ctrl-C, reruns, files
open in Excel (../shared/probes/2026-12/REPORT.md, issue 13). How cases are built: tests/probe_cases.py."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest
from probe_cases import REPO, _checksums, _stage_dirs, build_case, cells, run_cli

from senforecast.pipeline.config import Config, ConfigError

# ------------------------------------------------------------------------------ outputs

@pytest.fixture(scope="module")
def good_output(tmp_path_factory):
    """A finished output folder (the 'earlier good run') and its checksums."""
    base = tmp_path_factory.mktemp("good")
    cfg = build_case(base / "case")
    r = run_cli(["run", str(cfg), "--quiet"], cfg.parent, out=base / "out")
    assert r.rc == 0, r.err
    return cfg, r.out, _checksums(r.out)


def _copy_good(good_output, tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """A copy of the good output and of its case folder (a test may edit the inputs)."""
    cfg, out, sums = good_output
    target = tmp_path / "results" / "out"
    shutil.copytree(out, target)
    shutil.copytree(cfg.parent, tmp_path / "case")
    assert _checksums(target) == sums
    return tmp_path / "case" / cfg.name, target, sums


def test_n098_out_readonly_fails_before_computing(tmp_path, monkeypatch):
    """A read-only file system is simulated (EROFS from every attempt to create something under
    the target's parent): the tests may run as root, for whom permissions do not block."""
    cfg = build_case(tmp_path / "case")
    ro = tmp_path / "ro"
    ro.mkdir()
    real_mkdir = Path.mkdir

    def mkdir(self, *a, **k):
        if ro in Path(os.path.abspath(self)).parents or Path(os.path.abspath(self)) == ro:
            raise OSError(30, "Read-only file system", str(self))
        return real_mkdir(self, *a, **k)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    r = run_cli(["run", str(cfg)], cfg.parent, out=ro / "out")
    assert r.rc == 2 and "Traceback" not in r.err
    assert "the file system is read-only" in r.err and "choose another --out folder" in r.err
    assert "[1/" not in r.err  # refused before reading or computing anything
    assert list(ro.iterdir()) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write to a read-only folder")
def test_n098_out_readonly_folder_permissions(tmp_path):
    cfg = build_case(tmp_path / "case")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        r = run_cli(["run", str(cfg)], cfg.parent, out=ro / "out")
    finally:
        ro.chmod(0o755)
    assert r.rc == 2 and "permission denied" in r.err and "[1/" not in r.err


def test_n100_out_is_file(tmp_path):
    cfg = build_case(tmp_path / "case")
    target = tmp_path / "results.txt"
    target.write_text("my notes", encoding="utf-8")
    r = run_cli(["run", str(cfg)], cfg.parent, out=target)
    assert r.rc == 2 and "is a file, not a folder" in r.err and "Traceback" not in r.err
    assert target.read_text(encoding="utf-8") == "my notes" and "[1/" not in r.err


def test_out_folder_with_files_of_its_own_is_refused(tmp_path):
    """A run replaces the output folder as a whole, so a folder holding other files (someone's
    documents) is refused rather than deleted."""
    cfg = build_case(tmp_path / "case")
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "budget.xlsx").write_text("keep me", encoding="utf-8")
    r = run_cli(["run", str(cfg)], cfg.parent, out=mine)
    assert r.rc == 2 and "budget.xlsx" in r.err and "[1/" not in r.err
    assert (mine / "budget.xlsx").read_text(encoding="utf-8") == "keep me"


def test_staging_folders_of_killed_runs_are_cleared_and_live_ones_kept(tmp_path):
    """A run killed with SIGKILL cannot clean up; the next run into the same folder removes its
    staging folder (its process is gone) but not that of a run still going."""
    from senforecast.pipeline.atomic import staged_folder

    out = tmp_path / "out"
    dead = tmp_path / ".out.partial-999999999-0123abcd"
    live = tmp_path / f".out.partial-{os.getppid()}-0123abcd"
    for d in (dead, live):
        d.mkdir()
        (d / "report.html").write_text("half", encoding="utf-8")
    with staged_folder(out) as stage:
        (stage / "report.html").write_text("whole", encoding="utf-8")
    assert not dead.exists() and live.exists()
    assert (out / "report.html").read_text(encoding="utf-8") == "whole"


def test_out_folder_open_in_excel_is_named(tmp_path, good_output):
    cfg, out, sums = _copy_good(good_output, tmp_path)
    (out / "~$senforecast.xlsx").write_bytes(b"lock")
    r = run_cli(["run", str(cfg)], cfg.parent, out=out)
    assert r.rc == 2 and "senforecast.xlsx is open in Excel" in r.err and "[1/" not in r.err


def test_a_config_built_in_python_is_checked_by_the_same_rules():
    from senforecast.pipeline.config import check_config, demo_config

    with pytest.raises(ConfigError, match=r"^draws must be a whole number from 10"):
        check_config(Config(draws=1), labels={"draws": "draws"})
    with pytest.raises(ConfigError, match=r"^--suppress-below must be"):
        demo_config().replace(suppress_below=-1.0, labels={"suppress_below": "--suppress-below"})
    assert check_config(demo_config()) == demo_config()


def test_n099_out_diskfull_keeps_the_earlier_output(tmp_path, monkeypatch, good_output):
    """ENOSPC is raised by the third chart file written (as on the probe's 300 KB tmpfs)."""
    from matplotlib.figure import Figure

    cfg, out, sums = _copy_good(good_output, tmp_path)
    real_savefig = Figure.savefig
    calls = []

    def savefig(self, fname, *a, **k):
        calls.append(fname)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", str(fname))
        return real_savefig(self, fname, *a, **k)

    monkeypatch.setattr(Figure, "savefig", savefig)
    r = run_cli(["run", str(cfg)], cfg.parent, out=out)
    assert r.rc == 2 and "Traceback" not in r.err
    assert "the disk is full" in r.err and "The earlier output there is unchanged" in r.err
    assert "while writing charts/" in r.err
    assert _checksums(out) == sums and not _stage_dirs(out.parent)


def test_n096_failing_run_leaves_a_good_output_untouched(tmp_path, good_output):
    cfg, out, sums = _copy_good(good_output, tmp_path)
    cells("plans", {(5, "need"): "ZZZ"})(cfg.parent)
    r = run_cli(["run", str(cfg)], cfg.parent, out=out)
    assert r.rc == 2 and _checksums(out) == sums


def _sigint(cfg: Path, out: Path, pattern: str, delay: float, *extra: str) -> tuple[int, str, float]:
    """Run the command in a child process, send SIGINT once ``pattern`` is on stderr (+ delay)."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "senforecast.pipeline.cli", "run", str(cfg), "--out", str(out), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(cfg.parent),
        # a child of a shell without job control would inherit SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if re.search(pattern, line):
            break
    time.sleep(delay)
    t = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=120)
    return proc.returncode, "".join(lines) + rest, time.perf_counter() - t


def _assert_interrupted(rc: int, err: str, out: Path, sums: dict[str, str]) -> None:
    assert rc == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    after = [l for l in err.splitlines() if not re.match(r"senforecast: (\[\d+/\d+\]|writing|Probe)", l)]
    assert len(after) == 1 and after[0].startswith("senforecast: interrupted (Ctrl-C)"), after
    assert "the earlier output there is unchanged" in after[0]
    assert _checksums(out) == sums  # byte for byte
    assert not _stage_dirs(out.parent)


def test_n094_ctrl_c_while_writing_keeps_the_earlier_output(tmp_path, good_output):
    """The probe's Ctrl-C 0.3 s into the workbook left a 29 KB senforecast.xlsx that did not open."""
    cfg, out, sums = _copy_good(good_output, tmp_path)
    rc, err, _ = _sigint(cfg, out, r"writing the workbook and CSVs", 0.3)
    _assert_interrupted(rc, err, out, sums)


@pytest.mark.slow
def test_n093_ctrl_c_during_fit(tmp_path, good_output):
    cfg, out, sums = _copy_good(good_output, tmp_path)
    rc, err, seconds = _sigint(cfg, out, r"fitting the cohort model \.\.\.", 0.3)
    _assert_interrupted(rc, err, out, sums)
    assert seconds < 30


@pytest.mark.slow
def test_n095_ctrl_c_during_charts_of_a_rerun_leaves_no_mixture(tmp_path, good_output):
    cfg, out, sums = _copy_good(good_output, tmp_path)
    rc, err, _ = _sigint(cfg, out, r"writing \d+ charts", 0.3, "--seed", "2")
    _assert_interrupted(rc, err, out, sums)


@pytest.mark.slow
def test_n097_rerun_leaves_no_stale_files(tmp_path):
    cfg = build_case(tmp_path / "case", toml=(("enabled = false", "enabled = true\ndraws = 10\nhorizons = [1]"),
                                               ('chart_formats = ["png"]', 'chart_formats = ["png", "svg", "pdf"]')),
                     extra_toml='\n[[scenarios]]\nname = "growth"\njoiner_multiplier = 1.1\n')
    first = run_cli(["run", str(cfg), "--quiet"], cfg.parent)
    assert first.rc == 0, first.err
    assert (first.out / "csv" / "Backtest_scores.csv").is_file() and (first.out / "csv" / "Scenarios.csv").is_file()
    second_cfg = build_case(tmp_path / "case2")
    started = time.time()
    time.sleep(0.05)
    second = run_cli(["run", str(second_cfg), "--quiet"], second_cfg.parent, out=first.out)
    assert second.rc == 0, second.err
    files = [p for p in second.out.rglob("*") if p.is_file()]
    assert all(p.stat().st_mtime >= started for p in files), [p.name for p in files if p.stat().st_mtime < started]
    names = {p.name for p in files}
    assert "Backtest_scores.csv" not in names and "Scenarios.csv" not in names
    assert not {p.suffix for p in files} & {".svg", ".pdf"}



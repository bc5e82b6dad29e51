"""The outputs registry and disclosure control over every output of a run (issue 12, issue 13 item 1).

End to end: a run with ``suppress_below=5`` on the demo and on a small authority (10% of the
demo's children, many small cells) is written; the workbook and CSVs are read back and the
report's tables parsed, and the disclosure audit is run over all of them together.
"""
from __future__ import annotations

import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from demo_variants import small_authority

from senforecast.pipeline.config import demo_config
from senforecast.pipeline.run import run_pipeline, write_outputs
from senforecast.reporting import outputs as outputs_mod
from senforecast.reporting.disclosure import DisclosureError, audit
from senforecast.reporting.export import _file_stem, _sheet_names
from senforecast.reporting.html import SECTIONS
from senforecast.reporting.outputs import (
    MARKER,
    OUTPUTS,
    count_subtables,
    disclosure_problem,
    mask_small_numbers,
    parts_of,
    publish_outputs,
)

THRESHOLD = 5


# ----------------------------------------------------------------------------- helpers
class _Tables(HTMLParser):
    """Every <table> of a page: its data-source, header texts and cell texts."""

    def __init__(self):
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self.warnings: list[str] = []
        self._in_warn = 0
        self._li: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append({"source": a.get("data-source"), "head": [], "rows": []})
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "tr":
            self._row = []
        elif tag == "div" and a.get("class") == "warn":
            self._in_warn += 1
        elif tag == "li" and self._in_warn:
            self._li = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            t = self.tables[-1]
            if t["head"]:
                t["rows"].append(self._row)
            else:
                t["head"] = self._row
            self._row = None
        elif tag == "div" and self._in_warn:
            self._in_warn -= 1
        elif tag == "li" and self._li is not None:
            self.warnings.append("".join(self._li))
            self._li = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._li is not None:
            self._li.append(data)


def _parse_html(path: Path) -> _Tables:
    p = _Tables()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _cell(x):
    """A written cell as the audit reads it: a number, the marker, or NaN."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return np.nan
    s = str(x).strip()
    if s == "":
        return np.nan
    if s == MARKER:
        return MARKER
    try:
        return float(s.replace(",", ""))
    except ValueError:
        return s


def _read_csvs(files: dict, names: list[str]) -> dict[str, pd.DataFrame]:
    by_stem = {p.stem: p for p in files["csv"] if p.suffix == ".csv"}
    out = {}
    for n in names:
        t = pd.read_csv(by_stem[_file_stem(n)], dtype=str, keep_default_na=False, encoding="utf-8-sig")
        out[n] = t.apply(lambda col: col.map(_cell)) if len(t) else t
    return out


def _read_xlsx(files: dict, names: list[str]) -> dict[str, pd.DataFrame]:
    book = pd.read_excel(files["workbook"], sheet_name=None, dtype=object)
    out = {}
    for n, sheet in zip(names, _sheet_names(names)):
        t = book[sheet]
        t.columns = [str(c) for c in t.columns]
        out[n] = t.apply(lambda col: col.map(_cell)) if len(t) else t
    return out


def _header_map(table: pd.DataFrame, head: list[str]) -> dict[int, str]:
    names = {str(c).replace("_", " "): str(c) for c in table.columns}
    return {i: names[h] for i, h in enumerate(head) if h in names}


def _with_html_numbers(pub: dict[str, pd.DataFrame], page: _Tables) -> tuple[dict[str, pd.DataFrame], int]:
    """The read-back tables with every count the report shows put in from the report's text."""
    out = {k: v.copy() for k, v in pub.items()}
    n = 0
    for t in page.tables:
        src = t["source"]
        if src not in out or not parts_of(src, out[src]):
            continue
        table = out[src]
        cols = _header_map(table, t["head"])
        counted = {c for p in parts_of(src, table) for c in (*p.spec.counts, *p.spec.derived)}
        for i, row in enumerate(t["rows"]):
            for j, col in cols.items():
                if col in counted:
                    table.at[i, col] = _cell(row[j])
                    n += 1
    return out, n


def _audit_written(res, pub_tables: dict[str, pd.DataFrame]):
    problem, _ = disclosure_problem(res, res.tables, THRESHOLD)
    subs, _, _ = count_subtables(pub_tables)
    return audit(problem, subs)


def _run(cfg, out: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_pipeline(cfg.replace(draws=40, horizon=2, scenarios=(), backtest=False, suppress_below=THRESHOLD),
                           charts=False)
        files = write_outputs(res, out)
    return res, files


@pytest.fixture(scope="module", params=["demo", "small authority"])
def written(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param.replace(" ", "_"))
    cfg = demo_config() if request.param == "demo" else small_authority(tmp)
    res, files = _run(cfg, tmp / "out")
    names = list(res.tables)
    return request.param, res, files, _read_csvs(files, names), _read_xlsx(files, names), _parse_html(files["report"])


# ------------------------------------------------------------------------------ registry
def test_registry_declares_name_builder_section_caption_and_counts():
    for name, o in OUTPUTS.items():
        assert o.name == name and callable(o.build) and o.caption
        assert o.section in SECTIONS, (name, o.section)
    observed = {n for n, o in OUTPUTS.items() if o.observed}
    assert observed == {"Inputs - children per year", "Inputs - by need", "Inputs - by setting kind",
                        "Inputs - by area", "Inputs - by plan type", "Inputs - places on roll", "Inputs - rows and checks", "Starting point"}


def test_every_written_sheet_and_every_report_table_is_registered(written):
    _, res, files, csvs, xlsx, page = written
    assert set(res.tables) <= set(OUTPUTS)
    with pd.ExcelFile(files["workbook"]) as xl:
        book = xl.sheet_names
    assert book[0] == "Notes" and book[1:] == _sheet_names(list(res.tables))
    stems = {p.stem for p in files["csv"] if p.suffix == ".csv"}
    assert stems == {_file_stem(n) for n in res.tables}
    sources = [t["source"] for t in page.tables]
    assert sources and all(s in OUTPUTS for s in sources), sources  # no table of the report is unregistered
    assert {s for s in sources if OUTPUTS[s].observed} >= {"Inputs - by need", "Inputs - places on roll"}


def test_an_unregistered_table_is_refused(written):
    _, res, *_ = written
    tables = {**res.tables, "My own table": pd.DataFrame({"count": [3]})}
    with pytest.raises(Exception, match="not in the outputs registry"):
        publish_outputs(res, tables)


# ------------------------------------------------------------------------ disclosure
def test_audit_over_everything_written_recovers_no_hidden_cell(written):
    label, res, files, csvs, xlsx, page = written
    for pub in (csvs, xlsx):
        result = _audit_written(res, pub)
        assert result.passed, result.failures
        f = result.frame
        hidden = f[f["status"] != "shown"]
        assert (hidden["status"] == "primary").sum() > 0
        # every sensitive cell of every observed table was hidden, and its range covers [1, 4]
        assert not (f["status"] == "shown").any()
        prim = f[f["status"] == "primary"]
        assert (prim["lower"] <= 1 + 1e-6).all() and (prim["upper"] >= THRESHOLD - 1 - 1e-6).all()
    with_html, n_html = _with_html_numbers(csvs, page)
    assert n_html > 20  # the report does show observed counts, and they are audited too
    assert _audit_written(res, with_html).passed
    if label == "small authority":  # many small cells: the audit has real work
        assert (_audit_written(res, csvs).frame["status"] == "primary").sum() > 50
        problem, _ = disclosure_problem(res, res.tables, THRESHOLD)  # a reader using whole numbers too
        assert audit(problem, count_subtables(csvs)[0], integer=True).passed


def test_a_closed_setting_shown_with_nobody_on_roll_is_not_taken_for_a_grouping(written):
    """The summary shows 0 on roll at a planned or closed setting whatever the census says."""
    _, res, *_ = written
    t = res.tables["Inputs - places on roll"].copy()
    i = t.index[t["on_roll"] > 10][0]
    t.loc[i, ["on_roll", "spare", "status"]] = [0, t.loc[i, "places"], "planned/closed"]
    pub = publish_outputs(res, {**res.tables, "Inputs - places on roll": t}, suppress_below=THRESHOLD)
    assert pub.audit.passed


def test_no_small_count_appears_in_csvs_workbook_or_report(written):
    _, res, files, csvs, xlsx, page = written
    with_html, _ = _with_html_numbers(csvs, page)
    for pub in (csvs, xlsx, with_html):
        for name, table in pub.items():
            truth = res.tables[name].reset_index(drop=True)
            for part in parts_of(name, truth):
                rows = part.take(truth).index
                for col in part.spec.counts:
                    true = pd.to_numeric(truth.loc[rows, col], errors="coerce")
                    shown = table.loc[rows, col]
                    small = (true > 0) & (true < THRESHOLD)
                    assert (shown[small] == MARKER).all(), (name, col)
                    num = pd.to_numeric(shown, errors="coerce")
                    assert not ((num > 0) & (num < THRESHOLD)).any(), (name, col)
                for col, d in part.spec.derived.items():  # a derived value is hidden with its count
                    assert ((table.loc[rows, col] == MARKER) | (table.loc[rows, d.count] != MARKER)).all(), (name, col)


def test_warnings_quote_no_small_count(written):
    _, res, files, csvs, xlsx, page = written
    rows_list = re.compile(r"\brows?\s+\d+(?:(?:,\s*|\s+and\s+)\d+)*")
    texts = list(csvs["Data warnings"]["warning"].astype(str)) + page.warnings
    assert texts
    for w in texts:
        for m in re.finditer(r"(?<![\w.\-])(\d+)(?![\w.])", rows_list.sub("", w)):
            assert not 1 <= int(m.group(1)) < THRESHOLD, w


def test_probe_89_warning_text_is_masked():
    text = "provision.csv: 2 setting(s) not in the register (IND-SEMH: 1); rows 11906"
    assert mask_small_numbers(text, 5) == "provision.csv: c setting(s) not in the register (IND-SEMH: c); rows 11906"
    assert mask_small_numbers("24 children, 5 areas", 5) == "24 children, 5 areas"


def test_probe_87_cost_beside_hidden_roll_is_hidden(written):
    label, res, files, csvs, *_ = written
    sp = csvs["Starting point"]
    hid = sp["on_roll"] == MARKER
    assert hid.any()
    assert (sp.loc[hid, "yearly_cost"] == MARKER).all() and (sp.loc[hid, "spare"] == MARKER).all()
    if label == "demo":
        assert sp.set_index("setting").at["RB-DOL-C", "on_roll"] == MARKER


def test_notes_and_report_state_the_audit(written):
    _, res, files, csvs, xlsx, page = written
    notes = (Path(files["workbook"]).parent / "csv" / "notes.txt").read_text(encoding="utf-8")
    assert "disclosure audit passed" in notes
    method = [t for t in page.tables if t["source"] == "Assumptions"][0]
    assert any("disclosure audit passed" in " ".join(r) for r in method["rows"])


# ---------------------------------------------------------------- one number, three ways
def test_same_numbers_through_api_files_and_report(written):
    label, res, files, csvs, xlsx, page = written
    y = res.gap.by_year().set_index("year")
    first = int(y.index.min())
    api = float(y.at[first, "demand_median"])
    csv = float(csvs["Gap by year"].set_index("year").at[float(first), "demand_median"])
    gap_html = [t for t in page.tables if t["source"] == "Gap by year"][0]
    row = [r for r in gap_html["rows"] if r[0] == str(first)][0]
    report = float(row[1].split(" ")[0].replace(",", ""))
    assert api == csv and round(api) == report
    # the Starting point: every shown on-roll count is the API's, and the report's places-on-roll agrees
    sp_api = res.gap.starting_point().set_index("setting")["on_roll"]
    sp_csv = csvs["Starting point"].set_index("setting")["on_roll"]
    pub_api = publish_outputs(res).tables["Starting point"].set_index("setting")["on_roll"]
    roll_html = [t for t in page.tables if t["source"] == "Inputs - places on roll"][0]
    i_set, i_roll = roll_html["head"].index("setting"), roll_html["head"].index("on roll")
    html_roll = {r[i_set]: _cell(r[i_roll]) for r in roll_html["rows"]}
    for s, v in sp_csv.items():
        assert _cell(pub_api[s]) == v
        if v != MARKER:
            assert v == sp_api[s]
            if s in html_roll and html_roll[s] != MARKER:
                assert html_roll[s] == v


# ------------------------------------------------------------------ other modes
def test_without_suppression_tables_are_unchanged():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_pipeline(demo_config().replace(draws=20, horizon=2, scenarios=(), backtest=False,
                                                 model_options={"mode": "witan"}), charts=False)
    pub = publish_outputs(res)
    assert pub.audit is None and all(pub.tables[n] is res.tables[n] for n in res.tables)
    rounded = publish_outputs(res, round_to=5)
    t = rounded.tables["Starting point"]
    assert "yearly_cost" not in t.columns and (pd.to_numeric(t["on_roll"]) % 5 == 0).all()
    assert rounded.tables["Projection total"] is res.tables["Projection total"]
    both = publish_outputs(res, suppress_below=5, round_to=5)
    need = both.tables["Inputs - by need"].set_index("need")
    last = res.tables["Inputs - by need"].set_index("need")
    year = [c for c in last.columns if str(c).isdigit()][-1]
    small = last.index[(last[year] > 0) & (last[year] < 5)]
    assert len(small) and (need.loc[small, year] == MARKER).all()  # the marker survives the rounding
    shown = pd.to_numeric(need[year], errors="coerce").dropna()
    assert len(shown) and (shown % 5 == 0).all()


def test_failing_audit_stops_the_write(tmp_path, monkeypatch):
    """Hiding only the small counts is not enough on the demo: the audit must stop the write."""
    real = outputs_mod.suppress

    def only_primary(problem, **kw):
        s = real(problem, **kw)
        s.hidden = problem.cells["primary"].to_numpy() | (problem.cells["role"] == "latent").to_numpy()
        return s

    monkeypatch.setattr(outputs_mod, "suppress", only_primary)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_pipeline(demo_config().replace(draws=20, horizon=2, scenarios=(), backtest=False,
                                                 suppress_below=5, model_options={"mode": "witan"}), charts=False)
    with pytest.raises(DisclosureError, match="nothing was written.*FAILED"):
        write_outputs(res, tmp_path / "out")
    assert not (tmp_path / "out" / "senforecast.xlsx").exists()


@pytest.mark.slow
def test_cli_demo_with_suppression_passes_the_audit_over_every_file(tmp_path):
    """`senforecast demo --suppress-below 5` as a user runs it (scenarios, ten years, charts)."""
    from senforecast.pipeline.cli import main

    out = tmp_path / "out"
    assert main(["demo", "--out", str(out), "--draws", "60", "--no-backtest", "--suppress-below", "5", "--quiet"]) == 0
    with warnings.catch_warnings():  # observed counts do not depend on the simulation: a quick run gives them
        warnings.simplefilter("ignore")
        res = run_pipeline(demo_config().replace(draws=20, horizon=2, scenarios=(), backtest=False), charts=False)
    observed = [n for n in res.tables if OUTPUTS[n].observed]
    files = {"csv": sorted((out / "csv").glob("*.csv")), "workbook": out / "senforecast.xlsx"}
    csvs = _read_csvs(files, observed)
    page = _parse_html(out / "report.html")
    assert all(t["source"] in OUTPUTS for t in page.tables)
    with_html, n = _with_html_numbers(csvs, page)
    assert n > 20 and _audit_written(res, with_html).passed
    assert "disclosure audit passed" in (out / "csv" / "notes.txt").read_text(encoding="utf-8")

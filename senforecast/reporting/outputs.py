"""The outputs registry: every table of a run, declared once, with its disclosure spec.

Each :class:`Output` names a table (sheet name, CSV stem), the builder that makes it from
a :class:`~senforecast.pipeline.run.PipelineResult`, the report section it belongs to, a
caption, and, for tables of observed counts of children, how its cells are made of counts
(:class:`CountPart`: a :class:`~senforecast.reporting.disclosure.TableSpec` over some of
its rows and columns). The workbook, the CSVs and the HTML report all iterate
:data:`OUTPUTS` and show the tables :func:`publish_outputs` returns, so a table is
protected once, in one place, together with every other observed-count table of the run
(one :class:`~senforecast.reporting.disclosure.DisclosureProblem` with a shared base of
plans, so a total in one sheet minus the visible rows of another gives nothing away).
Projected means and quantiles are not counts of real children and are not suppressed.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..core.data import _setting_kind, _stock
from ..core.errors import SenForecastError
from .disclosure import (AuditResult, Derived, DisclosureError, DisclosureProblem, TableSpec, audit, publish,
                         suppress)
from .export import round_counts
from .tables import _kind_map, _ncy_range_as_numbers, _projection_table, assumptions, statutory_tables

if TYPE_CHECKING:  # pragma: no cover
    from ..pipeline.run import PipelineResult

MARKER = "c"
"""Text shown in every hidden cell (one marker: distinct markers would tell which are small)."""


@dataclass(frozen=True)
class CountPart:
    """Rows and columns of a table that are observed counts of children, as a TableSpec.

    Parameters
    ----------
    spec : TableSpec
        Counts, dims, derived columns and base of this part.
    rows : callable, optional
        ``table -> boolean Series``: the rows this part covers (default all).
    key : str
        Suffix telling two parts of one table apart in the disclosure problem.

    Examples
    --------
    >>> CountPart(TableSpec("children", dims=["year"], base="plans")).spec.counts
    ('children',)
    """

    spec: TableSpec
    rows: Callable[[pd.DataFrame], pd.Series] | None = None
    key: str = ""

    def columns(self, table: pd.DataFrame) -> list[str]:
        """Columns of ``table`` this part needs (dims, counts, derived, their factors)."""
        s = self.spec
        want = [*s.dims, *s.counts, *s.derived]
        for d in s.derived.values():
            want += [x for x in (d.factor, d.offset) if isinstance(x, str)]
        return [c for c in dict.fromkeys(want) if c in table.columns]

    def take(self, table: pd.DataFrame) -> pd.DataFrame:
        """The part's sub-table (original index kept, to put published values back)."""
        t = table if self.rows is None else table[self.rows(table).to_numpy(bool)]
        return t[self.columns(table)]


@dataclass(frozen=True)
class Output:
    """One published table: name, builder, report section, caption and disclosure spec.

    Parameters
    ----------
    name : str
        Sheet name (the CSV stem is made from it).
    build : callable
        ``result -> DataFrame or None`` (None: not made for this run).
    section : str
        Report section the table belongs to (one of ``html.SECTIONS`` or ``"Workbook only"``).
    caption : str
        One line saying what the table is.
    counts : tuple of CountPart
        Its observed counts of children (empty: nothing to protect, e.g. projections).
    in_report : bool
        Shown as a table in report.html.

    Examples
    --------
    >>> OUTPUTS["Starting point"].counts[0].spec.derived["yearly_cost"]
    Derived(count='on_roll', factor='cost_per_place', offset=0.0, rounding=0.0)
    """

    name: str
    build: Callable[["PipelineResult"], pd.DataFrame | None]
    section: str
    caption: str
    counts: tuple[CountPart, ...] = ()
    in_report: bool = False

    @property
    def observed(self) -> bool:
        """True when the table holds observed counts of children."""
        return bool(self.counts)


# ------------------------------------------------------------------------- builders
def _memo(result: "PipelineResult", key: str, make: Callable[[], object]) -> object:
    memo = result.__dict__.setdefault("_outputs_memo", {})
    if key not in memo:
        memo[key] = make()
    return memo[key]


def _summary(result: "PipelineResult"):
    return _memo(result, "summary", result.data.summary)


def _summary_table(key: str) -> Callable[["PipelineResult"], pd.DataFrame | None]:
    def build(result: "PipelineResult") -> pd.DataFrame | None:
        s = _summary(result)
        return _ncy_range_as_numbers(s[key]) if key in s.tables else None
    return build


def _rows_and_checks(result: "PipelineResult") -> pd.DataFrame:
    counts = pd.DataFrame(sorted(result.data.report.counts.items()), columns=["check", "count"])
    checks = _summary(result).tables.get("checks")
    return pd.concat([counts, checks], ignore_index=True) if checks is not None else counts


def _data_warnings(result: "PipelineResult") -> pd.DataFrame:
    return pd.DataFrame({"warning": result.warnings or ["none"]})


def _projection_by(dim: str) -> Callable[["PipelineResult"], pd.DataFrame | None]:
    def build(result: "PipelineResult") -> pd.DataFrame | None:
        p = result.projection
        if dim not in p.cells.columns or p.cells[dim].astype(str).nunique() <= 1:
            return None
        t = _projection_table(result, [dim])
        if dim == "setting":
            t.insert(1, "kind", t["setting"].astype(str).map(_kind_map(result)).fillna("unknown"))
        return t
    return build


def _ooc_cost(result: "PipelineResult") -> pd.DataFrame:
    y = result.gap.by_year()
    return y[["year", *[c for c in y.columns if c.startswith(("ooc", "local_cost"))]]]


def _statutory(name: str) -> Callable[["PipelineResult"], pd.DataFrame | None]:
    return lambda result: _memo(result, "statutory", lambda: statutory_tables(result)).get(name)


def _is_year(c: object) -> bool:
    return re.fullmatch(r"\d{4}", str(c)) is not None


def _wide_part(dim: str | None, derived: Callable[[pd.DataFrame], dict] | None = None,
               base: str | None = "plans") -> "_WidePart":
    return _WidePart(dim, derived, base)


@dataclass(frozen=True)
class _WidePart:
    """A wide table (one column per census year): its spec depends on the years present.
    ``dim=None``: every column that is not a year is a dimension."""

    dim: str | None
    derived: Callable[[pd.DataFrame], dict] | None = None
    base: str | None = "plans"

    def part(self, table: pd.DataFrame) -> CountPart:
        years = [str(c) for c in table.columns if _is_year(c)]
        dims = [self.dim] if self.dim else [str(c) for c in table.columns if not _is_year(c)]
        return CountPart(TableSpec(years, dims=dims, column_dim="year", base=self.base,
                                   derived=self.derived(table) if self.derived else {}))


def _share_of_last(table: pd.DataFrame) -> dict:
    years = [str(c) for c in table.columns if _is_year(c)]
    if "share %" not in table.columns or not years:
        return {}
    total = float(pd.to_numeric(table[years[-1]], errors="coerce").sum())
    return {"share %": Derived(years[-1], 100.0 / total, rounding=0.05)} if total else {}


_FLOWS = ["joiners", "leavers", "movers", "need_changes"]


def _children_rows(t: pd.DataFrame) -> pd.Series:
    c = t["check"].astype(str)
    return c.str.startswith(("plans.", "transitions.", "anomaly:")) & ~c.str.endswith("rows_read")


def _open(t: pd.DataFrame) -> pd.Series:
    return t["status"].astype(str).eq("open") if "status" in t.columns else pd.Series(True, index=t.index)


def _flows_present(t: pd.DataFrame) -> list[str]:
    return [c for c in _FLOWS if c in t.columns]


# One entry per table, in workbook order. ``counts`` may hold CountParts or _WideParts.
_REGISTRY: list[tuple[str, Callable, str, str, tuple, bool]] = [
    ("Assumptions", assumptions, "Method and assumptions", "Method and assumptions of the run", (), True),
    ("Inputs - children per year", _summary_table("children per year"), "Inputs and data quality",
     "Children with a plan per census, and the flows between censuses",
     (CountPart(TableSpec("children", dims=["year"], base="plans")),
      CountPart(TableSpec(_FLOWS, dims=["year"]), key="flows")), True),
    ("Inputs - by need", _summary_table("by need"), "Inputs and data quality",
     "Children with a plan by need, per census", (_wide_part("need", _share_of_last),), True),
    ("Inputs - by setting kind", _summary_table("by setting kind"), "Inputs and data quality",
     "Children with a plan by kind of setting, per census", (_wide_part("kind"),), False),
    ("Inputs - by area", _summary_table("by area"), "Inputs and data quality",
     "Children with a plan by home area, per census", (_wide_part("area"),), False),
    # children left out of the forecast series are not in the plans base: this table stands alone
    ("Inputs - by plan type", _summary_table("by plan type"), "Inputs and data quality",
     "Children by plan type, in the series forecast or not, per census", (_wide_part(None, base=None),), True),
    ("Inputs - places on roll", _summary_table("places and children on roll"), "Inputs and data quality",
     "Places and children on roll at the last census",
     (CountPart(TableSpec("on_roll", dims=["setting"], base="plans",
                          derived={"spare": Derived("on_roll", -1.0, "places")}), rows=_open),
      # a planned or closed setting is shown with 0 on roll whatever the census says: not a grouping
      CountPart(TableSpec("on_roll", dims=["setting"], derived={"spare": Derived("on_roll", -1.0, "places")}),
                rows=lambda t: ~_open(t), key="not open")), True),
    ("Inputs - rows and checks", _rows_and_checks, "Inputs and data quality", "Rows read and kept, and checks",
     (CountPart(TableSpec("count", dims=["check"]), rows=_children_rows),), True),
    ("Data warnings", _data_warnings, "Inputs and data quality", "Data-quality and model warnings", (), True),
    ("Projection total", lambda r: _projection_table(r, []), "Projections", "All children with a plan, projected"),
    ("Projection by need", _projection_by("need"), "Projections", "Projection by need"),
    ("Projection by setting", _projection_by("setting"), "Projections", "Projection by setting"),
    ("Projection by NCY", _projection_by("ncy"), "Projections", "Projection by NCY"),
    ("Projection by area", _projection_by("area"), "Projections", "Projection by area"),
    ("Gap by year", lambda r: r.gap.by_year(), "Gap to capacity", "Demand against places per year"),
    ("Gap by designation", lambda r: r.gap.by_group(by_area=False), "Gap to capacity",
     "Demand against places by designation and phase"),
    ("Gap by designation and area", lambda r: r.gap.by_group(), "Gap to capacity",
     "Demand against places by designation, phase and area"),
    ("Gap by base", lambda r: r.gap.by_base(), "Gap to capacity", "Projected roll against places per base"),
    ("Starting point", lambda r: r.gap.starting_point(), "Gap to capacity",
     "On roll against places at the last census, with the yearly cost",
     (CountPart(TableSpec("on_roll", dims=["setting", "year"], base="plans",
                          derived={"spare": Derived("on_roll", -1.0, "capacity"),
                                   "yearly_cost": Derived("on_roll", "cost_per_place")})),)),
    ("Out-of-county cost", _ooc_cost, "Gap to capacity", "Out-of-county placements and their cost"),
    ("Cost by need and setting", lambda r: r.gap.cost_table() if r.gap.allocation is not None else None,
     "Gap to capacity", "Cost by year, need and setting"),
    ("Return - by provision type", _statutory("Return - by provision type"), "Projections",
     "Specialist place demand by provision type and NCY group (long)"),
    ("Return - provision type wide", _statutory("Return - provision type wide"), "Projections",
     "Specialist place demand by provision type and NCY group (mean)", (), True),
    ("Return - SCAP primary", _statutory("Return - SCAP primary"), "Projections", "School capacity return: primary"),
    ("Return - SCAP secondary", _statutory("Return - SCAP secondary"), "Projections",
     "School capacity return: secondary"),
    ("Return - by major need", _statutory("Return - by major need"), "Projections",
     "Specialist place demand by major need"),
    ("Scenarios", lambda r: r.scenarios, "Scenarios", "Scenarios compared with the baseline", (), True),
    ("Change drivers", lambda r: r.decomposition, "Projections",
     "Change since the last census: population, rate and scenario effects"),
    ("Backtest scores", lambda r: r.backtest.scores if r.backtest is not None else None, "Backtest accuracy",
     "Accuracy of past projections", (), True),
]


def _entry(name, build, section, caption, counts=(), in_report=False) -> Output:
    return Output(name, build, section, caption, tuple(counts), in_report)


OUTPUTS: dict[str, Output] = {e[0]: _entry(*e) for e in _REGISTRY}
"""Every table a run can write, by sheet name, in workbook order."""


def parts_of(name: str, table: pd.DataFrame) -> list[CountPart]:
    """The count parts of a registered table as made (wide tables' years filled in).

    Examples
    --------
    >>> t = pd.DataFrame({"kind": ["special_school"], "2024": [190], "2025": [198]})
    >>> parts_of("Inputs - by setting kind", t)[0].spec.counts
    ('2024', '2025')
    >>> parts_of("Projection total", t)
    []
    """
    out = []
    for p in OUTPUTS[name].counts if name in OUTPUTS else ():
        p = p.part(table) if isinstance(p, _WidePart) else p
        if p.key == "flows":
            flows = _flows_present(table)
            if not flows:
                continue
            p = CountPart(TableSpec(flows, dims=p.spec.dims), p.rows, p.key)
        out.append(p)
    return out


def build_tables(result: "PipelineResult") -> dict[str, pd.DataFrame]:
    """The tables of a run, sheet name -> DataFrame, in workbook order (true counts, unprotected).

    Every table comes from an entry of :data:`OUTPUTS`; publish them with :func:`publish_outputs`.

    Examples
    --------
    >>> from senforecast.pipeline.config import demo_config
    >>> from senforecast.pipeline.run import run_pipeline
    >>> cfg = demo_config().replace(draws=50, horizon=2, scenarios=(), backtest=False,
    ...                             model_options={"mode": "witan"})
    >>> tables = build_tables(run_pipeline(cfg, charts=False))
    >>> [n for n in tables if n.startswith("Projection")]
    ['Projection total', 'Projection by need', 'Projection by setting', 'Projection by NCY', 'Projection by area']
    >>> tables["Projection total"].columns.tolist(), tables["Gap by year"]["year"].tolist()
    (['year', 'mean', 'median', 'p05', 'p25', 'p75', 'p95'], [2026, 2027])
    >>> "Scenarios" in tables, "Backtest scores" in tables  # none asked for in this config
    (False, False)
    """
    result.__dict__.pop("_outputs_memo", None)
    tables = {}
    for name, out in OUTPUTS.items():
        t = out.build(result)
        if t is not None:
            tables[name] = t
    return tables


def input_tables(result: "PipelineResult") -> dict[str, pd.DataFrame]:
    """The ``Inputs - ...`` sheets and ``Data warnings`` of a run (true counts, unprotected).

    Examples
    --------
    >>> from senforecast.pipeline.run import run_pipeline
    >>> from senforecast.pipeline.config import demo_config
    >>> cfg = demo_config().replace(draws=20, horizon=2, scenarios=(), backtest=False,
    ...                             model_options={"mode": "witan"})
    >>> sheets = input_tables(run_pipeline(cfg, charts=False))
    >>> sheets["Inputs - children per year"].columns[:2].tolist()
    ['year', 'children']
    """
    out = {}
    for name, o in OUTPUTS.items():
        if name.startswith("Inputs") or name == "Data warnings":
            t = o.build(result)
            if t is not None:
                out[name] = t
    return out


# ----------------------------------------------------------------------- protection
def plans_base(result: "PipelineResult") -> pd.DataFrame | None:
    """Children per census by year, need, setting, home area and kind of setting: the base
    that every observed-count table is a grouping of."""
    stock = _stock(result.data)
    if stock is None:
        return None
    stock = stock.assign(kind=_setting_kind(stock["setting"], result.data.provision),
                         setting=stock["setting"].astype(str))
    return stock.groupby(["year", "need", "setting", "area", "kind"], as_index=False)["count"].sum()


@dataclass
class Publication:
    """The published tables of a run and what was done to protect them.

    Attributes
    ----------
    tables : dict of str to DataFrame
        Sheet name -> table as written (hidden cells show :data:`MARKER`).
    audit : AuditResult or None
        The disclosure audit over every observed-count table (None without suppression).
    notes : dict of str to str
        Rows for the Notes sheet / notes.txt.
    problem : DisclosureProblem or None
    seconds : float
    """

    tables: dict[str, pd.DataFrame]
    audit: AuditResult | None = None
    notes: dict[str, str] = field(default_factory=dict)
    problem: DisclosureProblem | None = None
    seconds: float = 0.0


def _sub_name(name: str, part: CountPart) -> str:
    return f"{name} [{part.key}]" if part.key else name


def count_subtables(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], dict[str, TableSpec],
                                                                dict[str, tuple[str, pd.Index]]]:
    """The observed-count parts of ``tables`` as sub-tables and specs for one DisclosureProblem.

    Returns ``(subtables, specs, where)``; ``where[sub] = (sheet, index of its rows)``.
    The same function reads back written tables (markers in place of hidden counts).
    """
    subs, specs, where = {}, {}, {}
    for name, table in tables.items():
        for part in parts_of(name, table):
            sub = part.take(table)
            if not len(sub):
                continue
            key = _sub_name(name, part)
            subs[key] = sub.reset_index(drop=True)
            specs[key] = part.spec
            where[key] = (name, sub.index)
    return subs, specs, where


def _links(problem: DisclosureProblem, subs: dict[str, pd.DataFrame]) -> list[dict[int, float]]:
    """Relations no base expresses: stock and flows (children this year = last year's + joiners
    - leavers) and the totals in ``Inputs - rows and checks``. Only those that hold are kept."""
    rels: list[dict[int, float]] = []
    c = problem.cells

    def cid(table: str, row: int, col: str) -> int | None:
        hit = np.flatnonzero((c["table"] == table).to_numpy() & (c["row"] == row).to_numpy()
                             & (c["column"].astype(str) == col).to_numpy() & (c["role"] == "count").to_numpy())
        return int(hit[0]) if hit.size == 1 else None

    kids, flows = "Inputs - children per year", "Inputs - children per year [flows]"
    if kids in subs and flows in subs:
        k, f = subs[kids], subs[flows]
        years = k["year"].tolist()
        for j, y in enumerate(f["year"]):
            if y not in years or y - 1 not in years or "joiners" not in f or "leavers" not in f:
                continue
            ids = [cid(kids, years.index(y), "children"), cid(kids, years.index(y - 1), "children"),
                   cid(flows, j, "joiners"), cid(flows, j, "leavers")]
            if None not in ids:
                rels.append(dict(zip(ids, [1.0, -1.0, -1.0, 1.0])))
    checks = "Inputs - rows and checks"
    if checks in subs:
        t = subs[checks]
        row = {str(n): i for i, n in enumerate(t["check"])}
        sums = {"plans.rows_kept": (kids, "children")}
        for col, check in (("joiners", "transitions.joiner"), ("leavers", "transitions.leaver"),
                           ("movers", "transitions.mover"), ("need_changes", "transitions.need_change")):
            sums[check] = (flows, col)
        for check, (table, col) in sums.items():
            if check in row and table in subs and col in subs[table]:
                parts = [cid(table, i, col) for i in range(len(subs[table]))]
                total = cid(checks, row[check], "count")
                if total is not None:
                    rel = {total: 1.0}
                    for p in parts:
                        if p is not None:
                            rel[p] = rel.get(p, 0.0) - 1.0
                    rels.append(rel)
        for name in [n for n in row if n.startswith("anomaly: ")]:  # the same count under three names
            a = cid(checks, row[name], "count")
            for other in (f"plans.{name[9:]}", f"transitions.{name[9:]}"):
                b = cid(checks, row[other], "count") if other in row else None
                if a is not None and b is not None:
                    rels.append({a: 1.0, b: -1.0})
    v = c["value"].to_numpy()
    return [r for r in rels if abs(sum(v[i] * w for i, w in r.items())) < 1e-6]


def _with_links(problem: DisclosureProblem, rels: list[dict[int, float]]) -> DisclosureProblem:
    if not rels:
        return problem
    rows = np.concatenate([np.full(len(r), i) for i, r in enumerate(rels)])
    cols = np.concatenate([list(r) for r in rels])
    vals = np.concatenate([list(r.values()) for r in rels])
    extra = sp.csr_matrix((vals, (rows, cols)), shape=(len(rels), problem.n_cells))
    return DisclosureProblem(problem.cells[["table", "row", "column", "value", "role", "label"]],
                             sp.vstack([problem.relations, extra]).tocsr(), problem.derived,
                             tables=problem.tables, specs=problem.specs, threshold=problem.threshold,
                             zeros_sensitive=problem.zeros_sensitive, protection=problem.protection)


def disclosure_problem(result: "PipelineResult", tables: dict[str, pd.DataFrame], threshold: float
                       ) -> tuple[DisclosureProblem, dict[str, tuple[str, pd.Index]]]:
    """One DisclosureProblem over every observed-count table of a run, linked through the plans base."""
    subs, specs, where = count_subtables(tables)
    base = plans_base(result)
    if base is None:  # nothing links the tables; each stands alone
        specs = {k: TableSpec(s.counts, s.dims, s.column_dim, s.margins, s.derived, s.fixed, None,
                              s.external_margins) for k, s in specs.items()}
    else:
        last = int(base["year"].max())
        key = "Inputs - places on roll"
        if key in specs:
            s = specs[key]
            specs[key] = TableSpec(s.counts, s.dims, s.column_dim, s.margins, s.derived, {"year": last}, s.base)
    problem = DisclosureProblem.from_tables(subs, specs, bases={"plans": base} if base is not None else None,
                                            threshold=threshold)
    return _with_links(problem, _links(problem, subs)), where


_SMALL_NUMBER = re.compile(r"(?<![\w.\-])(\d+)(?![\w.]|\.\d)")
_ROW_LIST = re.compile(r"\brows?\s+\d+(?:(?:,\s*|\s+and\s+)\d+)*(?:\s+and\s+\d+\s+more)?")


def mask_small_numbers(text: str, threshold: float) -> str:
    """``text`` with every whole number from 1 to ``threshold - 1`` shown as the marker
    (row numbers of input files are kept).

    Examples
    --------
    >>> mask_small_numbers("unknown setting (IND-SEMH: 1); rows 11906, 3", 5)
    'unknown setting (IND-SEMH: c); rows 11906, 3'
    >>> mask_small_numbers("24 child(ren) stayed, 3 jumped ahead, 0 went back", 5)
    '24 child(ren) stayed, c jumped ahead, 0 went back'
    """
    keep = [m.span() for m in _ROW_LIST.finditer(text)]

    def sub(m: re.Match) -> str:
        if any(a <= m.start() < b for a, b in keep):
            return m.group(0)
        return MARKER if 1 <= int(m.group(1)) < threshold else m.group(0)

    return _SMALL_NUMBER.sub(sub, text)


def _put_back(tables: dict[str, pd.DataFrame], published: dict[str, pd.DataFrame],
              where: dict[str, tuple[str, pd.Index]], problem: DisclosureProblem, hidden: np.ndarray
              ) -> dict[str, pd.DataFrame]:
    out = dict(tables)
    c = problem.cells
    for sub, (name, index) in where.items():
        cols = set(c.loc[(c["table"] == sub).to_numpy() & hidden, "column"])
        d = problem.derived
        cols |= set(d.loc[(d["table"] == sub).to_numpy() & hidden[d["cell"].astype(int).to_numpy()], "column"]) \
            if len(d) else set()
        if not cols:
            continue
        t = out[name].copy() if out[name] is tables[name] else out[name]
        for col in cols:
            values = t[col].astype(object).where(t[col].notna(), None).tolist()
            pos = t.index.get_indexer(index)
            for p, v in zip(pos, published[sub][col].tolist()):
                values[p] = v
            t[col] = pd.Series([x.item() if isinstance(x, np.generic) else x for x in values], index=t.index,
                               dtype=object)
        out[name] = t
    return out


def publish_outputs(result: "PipelineResult", tables: dict[str, pd.DataFrame] | None = None, *,
                    suppress_below: float | None = None, round_to: int | None = None,
                    time_limit: float = 60.0) -> Publication:
    """The tables of a run ready to write: every observed-count table protected together, audited.

    Parameters
    ----------
    result : PipelineResult
    tables : dict, optional
        Default ``result.tables``. Every table must be registered in :data:`OUTPUTS`.
    suppress_below, round_to : optional
        Default: the run's config. Without either, the tables are returned unchanged.
    time_limit : float
        Seconds for the optimal secondary suppression (then its best safe pattern is used).

    Returns
    -------
    Publication

    Raises
    ------
    DisclosureError
        If the audit finds a small count that can be worked out from the published tables.

    Examples
    --------
    >>> from senforecast.pipeline.config import demo_config
    >>> from senforecast.pipeline.run import run_pipeline
    >>> cfg = demo_config().replace(draws=20, horizon=2, scenarios=(), backtest=False,
    ...                             model_options={"mode": "witan"})
    >>> res = run_pipeline(cfg, charts=False)
    >>> pub = publish_outputs(res, suppress_below=5)
    >>> pub.audit.passed, pub.tables["Assumptions"]["value"].iloc[-1].startswith("disclosure audit passed")
    (True, True)
    >>> pub.tables["Starting point"].set_index("setting").loc["RB-DOL-C", ["on_roll", "yearly_cost"]].tolist()
    ['c', 'c']
    """
    cfg = result.config
    tables = dict(result.tables if tables is None else tables)
    unregistered = [n for n in tables if n not in OUTPUTS]
    if unregistered:
        raise SenForecastError(f"table(s) {unregistered} are not in the outputs registry "
                               "(senforecast.reporting.outputs.OUTPUTS); register each with its disclosure spec")
    suppress_below = cfg.suppress_below if suppress_below is None else suppress_below
    round_to = cfg.round_to if round_to is None else round_to
    if not suppress_below and not round_to:
        return Publication(tables)
    notes: dict[str, str] = {}
    problem = aud = None
    t0 = time.perf_counter()
    if suppress_below:
        problem, where, sup, published, aud = _protection(result, tables, suppress_below, time_limit)
        hidden = (problem.cells["role"] == "count").to_numpy() & sup.hidden
        tables = _put_back(tables, published, where, problem, hidden)
        notes["Suppression"] = (f"Observed counts of children from 1 to {suppress_below - 1:g}, and the other counts "
                                f"needed to protect them, are shown as \"{MARKER}\", in every table together "
                                "(derived columns such as costs and spare places are hidden with their count). "
                                "Projected values are means and quantiles of simulations, not counts of real "
                                "children, and are not suppressed.")
        if "Data warnings" in tables:
            w = tables["Data warnings"]
            tables["Data warnings"] = w.assign(warning=[mask_small_numbers(str(x), suppress_below)
                                                        for x in w["warning"]])
        if "Assumptions" in tables:
            a = assumptions(result)  # afresh: it states the suppression of this publication
            tables["Assumptions"] = pd.concat([a, pd.DataFrame({"item": ["disclosure audit"],
                                                                "value": [aud.summary()]})], ignore_index=True)
        if not aud.passed:
            raise DisclosureError("the published tables would let small counts be worked out, so nothing was "
                                  f"written: {aud.summary()}")
    if round_to:
        for name in list(tables):
            parts = parts_of(name, tables[name])
            if not parts:
                continue
            t = tables[name]
            derived = [c for p in parts for c in p.spec.derived if c in t.columns]
            t = t.drop(columns=derived)  # a cost beside a rounded count would give the exact count
            counts = [c for p in parts for c in p.spec.counts if c in t.columns]
            hidden = {c: t[c].astype(object).eq(MARKER) for c in counts}
            t = round_counts(t, round_to, count_columns=counts)
            for c, h in hidden.items():  # rounded counts, markers kept
                if h.any():
                    t[c] = t[c].astype(object).where(~h, MARKER)
            tables[name] = t
        notes["Rounding"] = f"Observed counts of children are rounded to the nearest {round_to}."
    seconds = time.perf_counter() - t0
    return Publication(tables, aud, notes, problem, seconds)


def _protection(result: "PipelineResult", tables: dict[str, pd.DataFrame], suppress_below: float,
                time_limit: float) -> tuple:
    """Problem, suppression, published sub-tables and audit of the run's observed-count tables,
    made once per set of those tables: the charts (drawn from what is published) and the write
    both need it, and the optimisation takes about a second. Other tables (warnings, notes)
    are not part of it, so changing them reuses the result."""
    counted = {n: t for n, t in tables.items() if parts_of(n, t)}
    key = (suppress_below, time_limit, tuple(counted))
    memo = result.__dict__.setdefault("_outputs_memo", {})
    hit = memo.get("protection")
    if hit is not None and hit[0] == key and all(hit[1][n] is t for n, t in counted.items()):
        return hit[2]
    problem, where = disclosure_problem(result, tables, suppress_below)
    sup = suppress(problem, time_limit=time_limit)
    published = publish(problem, sup, marker=MARKER)
    made = (problem, where, sup, published, audit(problem, published))
    memo["protection"] = (key, counted, made)  # holds the tables, so identity is a safe test
    return made


def report_tables(publication: Publication) -> dict[str, pd.DataFrame]:
    """The published tables the HTML report shows, by registry name.

    Examples
    --------
    >>> pub = Publication({"Projection total": pd.DataFrame({"year": [2026]}),
    ...                    "Assumptions": pd.DataFrame({"item": ["a"], "value": ["b"]})})
    >>> list(report_tables(pub))
    ['Assumptions']
    """
    return {n: t for n, t in publication.tables.items() if n in OUTPUTS and OUTPUTS[n].in_report}

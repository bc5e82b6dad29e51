"""The end-to-end run behind ``senforecast demo`` / ``senforecast run`` and the HTML report.

load -> fit -> project -> gap -> scenarios -> backtest -> tables -> charts -> files.

:func:`run_pipeline` does the work and returns a :class:`PipelineResult` (every object,
table and figure, so a notebook can look inside); :func:`write_outputs` writes the workbook,
CSVs, chart files and ``report.html`` to a folder.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd

from ..core.costs import CostModel
from ..core.data import LocalAreaData
from ..core.errors import InputWarning, SenForecastError
from ..core.provision import ProvisionRegister
from ..core.scenarios import Scenario
from ..evaluation.backtest import backtest
from ..io import read_local_area
from ..models import registry
from ..models.prevalence import decompose_change
from ..models.setting_split import SettingSplit
from ..planning.gap import demand_scenario, gap_analysis
from ..planning.scenario_compare import compare_scenarios
from ..plotting import save_figure
from ..projection import Projection
from ..reporting.disclosure import DisclosureError
from ..reporting.export import to_csv, to_excel
from ..reporting.figures import build_figures
from ..reporting.html import render_report
from ..reporting.outputs import Publication, build_tables, publish_outputs
from .atomic import staged_folder
from .config import Config, demo_config

Progress = Callable[[str], None]

SPECIALIST_OR_OOC = ("resource_base", "special_school", "unit", "independent", "other_la")


@dataclass
class PipelineResult:
    """Everything one pipeline run produced.

    Attributes
    ----------
    config : Config
    data : LocalAreaData
    model : fitted model
    projection : Projection
        Baseline projection.
    gap : GapAnalysis
        Baseline gap analysis.
    scenario_gaps : dict of str to GapAnalysis
        ``"baseline"`` first, then each scenario of the config.
    scenarios : DataFrame or None
        :func:`senforecast.planning.scenario_compare.compare_scenarios` table (None without scenarios).
    backtest : BacktestResult or None
    decomposition : DataFrame or None
        Population, rate and scenario effects on the total at the last projection year.
    tables : dict of str to DataFrame
        The published tables (workbook sheets, CSVs).
    figures : dict of str to Figure
        The charts, keyed by file stem.
    warnings : list of str
        Data-quality and model warnings, in plain English (no pupil ids).
    timings : dict of str to float
        Seconds per step.

    Examples
    --------
    >>> from senforecast.pipeline.config import demo_config
    >>> cfg = demo_config().replace(draws=20, horizon=2, scenarios=(), backtest=False,
    ...                             model_options={"mode": "witan"})
    >>> res = run_pipeline(cfg, charts=False)
    >>> res.projection.years.tolist(), list(res.scenario_gaps), res.backtest is None
    ([2026, 2027], ['baseline'], True)
    >>> "Gap by year" in res.tables and "fitting the cohort model" in res.timings
    True
    >>> any("pupil_id" in w for w in res.warnings)  # warnings never name children
    False
    """

    config: Config
    data: LocalAreaData
    model: Any
    projection: Projection
    gap: Any
    scenario_gaps: dict[str, Any] = field(default_factory=dict)
    scenarios: pd.DataFrame | None = None
    backtest: Any = None
    decomposition: pd.DataFrame | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"PipelineResult({self.config.name!r}, {self.projection!r}, {len(self.tables)} tables, "
                f"{len(self.figures)} charts)")

    def write(self, out: str | Path, progress: Progress | None = None) -> dict[str, Any]:
        """Same as :func:`write_outputs`."""
        return write_outputs(self, out, progress=progress)


class _Steps:
    """Times each step and reports it through ``progress`` (stderr in the CLI)."""

    def __init__(self, progress: Progress | None, n: int):
        self.progress, self.n, self.i = progress, n, 0
        self.timings: dict[str, float] = {}

    def __call__(self, name: str):
        self.i += 1
        steps = self

        class _Step:
            def __enter__(self_inner):
                self_inner.t = time.perf_counter()
                if steps.progress:
                    steps.progress(f"[{steps.i}/{steps.n}] {name} ...")

            def __exit__(self_inner, exc_type, *_):
                dt = time.perf_counter() - self_inner.t
                steps.timings[name] = dt
                if steps.progress and exc_type is None:
                    steps.progress(f"[{steps.i}/{steps.n}] {name}: done in {dt:.1f} s")
                return False

        return _Step()


def _collect(caught: list, into: list[str]) -> None:
    for w in caught:
        msg = str(w.message)
        if msg not in into:
            into.append(msg)


def read_inputs(config: Config) -> tuple[LocalAreaData, list[str]]:
    """Read and validate the config's input files; warnings come back as plain text.

    Raises :class:`~senforecast.core.errors.InputValidationError` naming file, row and column.

    Examples
    --------
    >>> data, notes = read_inputs(demo_config())
    >>> data.need_scheme, any("NCY did not go up" in n for n in notes)
    ('wales_plasc', True)
    """
    missing = [f"{t} = {str(p)!r}" for t, p in config.inputs.items() if not Path(p).is_file()]
    if missing:
        raise SenForecastError("input file(s) not found: " + "; ".join(missing)
                               + ". Paths in a config are relative to the config file's folder.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InputWarning)
        data = read_local_area(**config.inputs, need_scheme=config.need_scheme, columns=config.columns,
                               name=config.name)
        # the children to forecast: with Welsh plan types, statements and LA-maintained IDPs
        data = data.select_series(config.series, warn=False)
    notes: list[str] = []
    for p in data.report.warnings:
        if str(p) not in notes:
            notes.append(str(p))
    _collect([w for w in caught if issubclass(w.category, InputWarning)], notes)
    return data, notes


def make_model(config: Config):
    """The (unfitted) model the config asks for.

    Examples
    --------
    >>> type(make_model(demo_config())).__name__
    'CohortModel'
    """
    return registry.get(config.model).cls(**config.model_options)


def specialist_share_table(data: LocalAreaData, kinds: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Share of children with plans in specialist or out-of-county settings, by NCY and need.

    From the last census: a plain description of where children are, and a table that
    :func:`senforecast.planning.gap.gap_analysis` accepts as ``specialist_share`` for a projection
    without settings (the pipeline itself splits such projections with
    :class:`~senforecast.models.setting_split.SettingSplit`). A need x NCY with no children
    takes the need's share over all ages, and failing that the authority's.

    Examples
    --------
    >>> from senforecast.datasets.demo import load_demo
    >>> t = specialist_share_table(load_demo())
    >>> bool(t["share"].between(0, 1).all()), list(t.columns)
    (True, ['ncy', 'need', 'share'])
    """
    if data.plans is None or data.provision is None:
        raise SenForecastError("a specialist share needs the plans and the provision register; "
                               "add both files to [inputs]")
    plans = data.plans[data.plans["year"] == data.plans["year"].max()]
    kind = dict(zip(data.provision["setting"].astype(str), data.provision["kind"].astype(str)))
    kind.update(kinds or {})
    setting = plans["setting"].astype(str)
    special = setting.map(kind).fillna(setting).isin(SPECIALIST_OR_OOC).astype(float)
    frame = pd.DataFrame({"ncy": plans["ncy"].astype(int), "need": plans["need"].astype(str), "s": special})
    overall = frame["s"].mean()
    by_need = frame.groupby("need")["s"].mean()
    ncys = range(int(data.plans["ncy"].min()), int(data.plans["ncy"].max()) + 1)
    grid = pd.MultiIndex.from_product([ncys, sorted(frame["need"].unique())], names=["ncy", "need"])
    cell = frame.groupby(["ncy", "need"])["s"].mean().reindex(grid)
    fill = pd.Series(grid.get_level_values("need"), index=grid).map(by_need).fillna(overall)
    return cell.fillna(fill).rename("share").reset_index()


def _with_settings(projection: Projection, data: LocalAreaData, config: Config, notes: list[str]) -> Projection:
    """A projection without settings (the prevalence model's) split into settings by each need
    and phase's setting mix of the last censuses (:class:`SettingSplit`: pooled, with its
    uncertainty and year-to-year movement), unless ``[gap] specialist_share`` is set or there
    are no plans to learn the mix from."""
    if projection.has_dim("setting") or config.specialist_share is not None or data.plans is None:
        return projection
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InputWarning)
        split = SettingSplit().fit(data).split(projection, seed=config.seed)
    _collect([w for w in caught if issubclass(w.category, InputWarning)], notes)
    return split


def cost_model(data: LocalAreaData, config: Config) -> CostModel:
    """The run's cost model: the register's costs and the costs table (``costs.csv``, which
    comes first), the config's ``[costs] inflation`` and price base year.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     data = read_inputs(demo_config())[0]
    >>> cost_model(data, demo_config())
    CostModel(16 costs table rows, inflation 2.0%, prices of the base year)
    """
    return CostModel(ProvisionRegister(data.provision, data.costs), inflation=config.inflation,
                     base_year=config.cost_base_year)


def _gap(projection: Projection, data: LocalAreaData, config: Config, scenario: Scenario | None,
         notes: list[str]):
    share = None
    if not projection.has_dim("setting"):
        if config.specialist_share is None:
            raise SenForecastError("this model projects no settings, so the gap analysis needs the share of "
                                   "children who need a specialist place: add plans to [inputs] (each need "
                                   "and phase's setting mix is used) or set [gap] specialist_share = 0.25")
        share = config.specialist_share
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InputWarning)
        g = gap_analysis(projection, data.provision, scenario=scenario, confidence=config.confidence,
                         kinds=config.kinds or None, specialist_share=share, seed=config.seed,
                         ooc_placements=config.ooc_placements, costs=cost_model(data, config))
    _collect([w for w in caught if issubclass(w.category, InputWarning)], notes)
    return g


def run_pipeline(config: Config | None = None, *, progress: Progress | None = None,
                 charts: bool = True) -> PipelineResult:
    """Run the whole analysis of one authority.

    Parameters
    ----------
    config : Config, optional
        Default: :func:`senforecast.pipeline.config.demo_config` (the bundled demo authority).
    progress : callable, optional
        Called with one line of text as each step starts and ends.
    charts : bool
        Draw the charts (skip them for a tables-only run).

    Returns
    -------
    PipelineResult

    Examples
    --------
    >>> from senforecast.pipeline.config import demo_config
    >>> cfg = demo_config().replace(draws=50, horizon=3, scenarios=(), backtest=False)
    >>> res = run_pipeline(cfg, charts=False)
    >>> res.projection.years.tolist(), "Gap by year" in res.tables
    ([2026, 2027, 2028], True)
    """
    config = config or demo_config()
    if "provision" not in config.inputs:
        raise SenForecastError("the pipeline compares demand with places: add a provision file to [inputs]")
    n_steps = 6 + bool(config.scenarios) + bool(config.backtest) + bool(charts)
    step = _Steps(progress, n_steps)
    notes: list[str] = []
    with step("reading and checking inputs"):
        data, read_notes = read_inputs(config)
        notes += read_notes
    with step(f"fitting the {config.model} model"):
        model = make_model(config).fit(data)
    with step(f"projecting {config.horizon} years x {config.draws} draws"):
        projection = model.project(config.horizon, n_draws=config.draws, seed=config.seed)
        projection = _with_settings(projection, data, config, notes)
    with step("gap analysis against the provision register"):
        gap = _gap(projection, data, config, None, notes)
    result = PipelineResult(config=config, data=data, model=model, projection=projection, gap=gap,
                            scenario_gaps={"baseline": gap}, warnings=notes)
    if config.scenarios:
        with step(f"running {len(config.scenarios)} scenario(s)"):
            _run_scenarios(result, notes)
    if config.backtest:
        with step("backtesting on past censuses"):
            _run_backtest(result, notes)
    with step("change since the last census (population, rate, scenario effects)"):
        result.decomposition = _decompose(result, notes)
    with step("building tables"):
        result.tables = build_tables(result)
    if charts:
        with step("drawing charts"):
            result.figures = build_figures(result, _publication_for_charts(result))
    result.timings = step.timings
    return result


def _publication_for_charts(result: PipelineResult) -> Publication | None:
    """The protected tables the charts draw observed counts from (None: nothing to protect)."""
    cfg = result.config
    if not cfg.suppress_below and not cfg.round_to:
        return None
    try:
        return publish_outputs(result)
    except DisclosureError as exc:  # nothing can be written; the write says so
        result.warnings.append(f"charts drawn from unprotected counts: {exc}")
        return None


def _has_demand_side(s: Scenario) -> bool:
    return bool(s.joiner_multiplier != 1.0 or s.rate_changes or s.redirects or s.closures)


def _run_scenarios(result: PipelineResult, notes: list[str]) -> None:
    """Project each scenario's demand side with the model, then apply its supply side in the gap.

    Closing a specialist or out-of-county setting is supply side (:func:`demand_scenario`): the
    model keeps its children in demand and the gap analysis removes the places and re-places
    them. A demand-side part the model cannot apply raises UnsupportedScenarioError (exit 2).
    """
    cfg = result.config
    for s in cfg.scenarios:
        proj = result.projection
        model_part = demand_scenario(s, result.data.provision, cfg.kinds or None)
        if _has_demand_side(model_part):
            # same seed as the baseline: differences are the scenario, not simulation noise
            proj = result.model.project(cfg.horizon, scenario=model_part, n_draws=cfg.draws, seed=cfg.seed)
            proj = _with_settings(proj, result.data, cfg, notes)
        result.scenario_gaps[s.name] = _gap(proj, result.data, cfg, s, notes)
    result.scenarios = compare_scenarios(result.scenario_gaps)


def _run_backtest(result: PipelineResult, notes: list[str]) -> None:
    cfg = result.config
    years = sorted(result.data.plans["year"].unique()) if result.data.plans is not None else \
        sorted(result.data.census["year"].unique())
    origins = cfg.backtest_origins
    if origins is None:
        # the last three origins that leave at least one later census and three years of history
        possible = [y for y in years[2:-1]]
        origins = tuple(possible[-3:])
    if not origins:
        notes.append(f"backtest skipped: {len(years)} censuses are too few (need at least four)")
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InputWarning)
            result.backtest = backtest(make_model(cfg), result.data, origins=list(origins),
                                       horizons=cfg.backtest_horizons, by=("total", "need"),
                                       n_draws=cfg.backtest_draws, seed=cfg.seed, name=cfg.model)
    except SenForecastError as exc:
        # the projection stands without it; say why in the report rather than stop the run
        notes.append(f"backtest not run: {exc}")


def _decompose(result: PipelineResult, notes: list[str]) -> pd.DataFrame | None:
    """Population and rate effects (baseline) plus each demand-side scenario's effect."""
    data, proj = result.data, result.projection
    if data.population is None or proj.history is None:
        return None
    try:
        # population varies by area and NCY only, so the split is the same on the (area, ncy) sums
        dims = [c for c in ("area", "ncy") if c in proj.cells.columns]
        d = decompose_change(proj.aggregate(dims), population=data.population)
    except SenForecastError as exc:
        notes.append(f"change not split into population and rate effects: {exc}")
        return None
    last = d[d["year"] == d["year"].max()].iloc[0]
    rows = [("start", f"{int(last['base_year'])} census", float(last["base_count"])),
            ("effect", "population change", float(last["population_effect"])),
            ("effect", "rate change (baseline)", float(last["rate_effect"]))]
    base_total = proj.total()[:, -1].mean()
    for name, g in result.scenario_gaps.items():
        if name != "baseline" and g.projection is not proj:
            rows.append(("effect", f"scenario: {name}", float(g.projection.total()[:, -1].mean() - base_total)))
    out = pd.DataFrame(rows, columns=["part", "label", "children"])
    out.insert(0, "year", int(last["year"]))
    return out


def write_outputs(result: PipelineResult, out: str | Path, *, progress: Progress | None = None) -> dict[str, Any]:
    """Write the workbook, CSVs, charts and ``report.html`` of a run to a folder.

    Parameters
    ----------
    result : PipelineResult
    out : str or Path
        Output folder (created). Files: ``report.html``, ``senforecast.xlsx``, ``csv/*.csv``,
        ``charts/*.png`` (and ``.svg``). Everything is written into a staging folder beside it
        and swapped in at the end (:mod:`senforecast.pipeline.atomic`): an interrupted or failed
        write leaves an earlier output untouched, and no file of an earlier run stays behind.
        An existing folder holding files senforecast did not write is refused.
    progress : callable, optional

    Returns
    -------
    dict
        ``report``, ``workbook`` (Paths), ``csv`` and ``charts`` (lists of Paths), in ``out``.

    Raises
    ------
    senforecast.pipeline.atomic.OutputError
        ``out`` is a file, cannot be written, holds files of its own, or the disk filled up.

    Examples
    --------
    A tables-only run with one chart of our own (drawing every chart takes longer):

    >>> import tempfile
    >>> cfg = demo_config().replace(draws=50, horizon=2, scenarios=(), backtest=False,
    ...                             model_options={"mode": "witan"})
    >>> res = run_pipeline(cfg, charts=False)
    >>> res.figures["projection_total"] = res.projection.plot.fan()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     files = write_outputs(res, tmp)
    ...     with pd.ExcelFile(files["workbook"]) as xl:
    ...         sheets = xl.sheet_names
    ...     html = files["report"].read_text(encoding="utf-8")
    >>> files["report"].name, [p.name for p in files["charts"]]
    ('report.html', ['projection_total.png', 'projection_total.svg'])
    >>> sheets[0], sheets[1:] == list(res.tables)  # a Notes sheet, then one sheet per table
    ('Notes', True)
    >>> len([p for p in files["csv"] if p.suffix == ".csv"]) == len(res.tables)  # and notes.txt
    True
    >>> cfg.name in html, html.count("data:image/png;base64")  # the chart is embedded in the report
    (True, 1)
    """
    say = progress or (lambda _m: None)
    with staged_folder(out) as stage:
        files = _write_files(result, stage, say)
    final = Path(out)

    def moved(p: Path) -> Path:
        return final / p.relative_to(stage)

    return {"report": moved(files["report"]), "workbook": moved(files["workbook"]),
            "csv": [moved(p) for p in files["csv"]], "charts": [moved(p) for p in files["charts"]]}


def _write_files(result: PipelineResult, out: Path, say: Progress) -> dict[str, Any]:
    cfg = result.config
    if "Data warnings" in result.tables:  # charts drawn after the tables may have added some
        result.tables["Data warnings"] = pd.DataFrame({"warning": result.warnings or ["none"]})
    say("writing the workbook and CSVs (disclosure-protected) ...")
    # every observed-count table protected together and audited (see reporting.outputs); raises if unsafe
    publication = publish_outputs(result)
    tables = publication.tables
    notes = tables["Assumptions"]
    note_rows = dict(zip(notes["item"], notes["value"]))
    note_rows.update(publication.notes)
    workbook = to_excel(tables, out / "senforecast.xlsx", notes=note_rows, title=f"senforecast: {cfg.name}")
    csvs = to_csv(tables, out / "csv", notes=note_rows)
    say(f"writing {len(result.figures)} charts ...")
    chart_files = []
    (out / "charts").mkdir(exist_ok=True)
    images = {}
    for name, fig in result.figures.items():
        for fmt in cfg.chart_formats:
            path = out / "charts" / f"{name}.{fmt}"
            save_figure(fig, path, fmt, dpi=150 if fmt == "png" else None)
            chart_files.append(path)
            if fmt == "png":
                images[name] = path.read_bytes()  # the report embeds the same PNG
    say("writing report.html ...")
    report = out / "report.html"
    listed = ["senforecast.xlsx: every table, one sheet each, with a Notes sheet",
              f"csv/: the same tables as CSV ({len(csvs)} files)",
              f"charts/: {len(result.figures)} charts as {', '.join(cfg.chart_formats)}"]
    report.write_text(render_report(result, files=listed, images=images, publication=publication), encoding="utf-8")
    return {"report": report, "workbook": workbook, "csv": csvs, "charts": chart_files}

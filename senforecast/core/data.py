"""`LocalAreaData`: the validated input tables of one local authority, in canonical form.

Models take a ``LocalAreaData``; they never read files. Readers in :mod:`senforecast.io`
build one. See ``docs/contracts.md`` for the canonical columns of every table.
"""
from __future__ import annotations

import copy
import html
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .codes import NO_PLAN, SETTING_KINDS, get_scheme
from .errors import InputWarning, Problem, SenForecastError, ValidationReport
from .plan_types import EHCP_EQUIVALENT, PLAN_TYPES
from .transitions import build_transitions, stocks_from_transitions, transition_anomalies


SERIES: dict[str, str] = {
    "ehcp_equivalent": "statement or LA-maintained IDP (EHC-plan equivalent)",
    "all": "every plan type",
}
"""Series a plans table with a ``plan_type`` column can be forecast as (config ``[inputs] series``)."""

_PLAN_TYPE_NAMES = {"statement": "statements", "school_action": "School Action",
                    "school_action_plus": "School Action Plus", "school_idp": "school-maintained IDPs",
                    "la_idp": "LA-maintained IDPs"}


@dataclass(frozen=True)
class SeriesSelection:
    """Which children of the plans table a forecast is about (set by :meth:`LocalAreaData.select_series`).

    Attributes
    ----------
    series : str
        ``"ehcp_equivalent"``, ``"all"``, or ``"plans"`` (no ``plan_type`` column: every row).
    plan_types : tuple of str
        Plan types kept (empty without a ``plan_type`` column).
    years : tuple of int or None
        First and last census year of the plans.
    left_out : DataFrame
        ``year, plan_type, children``: children per census left out of the series (no ids).
    children_left_out : int
        Different children with a row left out, over all censuses.

    Examples
    --------
    >>> s = SeriesSelection("plans", (), (2019, 2025), pd.DataFrame(columns=["year", "plan_type", "children"]), 0)
    >>> s.sentence()
    'every child in the plans table (no plan_type column), 2019-2025'
    """

    series: str
    plan_types: tuple[str, ...]
    years: tuple[int, int] | None
    left_out: pd.DataFrame
    children_left_out: int

    def sentence(self) -> str:
        """One line for reports: which series was forecast and who was left out."""
        span = f", {self.years[0]}-{self.years[1]}" if self.years else ""
        if self.series == "plans":
            return f"every child in the plans table (no plan_type column){span}"
        if self.series == "all":
            kinds = " / ".join(_PLAN_TYPE_NAMES[c] for c in PLAN_TYPES if c in self.plan_types)
            return (f"every plan type ({kinds}){span}: not the EHC-plan equivalent, school-based plans "
                    "are included")
        text = f"{SERIES['ehcp_equivalent']}{span}; "
        if not self.children_left_out:
            return text + "no children with other plan types in the data"
        kinds = " / ".join(_PLAN_TYPE_NAMES[c] for c in PLAN_TYPES if c in set(self.left_out["plan_type"]))
        last = self.left_out[self.left_out["year"] == self.left_out["year"].max()]
        n = self.children_left_out
        text += f"{n:,} {'child' if n == 1 else 'children'} with {kinds} not forecast"
        if self.years and len(last) and int(last["year"].iloc[0]) == self.years[1]:
            text += f" ({int(last['children'].sum()):,} of them in the {self.years[1]} census)"
        return text


@dataclass(frozen=True)
class LocalAreaData:
    """Validated input tables of one authority (frozen: change a copy with ``dataclasses.replace``).

    Parameters
    ----------
    plans : DataFrame, optional
        One row per child per January census: ``pupil_id, year, ncy, need, setting, area``.
    population : DataFrame, optional
        ``year, area, ncy, count`` (history and projection).
    provision : DataFrame, optional
        Register of settings: ``setting, name, kind, area, min_ncy, max_ncy, capacity,
        designation, opens, closes, cost_per_place``.
    census : DataFrame, optional
        Aggregate counts ``year, area, ncy, [stage], [need], count``.
    placements : DataFrame, optional
        Out-of-county / independent placements ``year, setting, need, ncy, area, count,
        cost_per_place``.
    costs : DataFrame, optional
        ``setting, [need], cost_per_place``.
    transitions : DataFrame, optional
        Pre-built transitions (e.g. from witan.send inputs); otherwise built from ``plans``.
    need_scheme : str, optional
        Name of the need-code scheme the ``need`` column uses.
    name : str
        Authority name for reports.
    report : ValidationReport
        Warnings and counts collected while reading.
    series : SeriesSelection, optional
        Which children of ``plans`` are forecast, once :meth:`select_series` has chosen.

    Examples
    --------
    >>> import pandas as pd
    >>> d = LocalAreaData(plans=pd.DataFrame({"pupil_id": ["a"], "year": [2024], "ncy": [3],
    ...     "need": ["ASD"], "setting": ["MS"], "area": ["N"]}), name="Demo")
    >>> d.name
    'Demo'
    """

    plans: pd.DataFrame | None = None
    population: pd.DataFrame | None = None
    provision: pd.DataFrame | None = None
    census: pd.DataFrame | None = None
    placements: pd.DataFrame | None = None
    costs: pd.DataFrame | None = None
    transitions: pd.DataFrame | None = None
    need_scheme: str | None = None
    name: str = "local authority"
    report: ValidationReport = field(default_factory=ValidationReport)
    series: SeriesSelection | None = None

    def require(self, *tables: str) -> None:
        """Raise a clear error if any of the named tables is missing."""
        missing = [t for t in tables if getattr(self, t) is None]
        if missing:
            raise SenForecastError(
                f"{self.name}: this step needs the {', '.join(missing)} table(s); "
                "load them with senforecast.io readers"
            )

    def truncate(self, origin: int) -> "LocalAreaData":
        """The authority as it stood after the January census of ``origin``: what a forecast
        made then could have used (the backtests fit on it).

        Keeps plans, census and placements of years up to ``origin`` and transitions that start
        before it (a transition labelled ``y`` ends at census ``y + 1``). Population, provision
        and costs are kept whole: a population projection and a register are inputs a forecaster
        of that year would have had in some form (see :mod:`senforecast.evaluation.backtest`).

        Examples
        --------
        >>> plans = pd.DataFrame({"pupil_id": ["a", "a", "a"], "year": [2022, 2023, 2024], "ncy": [1, 2, 3],
        ...     "need": "ASD", "setting": "MS", "area": "N"})
        >>> LocalAreaData(plans=plans).truncate(2023).plans["year"].tolist()
        [2022, 2023]
        """
        changes: dict[str, object] = {}
        for name in ("plans", "census", "placements"):
            t = getattr(self, name)
            if t is not None and "year" in t.columns:
                changes[name] = t[t["year"] <= origin].reset_index(drop=True)
        if self.transitions is not None:
            changes["transitions"] = self.transitions[self.transitions["year"] <= origin - 1].reset_index(drop=True)
        # its own copy of the report: refitting may record counts in it (e.g. transition anomalies)
        changes["report"] = copy.deepcopy(self.report)
        return replace(self, **changes)

    # ---------------------------------------------------------------- series
    def select_series(self, series: str = "ehcp_equivalent", *, warn: bool = True) -> "LocalAreaData":
        """The authority with only the children of the series to forecast.

        A plans table with a ``plan_type`` column (Welsh plan types, see
        :mod:`senforecast.core.plan_types`) mixes statutory plans and school-based support.
        ``"ehcp_equivalent"`` keeps statements and LA-maintained IDPs, the nearest Welsh
        equivalent of an EHC plan (the children who need specialist places), so the 2022-2025
        transfer from statements to IDPs is read as a change of label, not of demand: a child
        whose plan goes from statement to LA-maintained IDP stays in the series (a stayer). The
        children left out are counted by year and plan type (``series.left_out``,
        ``report.counts["plans.left_out.<plan type>"]``) and warned about, never dropped
        silently. ``"all"`` keeps every row. Without a ``plan_type`` column nothing is
        selected (``series.series == "plans"``).

        Parameters
        ----------
        series : {"ehcp_equivalent", "all"}
        warn : bool
            Issue an :class:`~senforecast.core.errors.InputWarning` naming the children left out
            (it is always put in ``report``).

        Returns
        -------
        LocalAreaData
            A copy (the original is unchanged) with ``plans`` selected, its own ``report``
            and ``series`` set.

        Examples
        --------
        >>> plans = pd.DataFrame({"pupil_id": ["a", "a", "b", "c"], "year": [2023, 2024, 2024, 2024],
        ...     "ncy": [3, 4, 5, 6], "need": "ASD", "setting": "MS", "area": "N",
        ...     "plan_type": ["statement", "la_idp", "la_idp", "school_idp"]})
        >>> d = LocalAreaData(plans=plans).select_series(warn=False)
        >>> len(d.plans), d.series.children_left_out
        (3, 1)
        >>> d.get_transitions()["kind"].tolist()  # a's statement became an LA IDP: a stayer; b joined
        ['stayer', 'joiner']
        >>> d.series.sentence()
        'statement or LA-maintained IDP (EHC-plan equivalent), 2023-2024; 1 child with school-maintained IDPs not forecast (1 of them in the 2024 census)'
        """
        if series not in SERIES:
            raise SenForecastError(f"series must be one of {', '.join(map(repr, SERIES))} (found {series!r})")
        plans = self.plans
        empty = pd.DataFrame({"year": pd.Series(dtype="int64"), "plan_type": pd.Series(dtype=str),
                              "children": pd.Series(dtype="int64")})
        years = (int(plans["year"].min()), int(plans["year"].max())) if plans is not None and len(plans) else None
        if plans is None or "plan_type" not in plans.columns or plans["plan_type"].isna().all():
            return replace(self, series=SeriesSelection("plans", (), years, empty, 0))
        types = plans["plan_type"]
        bad = types.isna() | ~types.isin(list(PLAN_TYPES))
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise SenForecastError(f"{self.name} plans: row {pos + 2} has plan_type {types.iloc[pos]!r}; every row "
                                   f"needs one of {', '.join(PLAN_TYPES)} (read the file with "
                                   "senforecast.io.read_plans to have labels turned into codes)")
        keep = np.ones(len(plans), dtype=bool) if series == "all" else types.isin(EHCP_EQUIVALENT).to_numpy()
        if not keep.any():
            raise SenForecastError(f"{self.name}: no child has a statement or an LA-maintained IDP, so there is "
                                   "no EHC-plan-equivalent series to forecast; set [inputs] series = \"all\" "
                                   "to forecast every plan type")
        left = plans.loc[~keep, ["pupil_id", "year", "plan_type"]]
        left_out = (left.groupby(["year", "plan_type"]).size().rename("children").reset_index()
                    if len(left) else empty)
        kept_types = tuple(c for c in PLAN_TYPES if c in set(types[keep]))
        sel = SeriesSelection(series, kept_types, years, left_out, int(left["pupil_id"].nunique()))
        report = ValidationReport(list(self.report.errors), list(self.report.warnings), dict(self.report.counts))
        report.count("plans.rows_in_series", int(keep.sum()))
        for code, n in left["plan_type"].value_counts().sort_index().items():
            report.count(f"plans.left_out.{code}", int(n))
        if len(left):
            by_type = ", ".join(f"{_PLAN_TYPE_NAMES[c]}: {n:,}" for c, n in
                                left["plan_type"].value_counts().reindex(list(PLAN_TYPES)).dropna().astype(int).items())
            problem = Problem(f"{self.name} plans", None, "plan_type",
                              f"{sel.children_left_out:,} child(ren) ({len(left):,} rows over the censuses; {by_type}) "
                              f"are not in the series forecast, {SERIES['ehcp_equivalent']}; set [inputs] series = "
                              "\"all\" to forecast every plan type")
            report.warn(problem)
            if warn:
                warnings.warn(str(problem), InputWarning, stacklevel=2)
        kept = plans[keep].reset_index(drop=True)
        # spreadsheet rows of the kept children, so anomaly reports still point at the file
        rows = plans.attrs.get("rows")
        rows = np.asarray(rows) if rows is not None and len(rows) == len(plans) else np.arange(len(plans)) + 2
        kept.attrs["rows"] = tuple(int(r) for r in rows[keep])  # a tuple: pandas compares attrs
        return replace(self, plans=kept, report=report, series=sel)

    # ---------------------------------------------------------------- transitions
    def get_transitions(self, years=None, *, rebuild: bool = False) -> pd.DataFrame:
        """The transitions table: as given (e.g. from witan.send inputs), else built from ``plans``.

        Built once with :func:`senforecast.core.transitions.build_transitions` and cached; children
        whose NCY does not advance are kept with ``ncy_to = ncy_from + 1`` and counted in
        ``report.counts["transitions.ncy_not_advancing"]``.

        Parameters
        ----------
        years : sequence of int, optional
            First years of the census pairs (default all).
        rebuild : bool
            Rebuild from ``plans`` even if cached or given.

        Examples
        --------
        >>> plans = pd.DataFrame({"pupil_id": ["a", "a", "b"], "year": [2024, 2025, 2025],
        ...     "ncy": [3, 4, 1], "need": ["ASD"] * 3, "setting": ["MS"] * 3, "area": ["N"] * 3})
        >>> LocalAreaData(plans=plans).get_transitions()["kind"].tolist()
        ['joiner', 'stayer']
        """
        if self.transitions is not None and not rebuild:
            t = self.transitions
            return t if years is None else t[t["year"].isin(list(np.atleast_1d(years)))]
        self.require("plans")
        key = (id(self.plans), len(self.plans), None if years is None else tuple(np.atleast_1d(years)))
        cache = self.__dict__.setdefault("_transitions_cache", {})
        if rebuild or key not in cache:
            cache.clear()
            # anomalies were already warned about when the plans were read: only count them here
            tmp = ValidationReport()
            cache[key] = build_transitions(self.plans, years, report=tmp, warn=False,
                                           source=f"{self.name} plans")
            for k, n in tmp.counts.items():
                self.report.counts[k] = n
        return cache[key]

    def get_transition_anomalies(self) -> pd.DataFrame:
        """Anomalies of ``plans`` (NCY not advancing, area changes and, with ``provision``,
        children outside their setting's age range or designation): see
        :func:`senforecast.core.transitions.transition_anomalies`. Row numbers, never pupil ids.

        Examples
        --------
        >>> plans = pd.DataFrame({"pupil_id": ["a", "a"], "year": [2024, 2025], "ncy": [3, 3],
        ...     "need": ["ASD"] * 2, "setting": ["MS"] * 2, "area": ["N"] * 2})
        >>> LocalAreaData(plans=plans).get_transition_anomalies()["anomaly"].tolist()
        ['ncy_not_advancing']
        """
        self.require("plans")
        return transition_anomalies(self.plans, self.provision, source=f"{self.name} plans")

    # ---------------------------------------------------------------- summary
    def summary(self) -> "AuthoritySummary":
        """A readable overview of the authority: children per year, by need, setting kind and
        area; places against children on roll; population years; warnings and anomalies.

        Print it, show it in Jupyter (HTML), or take one table with ``summary()["by need"]``.

        Examples
        --------
        >>> plans = pd.DataFrame({"pupil_id": ["a", "a", "b"], "year": [2024, 2025, 2025],
        ...     "ncy": [3, 4, 1], "need": ["ASD"] * 3, "setting": ["RB1", "RB1", "MS"],
        ...     "area": ["N"] * 3})
        >>> prov = pd.DataFrame({"setting": ["RB1"], "name": ["Base"], "kind": ["resource_base"],
        ...     "area": ["N"], "min_ncy": [0], "max_ncy": [6], "capacity": [8.0], "designation": ["ASD"],
        ...     "opens": pd.array([pd.NA], "Int64"), "closes": pd.array([pd.NA], "Int64"),
        ...     "cost_per_place": [20000.0]})
        >>> s = LocalAreaData(plans=plans, provision=prov, name="Demo").summary()
        >>> s["children per year"]["children"].tolist()
        [1, 2]
        >>> s["places and children on roll"].loc[0, ["setting", "places", "on_roll", "spare"]].astype(str).tolist()
        ['RB1', '8', '1', '7']
        """
        return _build_summary(self)


def _setting_kind(settings: pd.Series, provision: pd.DataFrame | None) -> pd.Series:
    kinds = {} if provision is None else dict(zip(provision["setting"].astype(str), provision["kind"].astype(str)))
    return settings.astype(str).map(lambda s: kinds.get(s, s if s in SETTING_KINDS else "unknown"))


def _wide(stock: pd.DataFrame, col: str) -> pd.DataFrame:
    t = stock.groupby([col, "year"])["count"].sum().unstack("year", fill_value=0)
    t.columns = [str(c) for c in t.columns]
    t = t.sort_values(t.columns[-1], ascending=False)
    t.index.name = col
    return t.reset_index()


def _stock(d: "LocalAreaData") -> pd.DataFrame | None:
    """Children per census ``year, need, setting, area, count`` from plans, else from given
    transitions (the first census of every pair, plus the second census of the last pair)."""
    cols = ["year", "need", "setting", "area"]
    if d.plans is not None:
        return d.plans.loc[:, cols].assign(count=1) if len(d.plans) else None
    t = d.transitions
    if t is None or not len(t):
        return None
    first = t[t["kind"] != "joiner"].rename(columns={"need_from": "need", "setting_from": "setting"})
    last = t[(t["year"] == t["year"].max()) & (t["kind"] != "leaver")]
    last = last.rename(columns={"need_to": "need", "setting_to": "setting"}).assign(year=lambda x: x["year"] + 1)
    return pd.concat([first[cols + ["count"]], last[cols + ["count"]]], ignore_index=True)


def _plan_type_table(d: "LocalAreaData") -> pd.DataFrame | None:
    """Children per census by plan type: those in the plans (in the series once selected)
    and, after :meth:`LocalAreaData.select_series`, those left out of it."""
    plans = d.plans
    if plans is None or "plan_type" not in plans.columns or plans["plan_type"].isna().all():
        return None
    kept = plans.groupby(["plan_type", "year"]).size().rename("count").reset_index()
    kept["in series"] = "yes" if d.series is not None else ""
    parts = [kept]
    if d.series is not None and len(d.series.left_out):
        parts.append(d.series.left_out.rename(columns={"children": "count"}).assign(**{"in series": "no"}))
    t = pd.concat(parts, ignore_index=True)
    wide = t.pivot_table(index=["plan_type", "in series"], columns="year", values="count", aggfunc="sum",
                         fill_value=0)
    wide.columns = [str(c) for c in wide.columns]
    order = {c: i for i, c in enumerate(PLAN_TYPES)}
    wide = wide.reset_index()
    wide = wide.iloc[np.argsort(wide["plan_type"].map(order).to_numpy(), kind="stable")].reset_index(drop=True)
    if d.series is None:
        wide = wide.drop(columns="in series")
    return wide


def _build_summary(d: "LocalAreaData") -> "AuthoritySummary":
    tables: dict[str, pd.DataFrame] = {}
    notes: list[str] = []
    plans, prov = d.plans, d.provision
    stock = _stock(d)
    last_year = int(stock["year"].max()) if stock is not None else None
    if stock is not None:
        per_year = stock.groupby("year")["count"].sum().rename("children").reset_index()
        years = per_year["year"].tolist()
        if len(years) > 1:
            t = d.get_transitions()
            flows = (t.pivot_table(index="year", columns="kind", values="count", aggfunc="sum", fill_value=0)
                     .reindex(columns=["joiner", "leaver", "mover", "need_change"], fill_value=0))
            flows.index = flows.index + 1  # flows into census year + 1
            flows.columns = ["joiners", "leavers", "movers", "need_changes"]
            per_year = per_year.merge(flows.reset_index(names="year"), on="year", how="left")
            for c in ["joiners", "leavers", "movers", "need_changes"]:
                per_year[c] = per_year[c].astype("Int64")
        tables["children per year"] = per_year
        need = _wide(stock, "need")
        if d.need_scheme is not None:
            try:
                labels = get_scheme(d.need_scheme).labels
                need.insert(1, "label", need["need"].map(labels).fillna(""))
            except SenForecastError:
                notes.append(f"need scheme {d.need_scheme!r} is not a bundled scheme; labels not shown")
        last = need.columns[-1]
        need["share %"] = (100 * need[last] / need[last].sum()).round(1)
        tables["by need"] = need
        tables["by setting kind"] = _wide(stock.assign(kind=_setting_kind(stock["setting"], prov)), "kind")
        tables["by area"] = _wide(stock, "area")
        by_type = _plan_type_table(d)
        if by_type is not None:
            tables["by plan type"] = by_type
        if plans is not None:
            notes.append(f"{plans['pupil_id'].nunique():,} different children in {len(years)} censuses "
                         f"({years[0]}-{years[-1]})")
        else:
            notes.append(f"children counted from the transitions table, censuses {years[0]}-{years[-1]}")
    if prov is not None and len(prov):
        p = prov.copy()
        opens = pd.to_numeric(p["opens"], errors="coerce").astype(float) if "opens" in p else np.nan
        closes = pd.to_numeric(p["closes"], errors="coerce").astype(float) if "closes" in p else np.nan
        ref = last_year if last_year is not None else -np.inf
        p["_active"] = (np.nan_to_num(opens, nan=-np.inf) <= ref) & (ref < np.nan_to_num(closes, nan=np.inf))
        on_roll = (stock[stock["year"] == last_year].groupby(stock["setting"].astype(str))["count"].sum()
                   if last_year is not None else pd.Series(dtype=int))
        show = p[p["capacity"].notna() | p["kind"].isin(["other_la", "independent"])].copy()
        show["setting"] = show["setting"].astype(str)
        show["ncy"] = show["min_ncy"].astype(str) + " to " + show["max_ncy"].astype(str)
        show["on_roll"] = show["setting"].map(on_roll).fillna(0).astype(int)
        show.loc[~show["_active"], "on_roll"] = 0
        show["places"] = show["capacity"].round().astype("Int64")  # NA = no fixed number of places
        show["spare"] = show["places"] - show["on_roll"]
        show["status"] = np.where(show["_active"], "open", "planned/closed")
        cols = ["setting", "name", "kind", "area", "ncy", "designation", "places", "on_roll", "spare", "status"]
        if len(show):
            tables["places and children on roll"] = show.loc[:, [c for c in cols if c in show.columns]].reset_index(drop=True)
        if last_year is not None and len(show):
            notes.append(f"places and on roll at the {last_year} census")
    pop = d.population
    if pop is not None and len(pop):
        last_obs = last_year
        py = pop.groupby("year")["count"].sum()
        hist = [y for y in py.index if last_obs is None or y <= last_obs]
        proj = [y for y in py.index if last_obs is not None and y > last_obs]
        rows = []
        if hist:
            rows.append({"part": "history", "from": min(hist), "to": max(hist), "children (last year)": int(round(py[max(hist)]))})
        if proj:
            rows.append({"part": "projection", "from": min(proj), "to": max(proj), "children (last year)": int(round(py[max(proj)]))})
        tables["population"] = pd.DataFrame(rows)
        notes.append(f"population NCY {int(pop['ncy'].min())} to {int(pop['ncy'].max())}, "
                     f"{pop['area'].nunique()} area(s)")
    checks = [{"check": "input warnings", "count": len(d.report.warnings)},
              {"check": "input errors", "count": len(d.report.errors)}]
    if d.series is not None:
        notes.append("series forecast: " + d.series.sentence())
        if d.series.series != "plans":
            checks.append({"check": "children left out of the series by plan type",
                           "count": d.series.children_left_out})
    if plans is not None and len(plans):
        an = d.get_transition_anomalies()
        for name, n in an.groupby("anomaly").size().items():
            checks.append({"check": f"anomaly: {name}", "count": int(n)})
    if plans is None and d.transitions is not None and len(d.transitions):
        st = stocks_from_transitions(d.transitions, by=()).set_index("year")
        gaps = [y for y in st.index[:-1] if y + 1 in st.index and st.loc[y, "stock_to"] != st.loc[y + 1, "stock_from"]]
        checks.append({"check": "years whose end stock differs from the next year's start", "count": len(gaps)})
    tables["checks"] = pd.DataFrame(checks)
    missing = [t for t in ("plans", "population", "provision", "census", "placements", "costs")
               if getattr(d, t) is None]
    if missing:
        notes.append("tables not loaded: " + ", ".join(missing))
    return AuthoritySummary(d.name, d.need_scheme, tables, notes)


@dataclass
class AuthoritySummary:
    """Overview tables of a :class:`LocalAreaData` (from ``LocalAreaData.summary()``).

    ``str()`` gives a plain-text report, Jupyter shows HTML, and ``summary[name]`` returns one
    table (names in ``.tables``).

    Attributes
    ----------
    name : str
        Authority name.
    need_scheme : str or None
        Need-code scheme of the data.
    tables : dict of str to DataFrame
        Overview tables by title (children per year, by need, by setting kind, ...).
    notes : list of str
        One-line notes: where counts come from, tables not loaded, warnings.

    Examples
    --------
    >>> from senforecast.io.witan import load_witan_demo
    >>> summary = load_witan_demo().summary()
    >>> list(summary.tables)[:3]
    ['children per year', 'by need', 'by setting kind']
    >>> summary["children per year"].columns.tolist()
    ['year', 'children', 'joiners', 'leavers', 'movers', 'need_changes']
    >>> summary["checks"].columns.tolist()
    ['check', 'count']
    >>> print(str(summary).splitlines()[0])
    witan.send demo
    """

    name: str
    need_scheme: str | None
    tables: dict[str, pd.DataFrame]
    notes: list[str]

    def __getitem__(self, key: str) -> pd.DataFrame:
        return self.tables[key]

    def __str__(self) -> str:
        head = f"{self.name}" + (f" (need codes: {self.need_scheme})" if self.need_scheme else "")
        out = [head, "=" * len(head)]
        out += [f"* {n}" for n in self.notes]
        with pd.option_context("display.width", 120, "display.max_columns", 20, "display.max_colwidth", 40):
            for title, t in self.tables.items():
                out += ["", title.capitalize(), "-" * len(title), t.to_string(index=False)]
        return "\n".join(out)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        parts = [f"<h3>{html.escape(self.name)}</h3>"]
        if self.notes:
            parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in self.notes) + "</ul>")
        for title, t in self.tables.items():
            parts.append(f"<h4>{html.escape(title.capitalize())}</h4>" + t.to_html(index=False, na_rep=""))
        return "\n".join(parts)


def check_population_counts(population: pd.DataFrame, source: str = "population") -> None:
    """Raise a clear error when a population table's counts are not numbers or are missing.

    Readers check files; this catches a table built or edited in Python before a model uses it
    (a missing projected population would otherwise give joiner counts of 0, silently).

    Examples
    --------
    >>> check_population_counts(pd.DataFrame({"year": [2026], "ncy": [3], "count": [None]}))
    Traceback (most recent call last):
    ...
    senforecast.core.errors.SenForecastError: population: 1 count(s) are missing (years 2026); fill them or drop the rows (a missing population is not 0)
    """
    if "count" not in population.columns:
        raise SenForecastError(f"{source}: the population table needs a 'count' column")
    counts = population["count"]
    text = counts.notna().to_numpy() & (not pd.api.types.is_numeric_dtype(counts))
    if text.any():
        raise SenForecastError(f"{source}: column 'count' must hold numbers, not text (found e.g. "
                               f"{counts[text].iloc[0]!r}); convert it with pd.to_numeric or read the file "
                               "with senforecast.io.read_population")
    missing = counts.isna().to_numpy()
    if missing.any():
        years = sorted(population.loc[missing, "year"].unique().tolist()) if "year" in population else []
        raise SenForecastError(f"{source}: {int(missing.sum())} count(s) are missing (years "
                               f"{', '.join(map(str, years))}); fill them or drop the rows (a missing "
                               "population is not 0)")

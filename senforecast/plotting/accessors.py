"""The ``projection.plot`` and ``gap.plot`` accessors: each calls the charts with the right tables."""
from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd
from matplotlib.figure import Figure

from ..core.errors import SenForecastError
from .gap import capacity_chart, out_of_county_chart, shortfall_heatmap, shortfall_probability_chart
from .projection import fan_chart, share_bars
from .style import _BAND_COLS, _source_from_meta, _unit_label


class ProjectionPlots:
    """Charts of a :class:`~senforecast.projection.Projection`, reached as ``projection.plot``.

    Parameters
    ----------
    projection : Projection

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from senforecast import Projection
    >>> cells = pd.DataFrame({"need": ["ASD", "SLD"]})
    >>> p = Projection(np.random.default_rng(0).poisson(20, (50, 3, 2)), [2026, 2027, 2028], cells)
    >>> fig = p.plot.fan(by="need")
    >>> from senforecast.plotting import chart_axes
    >>> [ax.get_title(loc="left") for ax in chart_axes(fig)]
    ['ASD', 'SLD']
    """

    def __init__(self, projection) -> None:
        self.projection = projection

    def __call__(self, **kwargs) -> Figure:
        """Same as :meth:`fan`."""
        return self.fan(**kwargs)

    def _source(self) -> str:
        p = self.projection
        meta = {**p.meta, "n_draws": p.meta.get("n_draws", p.n_draws)}
        return _source_from_meta(meta)

    def _history(self, by: list[str]) -> pd.DataFrame | None:
        h = self.projection.history
        if h is None or not all(b in h.columns for b in by):
            return None
        return h.groupby(["year", *by], as_index=False)["count"].sum()

    def fan(self, by: str | Sequence[str] | None = None, *, title: str | None = None,
            history: pd.DataFrame | None = None, include_history: bool = True, source_note: str = "",
            **kwargs) -> Figure:
        """History and projection fan chart, total or one panel per ``by`` group (see :func:`fan_chart`).

        ``history`` (``year``, ``count`` and the ``by`` columns) replaces the projection's own
        history, e.g. the counts as published, where a hidden count is NaN and not drawn;
        ``include_history=False`` draws the projection alone; ``source_note`` is added to the
        source line."""
        p = self.projection
        by_l = [by] if isinstance(by, str) else list(by or [])
        label, money = _unit_label(p.unit)
        if title is None:
            what = "Cost" if money else "Children with a plan"
            title = f"{what}: actual and projected" + (f", by {' and '.join(by_l)}" if by_l else "")
        kwargs.setdefault("source", self._source() + source_note)
        hist = (self._history(by_l) if history is None else history) if include_history else None
        return fan_chart(p.summary(by_l), hist, by=by_l or None, title=title,
                         ylabel=label, money=money, **kwargs)

    def shares(self, by: str = "need", *, include_history: bool = True, as_share: bool = True,
               history: pd.DataFrame | None = None, **kwargs) -> Figure:
        """Stacked bars of plans by ``by`` per year, history then projection mean (see :func:`share_bars`).

        ``history`` (``year``, ``by``, ``count``) replaces the projection's own history."""
        p = self.projection
        proj = p.summary(by)[[by, "year", "mean"]].rename(columns={"mean": "count"})
        frames = [proj]
        hist = (self._history([by]) if history is None else history) if include_history else None
        if hist is not None:
            frames.insert(0, hist[hist["year"] < p.years.min()])
        table = pd.concat(frames, ignore_index=True)
        return share_bars(table, category=by, as_share=as_share,
                          projected_from=int(p.years.min()) if hist is not None else None, **kwargs)

    def out_of_county(self, settings: Sequence[str], costs: pd.DataFrame | None = None, **kwargs) -> Figure:
        """Projected children in the given out-of-county settings and, with ``costs``, their cost.

        Parameters
        ----------
        settings : sequence of str
            Setting codes that are out of county (provision ``kind`` independent / other_la).
        costs : DataFrame, optional
            Cost table for :meth:`Projection.weighted` (e.g. ``setting, cost_per_place``).
        """
        sub = self.projection.sel(setting=list(settings))
        if len(sub.cells) == 0:
            raise SenForecastError(f"no projected children in settings {list(settings)}")
        cost = sub.weighted(costs).summary() if costs is not None else None
        kwargs.setdefault("source", self._source())
        hist = None
        if sub.history is not None and "setting" in sub.history.columns:
            hist = sub.history.groupby("year", as_index=False)["count"].sum()
        return out_of_county_chart(sub.summary(), cost, history=hist, **kwargs)


class GapPlots:
    """Charts of a gap analysis, reached as ``gap.plot``.

    Works with any object holding the gap tables as attributes (a ``GapAnalysis``), or with
    the tables passed directly. Each method's ``table`` argument overrides the attribute.

    Parameters
    ----------
    gap : object
        Has tidy tables as attributes, looked up by these names (first found is used):
        by group: ``by_group``, ``by_designation``, ``groups``; per base: ``by_base``,
        ``per_base``, ``bases``; totals by year: ``by_year``, ``totals``; out of county:
        ``out_of_county``, ``ooc``.

    Examples
    --------
    >>> import pandas as pd
    >>> class Gap:
    ...     by_year = pd.DataFrame({"year": [2026, 2027], "demand_median": [40, 55],
    ...                             "capacity": [50, 50], "prob_shortfall": [0.1, 0.8]})
    >>> fig = GapPlots(Gap()).capacity(level="year")
    >>> fig.axes[0].get_ylabel()
    'Number of places'
    """

    _NAMES = {
        "group": ("by_group", "by_designation", "groups", "by_designation_phase_area"),
        "base": ("by_base", "per_base", "bases"),
        "year": ("by_year", "totals", "total"),
        "ooc": ("out_of_county", "ooc", "by_year"),
    }

    def __init__(self, gap) -> None:
        self.gap = gap

    def table(self, level: str) -> pd.DataFrame:
        """The gap table at ``level`` ("group", "base", "year" or "ooc")."""
        if level not in self._NAMES:
            raise SenForecastError(f"level must be one of {list(self._NAMES)}; got {level!r}")
        for name in self._NAMES[level]:
            t = getattr(self.gap, name, None)
            if callable(t) and not isinstance(t, pd.DataFrame):
                try:
                    t = t()
                except TypeError:
                    continue
            if isinstance(t, pd.DataFrame):
                return t
        raise SenForecastError(
            f"this gap object has no {level} table (looked for attributes {self._NAMES[level]}); "
            "pass the table directly with table=..."
        )

    def _source(self, bands: bool = True) -> str:
        meta = getattr(self.gap, "meta", None)
        return _source_from_meta(meta, " Capacity from the provision register.", bands=bands)

    def _by(self, t: pd.DataFrame, by) -> list[str]:
        if by is not None:
            return [by] if isinstance(by, str) else list(by)
        cols = [c for c in ("designation", "phase", "area", "name") if c in t.columns]
        if "name" in cols:  # a base is named; its setting code and area are detail
            return ["name"]
        # a column with one value (e.g. area "ALL") adds nothing to a panel title
        return [c for c in cols if t[c].nunique() > 1] or cols[:1]

    def _confidence_note(self) -> str:
        conf = getattr(self.gap, "confidence", None)
        return f"(in {conf:.0%} of simulations)" if isinstance(conf, float) else ""

    @staticmethod
    def _select(t: pd.DataFrame, select: Mapping[str, object] | None, by: list[str],
                max_panels: int, kwargs: dict) -> pd.DataFrame:
        """Filter rows (``select={"phase": "primary"}``) and keep at most ``max_panels`` groups,
        those with the largest median shortfall, saying so in the title."""
        for col, val in (select or {}).items():
            if col not in t.columns:
                raise SenForecastError(f"cannot select on {col!r}: the table has {list(t.columns)}")
            vals = list(val) if isinstance(val, (list, tuple, set)) else [val]
            t = t[t[col].isin(vals)]
        if t.empty:
            raise SenForecastError(f"no rows match {dict(select or {})}")
        if not by:
            return t
        n = t[by].drop_duplicates().shape[0]
        if n > max_panels:
            short = (-t["spare_median"]).clip(lower=0) if "spare_median" in t.columns else t.get("prob_shortfall")
            if short is None:
                short = t[kwargs.get("demand", "demand_median")] - t[kwargs.get("capacity", "capacity")]
            worst = t.assign(_s=short).groupby(by, sort=False)["_s"].max().nlargest(max_panels).index
            keep = pd.MultiIndex.from_frame(t[by]).isin(worst if isinstance(worst, pd.MultiIndex)
                                                         else pd.MultiIndex.from_arrays([worst]))
            t = t[keep]
            note = f" ({max_panels} of {n} groups with the largest shortfalls)"
            kwargs["title"] = kwargs.get("title", "Projected demand for specialist places against capacity") + note
        return t

    def capacity(self, level: str = "group", by=None, table: pd.DataFrame | None = None, *,
                 select: Mapping[str, object] | None = None, max_panels: int = 12, **kwargs) -> Figure:
        """Demand vs capacity (see :func:`capacity_chart`), one panel per group (or base).

        ``select`` keeps rows matching column values (e.g. ``{"area": "North"}``); beyond
        ``max_panels`` groups, those with the largest median shortfall are drawn.
        ``level="base"`` draws each base's projected roll (``roll_median``) or, without one,
        the children the allocation places there (``allocated_median``).
        """
        t = self.table(level) if table is None else table
        kwargs.setdefault("source", self._source())
        if level == "base" and "demand" not in kwargs:
            kwargs["demand"] = "roll_median" if "roll_median" in t.columns else "allocated_median"
        if "first_year_exceeded" in t.columns and "exceeded_year" not in kwargs:
            kwargs["exceeded_year"] = "first_year_exceeded"
            kwargs.setdefault("exceeded_note", self._confidence_note())
        by = self._by(t, by) if level != "year" or by is not None else []
        t = self._select(t, select, by, max_panels, kwargs)
        return capacity_chart(t, by=by or None, **kwargs)

    def heatmap(self, row=None, value: str = "places_short", level: str = "group",
                table: pd.DataFrame | None = None, **kwargs) -> Figure:
        """Places short by ``row`` x year (see :func:`shortfall_heatmap`).

        ``places_short`` is the median shortfall, ``max(0, -spare_median)``, of each group,
        summed over the groups in a row (a place of one designation cannot take a child of
        another, so spare places in one group do not offset a shortfall in another).
        """
        t = self.table(level) if table is None else table
        if value == "places_short" and value not in t.columns and "spare_median" in t.columns:
            t = t.assign(places_short=(-t["spare_median"]).clip(lower=0))
        if row is None:
            row = self._by(t, None) if level != "group" or t.get("area", pd.Series(["ALL"])).nunique() <= 1 else "area"
        rows = [row] if isinstance(row, str) else list(row)
        if value == "places_short" and level == "group" and set(rows) != {"designation", "phase", "area"}:
            kwargs.setdefault("title", f"Places short by {' and '.join(rows)} and year\n"
                                       "(each designation and phase group's median shortfall, added up)")
        kwargs.setdefault("source", self._source(bands=False))
        return shortfall_heatmap(t, row=row, value=value, **kwargs)

    def unplaced_heatmap(self, **kwargs) -> Figure:
        """Children from each area who get no local specialist place, by year (mean over
        simulations, all reasons), from the allocation: a child placed in a base in another
        area is placed, so this does not overstate an area without a base of its own.

        Examples
        --------
        >>> # gap = gap_analysis(projection, provision); gap.plot.unplaced_heatmap()
        """
        u = self.gap.unplaced(by=("area",))
        t = u.groupby(["year", "area"], as_index=False)["mean"].sum()
        areas = pd.Index(sorted(set(self.gap.projection.cells["area"].astype(str)) if
                                "area" in self.gap.projection.cells else set(t["area"])), name="area")
        grid = pd.MultiIndex.from_product([sorted(set(self.gap.years)), areas], names=["year", "area"])
        t = t.set_index(["year", "area"]).reindex(grid, fill_value=0.0).reset_index()
        kwargs.setdefault("title", "Children without a local specialist place, by home area (mean)")
        kwargs.setdefault("colorbar_label", "Children placed out of county")
        kwargs.setdefault("source", self._source(bands=False))
        return shortfall_heatmap(t, row="area", value="mean", **kwargs)

    def probability(self, level: str = "group", by=None, value: str = "prob_shortfall",
                    table: pd.DataFrame | None = None, *, select: Mapping[str, object] | None = None,
                    max_panels: int = 15, **kwargs) -> Figure:
        """Probability of shortfall by year (see :func:`shortfall_probability_chart`);
        ``select`` and ``max_panels`` as in :meth:`capacity`."""
        t = self.table(level) if table is None else table
        kwargs.setdefault("source", self._source(bands=False))
        by = self._by(t, by) if level != "year" or by is not None else []
        kwargs.setdefault("title", "Probability that demand exceeds capacity")
        t = self._select(t, select, by, max_panels, kwargs)
        return shortfall_probability_chart(t, by=by or None, value=value, **kwargs)

    def out_of_county(self, table: pd.DataFrame | None = None, *, count_prefix: str = "ooc_",
                      cost_prefix: str = "ooc_cost_", **kwargs) -> Figure:
        """Out-of-county placements and cost (see :func:`out_of_county_chart`).

        The table has, per year, ``{count_prefix}median``, ``{count_prefix}p05`` ... and
        ``{cost_prefix}median``, ``{cost_prefix}p05`` ... columns.
        """
        t = self.table("ooc") if table is None else table
        stats = ["median", *_BAND_COLS]

        def pick(prefix: str) -> pd.DataFrame | None:
            cols = {f"{prefix}{s}": s for s in stats if f"{prefix}{s}" in t.columns}
            if f"{prefix}median" not in cols:
                return None
            if t["year"].duplicated().any():
                # quantiles of parts do not add up to quantiles of the total
                raise SenForecastError(
                    "the out-of-county table has several rows per year; pass the all-areas total "
                    "(one row per year) with table=..."
                )
            return t[["year", *cols]].rename(columns=cols)

        counts = pick(count_prefix)
        if counts is None:
            raise SenForecastError(
                f"the out-of-county table needs a '{count_prefix}median' column; it has {list(t.columns)}"
            )
        kwargs.setdefault("source", self._source())
        return out_of_county_chart(counts, pick(cost_prefix), **kwargs)

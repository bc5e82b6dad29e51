"""The Markov cohort model: joiners, leavers and movers by need, setting and NCY.

Each child's state is (need, setting) at a national curriculum year (NCY). Every year
everyone ages one NCY; some leave (Beta-binomial leaver rate of their state), some of the
rest move setting (Beta-binomial mover rate, Dirichlet-multinomial destination), and new
children join from the population (Beta-binomial joiner rate per NCY, Dirichlet over the
joiner states). Rates are estimated by :mod:`senforecast.models.cohort.fit` (a Bayesian mode
with priors pooled across states at the same NCY, and a witan.send-compatible mode) and
projected by the Monte Carlo of :mod:`senforecast.models.cohort.sim` (a compiled loop over
draws, years and occupied cells).
"""
from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
import pandas as pd

from ...core.data import NO_PLAN, LocalAreaData, check_population_counts
from ...core.costs import CostModel
from ...core.errors import ModelError, SenForecastError
from ...core.provision import ProvisionRegister
from ...core.scenarios import Scenario
from ...projection import Projection
from ..base import DEMAND_PARTS, BaseModel
from ..registry import register, small_authority
from .fit import (
    CohortIndex,
    CohortParameters,
    count_transitions,
    fit_bayes,
    fit_witan,
)
from .scenario import add_new_settings, check_scenario, scenario_arrays
from .sim import FLOWS, SimPlan, simulate
from .states import ValidStates

TRANSITION_COLUMNS = ("year", "area", "ncy_from", "need_from", "setting_from",
                      "ncy_to", "need_to", "setting_to", "count")


def _pad(lists: list[np.ndarray], fill, dtype) -> np.ndarray:
    width = max(1, max((len(x) for x in lists), default=1))
    out = np.full((len(lists), width), fill, dtype=dtype)
    for i, x in enumerate(lists):
        out[i, : len(x)] = x
    return out


@register("cohort", data="local_area", example=small_authority)
class CohortModel(BaseModel):
    """Markov cohort model of children with plans by area, NCY, need and setting.

    Parameters
    ----------
    mode : {"bayes", "witan"}
        ``"bayes"``: rates with priors pooled across states at each NCY (prior strengths by
        empirical Bayes), rates drawn once per simulation draw (parameter uncertainty) and
        joiner rates varying between years as they did historically. ``"witan"``:
        witan.send's estimation rules exactly, rates redrawn every year as witan.send's
        beta-binomial sampling does.
    valid_states : ValidStates or DataFrame, optional
        Which settings take which needs and NCYs, and allowed moves. A DataFrame is read as a
        provision register (``setting, min_ncy, max_ncy, designation`` and optional
        ``moves_to``). Default: ``data.provision`` when it has NCY ranges, and for settings
        it does not list, the NCY range seen in the transitions.
    need_changes : bool
        Bayes mode only: model changes of need (a "move" is then any change of state and
        destinations are (need, setting) pairs). Otherwise a child keeps their need.
    joiner_trend : {True, "total", "need", False}
        Bayes mode only: fit a yearly growth of joiner rates (Poisson GLM over the history,
        with at least three transition years) and project it with its uncertainty. True
        and ``"total"``: one trend for all needs. ``"need"``: each need's joiners get their
        own trend, shrunk towards the overall one by empirical Bayes (needs whose trends
        differ no more than noise allows keep the overall trend; see
        :func:`~senforecast.models.cohort.fit.need_trends`). False: no trend.
    year_variation : bool
        Bayes mode only: leaver, mover and joiner rates vary from year to year as they did
        historically (a random year effect per NCY on their odds, its variance estimated
        from the history by :func:`~senforecast.models.cohort.fit.year_effect_variance`).
        False keeps them fixed within a draw (parameter uncertainty only).

    Notes
    -----
    Joiner rates are per head of the population of their NCY: in bayes mode in the census
    they join (year + 1), in witan mode in the transition's first year (witan.send's rule).
    Bayes mode gives each area a joiner-rate factor (partially pooled towards 1) when the
    population is by the same areas; witan.send has no areas.

    Attributes
    ----------
    params_ : CohortParameters
        Fitted distribution parameters (arrays over NCY and state).
    index_ : CohortIndex
        Labels of the arrays (needs, settings, NCY range, valid states, moves).
    seed_year_ : int
        Last observed census; projections start the year after.
    seed_stock_ : DataFrame
        Children at the seed census: ``area, ncy, need, setting, count``.
    history_ : DataFrame
        Observed counts by census year: ``year, area, ncy, need, setting, count``.

    Examples
    --------
    >>> from senforecast.io.witan import load_witan_demo
    >>> model = CohortModel(mode="witan").fit(load_witan_demo())
    >>> int(model.seed_stock_["count"].sum()), len(model.seed_stock_)
    (2153, 378)
    >>> proj = model.project(years=2, n_draws=50, seed=1)
    >>> proj.summary()["year"].tolist()
    [2018, 2019]
    """

    def __init__(self, mode: Literal["bayes", "witan"] = "bayes", *,
                 valid_states: ValidStates | pd.DataFrame | None = None, need_changes: bool = False,
                 joiner_trend: bool | Literal["total", "need"] = True, year_variation: bool = True):
        if mode not in ("bayes", "witan"):
            raise ModelError(f"mode must be 'bayes' or 'witan', not {mode!r}")
        if joiner_trend not in (True, False, "total", "need"):
            raise ModelError(f"joiner_trend must be True, False, 'total' or 'need', not {joiner_trend!r}")
        if need_changes and mode == "witan":
            raise ModelError("witan.send cannot model need changes: use mode='bayes' with need_changes=True")
        self.mode = mode
        self.valid_states = valid_states
        self.need_changes = need_changes
        self.joiner_trend = joiner_trend
        self.year_variation = year_variation

    scenario_parts = frozenset(DEMAND_PARTS)

    @property
    def display_name(self) -> str:
        """``CohortModel(mode=...)``, as reports name it."""
        return f"CohortModel(mode={self.mode!r})"

    # ------------------------------------------------------------------ fit
    @staticmethod
    def _transitions(data: LocalAreaData) -> pd.DataFrame:
        t = data.transitions
        if t is None:
            getter = getattr(data, "get_transitions", None)
            if getter is None or data.plans is None:
                raise ModelError(f"{data.name}: the cohort model needs transitions or plans; "
                                 "load plans with senforecast.io or transitions with senforecast.io.witan")
            t = getter()
        missing = [c for c in TRANSITION_COLUMNS if c not in t.columns]
        if missing:
            raise ModelError(f"{data.name}: transitions table lacks columns {missing} (see docs/contracts.md)")
        if len(t) == 0:
            raise ModelError(f"{data.name}: the transitions table is empty; the cohort model needs at "
                             "least two consecutive censuses")
        t = t.copy()
        t["area"] = t["area"].astype(str)
        for c in ("need_from", "setting_from", "need_to", "setting_to"):
            t[c] = t[c].astype(str)
        return t

    def _valid_states(self, data: LocalAreaData, t: pd.DataFrame) -> ValidStates:
        vs = self.valid_states
        if isinstance(vs, pd.DataFrame):
            vs = ValidStates.from_provision(vs, source="valid_states")
        if vs is None:
            prov = data.provision
            if prov is not None and {"setting", "min_ncy", "max_ncy"} <= set(prov.columns):
                vs = ValidStates.from_provision(prov)
            else:
                vs = ValidStates({})
        return vs.with_observed(t)

    def fit(self, data: LocalAreaData) -> "CohortModel":
        """Estimate every rate from the transitions of ``data``.

        Uses ``data.transitions`` when given, else ``data.get_transitions()`` (built from
        plans); ``data.population`` (``year, area, ncy, count``) for joiner rates.

        Returns
        -------
        CohortModel
            ``self``, fitted.

        Examples
        --------
        >>> from senforecast.io.witan import load_witan_demo
        >>> m = CohortModel(mode="bayes").fit(load_witan_demo())
        >>> m.seed_year_, len(m.index_.settings), sorted(m.params_.kappas)
        (2017, 19, ['destination', 'joiner', 'leaver', 'mover'])
        """
        if not isinstance(data, LocalAreaData):
            raise SenForecastError(
                f"CohortModel.fit takes a LocalAreaData (from senforecast.io.read_local_area, "
                f"senforecast.datasets.load_demo, or LocalAreaData(plans=..., population=...)), "
                f"not a {type(data).__name__}")
        if data.population is not None:
            check_population_counts(data.population, f"{data.name} population")
        t = self._transitions(data)
        vs = self._valid_states(data, t)
        index = CohortIndex.build(t, vs)
        pop = data.population
        if pop is None:
            raise ModelError(f"{data.name}: the cohort model needs a population table (year, area, ncy, "
                             "count) to estimate joiner rates")
        areas = set(t["area"].unique())
        pop_areas = set(pop["area"].astype(str)) if "area" in pop.columns else set()
        if areas & pop_areas:  # population by the same areas: areas with no plans yet can get joiners
            areas |= pop_areas
        self.areas_ = sorted(areas)
        offset = 0 if self.mode == "witan" else 1
        if offset and not set((t["year"].unique() + 1).tolist()) <= set(pop["year"].unique().tolist()):
            offset = 0  # no population for the census joiners join: use the transition's first year
        counts = count_transitions(t, index, pop, need_changes=self.need_changes, areas=self.areas_,
                                   pop_offset=offset)
        if self.mode == "witan":
            params = fit_witan(counts, index)
        else:
            params = fit_bayes(counts, index, need_changes=self.need_changes, joiner_trend=self.joiner_trend)
            if not self.year_variation:
                params.leaver_year_var = params.mover_year_var = params.joiner_year_var = 0.0
        self.valid_states_ = vs
        self.index_ = index
        self.counts_ = counts
        self.params_ = params
        self.population_ = pop
        self.seed_year_ = int(t["year"].max()) + 1
        self.last_census_ = self.seed_year_
        last = t[(t["year"] == t["year"].max()) & (t["setting_to"] != NO_PLAN)]
        self.seed_stock_ = (last.groupby(["area", "ncy_to", "need_to", "setting_to"], as_index=False)["count"].sum()
                            .rename(columns={"ncy_to": "ncy", "need_to": "need", "setting_to": "setting"}))
        frm = t[t["setting_from"] != NO_PLAN].groupby(["year", "area", "ncy_from", "need_from", "setting_from"],
                                                      as_index=False)["count"].sum()
        frm.columns = ["year", "area", "ncy", "need", "setting", "count"]
        self.history_ = pd.concat([frm, self.seed_stock_.assign(year=self.seed_year_)[frm.columns]],
                                  ignore_index=True)
        return self

    # ------------------------------------------------------------- parameters
    def rates(self, kind: Literal["leaver", "mover", "joiner"] = "leaver") -> pd.DataFrame:
        """Tidy table of fitted rate distributions: ``ncy, [need, setting], alpha, beta, mean``.

        Leaver and mover rows are by NCY before the transition, for valid states and states
        seen in the data; joiner rows are by NCY after the transition, per head of
        population (bayes mode: at the middle year of the history, before the trend and
        area factors in ``params_``).

        Examples
        --------
        >>> from senforecast.io.witan import load_witan_demo
        >>> m = CohortModel(mode="witan").fit(load_witan_demo())
        >>> r = m.rates("joiner").set_index("ncy")
        >>> float(r.loc[5, "alpha"]), float(r.loc[5, "beta"]) * 4
        (12.0, 26189.0)
        """
        self._check_fitted()
        ix, p = self.index_, self.params_
        if kind == "joiner":
            a, b = p.joiner_alpha, p.joiner_beta
            frame = pd.DataFrame({"ncy": ix.ncys, "alpha": a, "beta": b})
            return frame[a > 0].assign(mean=lambda f: f["alpha"] / (f["alpha"] + f["beta"])).reset_index(drop=True)
        if kind not in ("leaver", "mover"):
            raise ModelError(f"kind must be 'leaver', 'mover' or 'joiner', not {kind!r}")
        a, b = (p.leaver_alpha, p.leaver_beta) if kind == "leaver" else (p.mover_alpha, p.mover_beta)
        need, setting = ix.state_labels()
        keep = ix.valid | (self.counts_.n > 0)
        ai, si = np.nonzero(keep)
        frame = pd.DataFrame({"ncy": ix.ncys[ai], "need": need[si], "setting": setting[si],
                              "alpha": a[ai, si], "beta": b[ai, si]})
        frame["mean"] = frame["alpha"] / (frame["alpha"] + frame["beta"])
        return frame

    def destinations(self, ncy: int, need: str, setting: str) -> pd.Series:
        """Dirichlet alphas of the destinations of movers from a state (by "need-setting").

        Examples
        --------
        >>> from senforecast.io.witan import load_witan_demo
        >>> m = CohortModel(mode="witan").fit(load_witan_demo())
        >>> round(float(m.destinations(15, "U", "E")["U-S"]), 4)
        0.5921
        """
        self._check_fitted()
        ix = self.index_
        s = ix.needs.index(need) * len(ix.settings) + ix.settings.index(setting)
        row = self.params_.destination_alpha[ncy - ix.ncy_min, s]
        need_l, set_l = ix.state_labels()
        nz = row > 0
        return pd.Series(row[nz], index=[f"{n}-{st}" for n, st in zip(need_l[nz], set_l[nz])], name="alpha")

    def joiner_states(self, ncy: int) -> pd.Series:
        """Dirichlet alphas over the states joiners at ``ncy`` (after the transition) join.

        Examples
        --------
        >>> from senforecast.io.witan import load_witan_demo
        >>> m = CohortModel(mode="witan").fit(load_witan_demo())
        >>> round(float(m.joiner_states(-1)["Y-B"]), 4)
        12.0208
        """
        self._check_fitted()
        ix = self.index_
        row = self.params_.joiner_state_alpha[ncy - ix.ncy_min]
        need_l, set_l = ix.state_labels()
        nz = row > 0
        return pd.Series(row[nz], index=[f"{n}-{st}" for n, st in zip(need_l[nz], set_l[nz])], name="alpha")

    # --------------------------------------------------------------- project
    def _population_array(self, population: pd.DataFrame, first_years: np.ndarray, areas: list[str],
                          index: CohortIndex, stock0: np.ndarray, cell_ncy: np.ndarray) -> np.ndarray:
        need_cols = {"year", "ncy", "count"}
        if not need_cols <= set(population.columns):
            raise ModelError(f"population needs columns year, area, ncy, count; got {list(population.columns)}")
        pop = population[population["ncy"].between(index.ncy_min, index.ncy_max)]
        missing = sorted(set(first_years.tolist()) - set(pop["year"].unique().tolist()))
        if missing:
            raise ModelError(f"population has no rows for year(s) {missing}: the projection needs the "
                             "population of every year it projects (add a population projection)")
        Y, A = len(first_years), index.n_ncy
        out = np.zeros((Y, len(areas), A))
        pop_areas = set(pop["area"].astype(str)) if "area" in pop.columns else {"ALL"}
        if set(areas) <= pop_areas:
            p = pop[pop["area"].astype(str).isin(areas) & pop["year"].isin(first_years)]
            np.add.at(out, (np.searchsorted(first_years, p["year"].to_numpy()),
                            np.searchsorted(np.asarray(areas), p["area"].astype(str).to_numpy()),
                            p["ncy"].to_numpy() - index.ncy_min), p["count"].to_numpy(dtype=float))
        else:
            # population has no matching areas: split the total by each area's share of the
            # seed-year children at that NCY (overall share where an NCY has none)
            tot = pop[pop["year"].isin(first_years)].groupby(["year", "ncy"])["count"].sum()
            yi = np.searchsorted(first_years, tot.index.get_level_values(0).to_numpy())
            ai = tot.index.get_level_values(1).to_numpy() - index.ncy_min
            total = np.zeros((Y, A))
            np.add.at(total, (yi, ai), tot.to_numpy(dtype=float))
            by_area = np.zeros((len(areas), A))
            np.add.at(by_area, (slice(None), cell_ncy), stock0)
            share = by_area / np.where(by_area.sum(0) > 0, by_area.sum(0), 1)
            overall = stock0.sum(1) / max(stock0.sum(), 1)
            share = np.where(by_area.sum(0)[None] > 0, share, overall[:, None])
            out = total[:, None, :] * share[None]
        return np.rint(out)

    def project(self, years: int | Sequence[int] = 5, population: pd.DataFrame | None = None,
                scenario: Scenario | None = None, n_draws: int = 1000, seed: int | None = None,
                flows: bool | Sequence[str] = True) -> Projection:
        """Simulate future counts by area, NCY, need and setting.

        Parameters
        ----------
        years : int or sequence of int
            Horizon after the seed census (int) or the census years wanted.
        population : DataFrame, optional
            ``year, area, ncy, count``; default the fitted data's population. Census year y
            needs the population of year y - 1 (the transition's first year).
        scenario : Scenario, optional
            Demand-side changes (joiner growth, rate changes, redirects, closures).
        n_draws : int
            Number of simulation draws.
        seed : int, optional
            Seed of the random generator; the same seed gives identical numbers. Runs with
            the same seed share their random numbers cell by cell (common random numbers):
            project the baseline and a scenario with one seed and their per-draw difference
            is the scenario's effect, with little simulation noise.
        flows : bool or sequence of str
            Flows to record: True for all (``joiners, leavers, movers, routed`` and
            ``redirected`` under a redirect), False for none (faster, less memory: each flow
            is as big as the draws), or a list of names.

        Returns
        -------
        Projection
            Draws over (draw, year, cell) with cells (area, ncy, need, setting) that are
            occupied in some draw or year; flows ``joiners`` (in the cell joined),
            ``leavers``, ``movers``, ``routed`` (in the cell left), ``redirected`` (in the
            cell redirected to); ``history`` the observed counts. Draws are int32; flows
            are int16 when no draw-year total reaches 32,768 (cast before integer arithmetic).

        Examples
        --------
        >>> from senforecast.io.witan import load_witan_demo
        >>> m = CohortModel(mode="witan").fit(load_witan_demo())
        >>> p = m.project(years=[2019], n_draws=100, seed=3)
        >>> p.years.tolist(), sorted(p.flows)
        ([2019], ['joiners', 'leavers', 'movers', 'routed'])
        >>> bool((p.summary()["p05"] < p.summary()["p95"]).all())
        True
        """
        wanted = self._years(years)
        scenario = self._scenario(scenario)
        n_draws = self._check_draws(n_draws)
        self._check_seed(seed)
        if population is not None:
            check_population_counts(population)
        sim_years = np.arange(self.seed_year_ + 1, wanted.max() + 1)

        check_scenario(scenario, self.index_)
        index, params, vs = add_new_settings(scenario, self.index_, self.params_, self.valid_states_)
        plan, cells = self._plan(index, params, sim_years, population if population is not None else self.population_,
                                 scenario, vs)
        rng = np.random.default_rng(seed)
        wanted_flows = FLOWS if flows is True else (() if flows is False else tuple(flows))
        unknown = set(wanted_flows) - set(FLOWS)
        if unknown:
            raise ModelError(f"unknown flow(s) {sorted(unknown)}; choose from {list(FLOWS)}")
        used, out = simulate(plan, n_draws, rng, flows=wanted_flows)
        C = len(cells["ncy"])
        area_i, cell_i = used // C, used % C
        cell_frame = pd.DataFrame({
            "area": np.asarray(self.areas_, dtype=object)[area_i], "ncy": cells["ncy"][cell_i].astype(int),
            "need": cells["need"][cell_i], "setting": cells["setting"][cell_i],
        })
        keep_y = np.isin(sim_years, wanted)
        if not keep_y.all():
            out = {k: v[:, keep_y] for k, v in out.items()}
        draws = out.pop("stock")
        flows = out
        meta = self._meta(
            seed=seed, n_draws=n_draws, scenario=scenario, seed_year=self.seed_year_,
            parameters={"mode": self.mode, "need_changes": self.need_changes,
                        "joiner_kappa": params.joiner_kappa, "prior_strengths": dict(params.kappas),
                        "rates_redrawn_each_year": params.resample_each_year,
                        "joiner_trend_per_year": params.joiner_trend[0],
                        "joiner_trend_se": params.joiner_trend[1],
                        **({} if params.joiner_need_trend is None else {"joiner_trend_by_need": dict(zip(
                            index.needs, (params.joiner_need_trend[2] * params.joiner_trend[0]
                                          + (1 - params.joiner_need_trend[2]) * params.joiner_need_trend[0])
                            .round(5).tolist()))}),
                        "population_year_offset": params.pop_offset,
                        "leaver_year_var": params.leaver_year_var,
                        "mover_year_var": params.mover_year_var,
                        "joiner_year_var": params.joiner_year_var})
        return Projection(draws, wanted, cell_frame, history=self.history_, flows=flows, meta=meta)

    def _plan(self, index: CohortIndex, params: CohortParameters, years: np.ndarray,
              population: pd.DataFrame, scenario: Scenario, valid_states: ValidStates) -> tuple[SimPlan, dict]:
        A, S = index.n_ncy, index.n_states
        need_pos = {k: i for i, k in enumerate(index.needs)}
        set_pos = {k: i for i, k in enumerate(index.settings)}
        area_pos = {k: i for i, k in enumerate(self.areas_)}
        st = self.seed_stock_
        s0_state = (st["need"].map(need_pos).to_numpy(dtype=np.int64) * len(index.settings)
                    + st["setting"].map(set_pos).to_numpy(dtype=np.int64))
        s0_ncy = st["ncy"].to_numpy(dtype=np.int64) - index.ncy_min
        dense0 = np.zeros((len(self.areas_), A, S))
        np.add.at(dense0, (st["area"].map(area_pos).to_numpy(dtype=np.int64), s0_ncy, s0_state),
                  st["count"].to_numpy(dtype=float))

        # cells: valid (ncy, state) pairs plus any occupied at the seed census
        possible = index.valid | (dense0.sum(0) > 0)
        cell_ncy, cell_state = np.nonzero(possible)
        C = len(cell_ncy)
        lut = np.full((A, S), -1, dtype=np.int64)
        lut[cell_ncy, cell_state] = np.arange(C)
        next_cell = np.where(cell_ncy + 1 < A, lut[np.minimum(cell_ncy + 1, A - 1), cell_state], -1)

        # destinations: states with positive alpha that have a cell one NCY on
        dest_rows = params.destination_alpha[cell_ncy, cell_state]  # (C, S)
        nxt_ncy = np.minimum(cell_ncy + 1, A - 1)
        dest_cells_all = np.where((cell_ncy + 1 < A)[:, None], lut[nxt_ncy], -1)  # (C, S)
        ok = (dest_rows > 0) & (dest_cells_all >= 0)
        dlists = [np.flatnonzero(r) for r in ok]  # per-cell lists of destination states
        dest_state = _pad(dlists, -1, np.int64)
        rows = np.arange(C)[:, None]
        has = dest_state >= 0
        dest_cell = np.where(has, dest_cells_all[rows, np.where(has, dest_state, 0)], -1)
        dest_alpha = np.where(has, dest_rows[rows, np.where(has, dest_state, 0)], 0.0)

        jl = [np.flatnonzero((params.joiner_state_alpha[a] > 0) & (lut[a] >= 0)) for a in range(A)]
        join_state = _pad(jl, -1, np.int64)
        jhas = join_state >= 0
        join_cell = np.where(jhas, lut[np.arange(A)[:, None], np.where(jhas, join_state, 0)], -1)
        join_alpha = np.where(jhas, params.joiner_state_alpha[np.arange(A)[:, None], np.where(jhas, join_state, 0)], 0.0)

        sc = scenario_arrays(scenario, index, years, cell_ncy, cell_state, join_state, lut)
        # settings of the register open and close on its timeline (a planned base takes nobody before it opens)
        open_by_setting = np.ones((len(years), len(index.settings)), dtype=bool)
        for i, code in enumerate(index.settings):
            rule = valid_states.rules.get(code)
            if rule is not None:
                open_by_setting[:, i] = rule.is_open(years)
        cell_open = open_by_setting[:, cell_state % len(index.settings)]
        cell_valid = index.valid[cell_ncy, cell_state][None, :] & ~sc["closed"] & cell_open
        stock0 = dense0[:, cell_ncy, cell_state].astype(np.int64)
        pop = self._population_array(population, years - 1 + params.pop_offset, self.areas_, index, stock0,
                                     cell_ncy)

        plan = SimPlan(
            cell_ncy=cell_ncy, next_cell=next_cell,
            leaver_ab=(params.leaver_alpha[cell_ncy, cell_state], params.leaver_beta[cell_ncy, cell_state]),
            mover_ab=(params.mover_alpha[cell_ncy, cell_state], params.mover_beta[cell_ncy, cell_state]),
            dest_cell=dest_cell, dest_alpha=dest_alpha,
            joiner_ab=(params.joiner_alpha, params.joiner_beta), joiner_kappa=params.joiner_kappa,
            join_cell=join_cell, join_alpha=join_alpha, cell_valid=cell_valid, population=pop,
            stock0=stock0, leaver_mult=sc["leaver_mult"], mover_mult=sc["mover_mult"],
            joiner_mult=sc["joiner_mult"], joiner_weight=sc["joiner_weight"], redirects=sc["redirects"],
            resample_each_year=params.resample_each_year,
            joiner_trend=params.joiner_trend, trend_offset=(years - 1 - params.trend_ref_year).astype(float),
            area_factor=params.area_factor,
            leaver_year_var=params.leaver_year_var, mover_year_var=params.mover_year_var,
            year_effect_years=params.year_effect_years, joiner_year_var=params.joiner_year_var,
            joiner_need_trend=params.joiner_need_trend,
            join_need=np.where(join_state >= 0, join_state // len(index.settings), -1),
        )
        need_l, set_l = index.state_labels()
        cells = {"ncy": index.ncys[cell_ncy], "need": need_l[cell_state], "setting": set_l[cell_state]}
        # random streams keyed by the cells' labels: a scenario that adds a setting (new cells,
        # renumbered states) leaves every other cell's random numbers as they were
        plan.cell_key = pd.util.hash_array(np.array(
            [f"{n}|{nd}|{st}" for n, nd, st in zip(cells["ncy"], cells["need"], cells["setting"])], dtype=object))
        return plan, cells

    def project_cost(self, costs: pd.DataFrame, *, fill_by_setting: bool = True, **project_kwargs) -> Projection:
        """Projected cost with intervals: :meth:`project` weighted by a cost per place.

        Costs come from the one cost model (:class:`senforecast.core.costs.CostModel`), see
        :func:`complete_costs`.

        Parameters
        ----------
        costs : DataFrame
            ``setting, [need], cost_per_place`` (or ``cost``).
        fill_by_setting : bool
            A projection reaches (need, setting) pairs nobody was in before; when ``costs``
            is by need and setting, such a pair gets the mean cost of its setting over the
            needs given (a setting with no cost at all still raises, naming it).
        **project_kwargs
            Passed to :meth:`project` (``years, population, scenario, n_draws, seed``).

        Returns
        -------
        Projection
            Unit ``"GBP"``; summaries give the mean and prediction intervals of cost.

        Examples
        --------
        >>> from senforecast.io.witan import load_witan_demo
        >>> d = load_witan_demo()
        >>> m = CohortModel(mode="witan").fit(d)
        >>> cost = m.project_cost(d.costs, years=1, n_draws=20, seed=0)
        >>> cost.unit, bool(cost.total().min() > 0)
        ('GBP', True)
        """
        proj = self.project(**project_kwargs)
        return proj.weighted(complete_costs(costs, proj.cells) if fill_by_setting else costs)


def complete_costs(costs: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """Cost per place for every (setting, need) in ``cells``, from the one cost model.

    Delegates to :class:`senforecast.core.costs.CostModel` (its precedence: the costs table's
    (setting, need) row, then its setting row, then the mean of the setting's need rows), over
    a register that lists only the settings. A setting with no cost at all raises, naming it:
    a missing cost is never counted as 0.

    Examples
    --------
    >>> costs = pd.DataFrame({"setting": ["A", "A"], "need": ["X", "Y"], "cost_per_place": [10.0, 20.0]})
    >>> cells = pd.DataFrame({"setting": ["A", "A"], "need": ["X", "Z"]})
    >>> complete_costs(costs, cells)["cost_per_place"].tolist()
    [10.0, 15.0]
    """
    col = next((c for c in ("cost_per_place", "cost", "weight") if c in costs.columns), None)
    if col is None or "setting" not in costs.columns:
        raise SenForecastError("costs need a 'setting' and a 'cost_per_place' (or 'cost') column")
    table = costs.rename(columns={col: "cost_per_place"})
    table = table[[c for c in ("setting", "need", "cost_per_place") if c in table.columns]]
    has_need = "need" in cells.columns
    pairs = cells[["setting", "need"] if has_need else ["setting"]].astype(str).drop_duplicates()
    settings = sorted(set(pairs["setting"]) | set(table["setting"].astype(str)))
    # only the settings: kind 'other_la' (no capacity needed); the kind average never fills a
    # gap here (checked below), so the kind itself does not change any cost
    register = ProvisionRegister(pd.DataFrame({"setting": settings, "kind": "other_la", "capacity": np.nan}))
    model = CostModel(register, table)
    year = [0]
    levels = model.setting_costs(year, settings, warn=False).set_index("setting")
    bad = sorted(set(pairs["setting"]) & set(levels.index[~levels["source"].isin(
        ["costs table", "costs table (mean over needs)", "provision register"])]))
    if bad:
        raise SenForecastError(f"no cost for setting(s) {bad}: add them to the cost table")
    if not has_need:
        return pairs.assign(cost_per_place=pairs["setting"].map(levels["cost_per_place"]).to_numpy(float))
    needs = sorted(pairs["need"].unique())
    m = model.matrix(needs, settings, year, warn=False)[0]
    n_pos = {n: i for i, n in enumerate(needs)}
    s_pos = {st: j for j, st in enumerate(settings)}
    value = [m[n_pos[n], s_pos[st]] for st, n in zip(pairs["setting"], pairs["need"])]
    return pairs.assign(cost_per_place=np.asarray(value, dtype=float)).reset_index(drop=True)

"""Prevalence-rate model: children with plans per head of population, trended and projected.

The count in a cell (area x NCY x need) and census year is modelled as

    count ~ Poisson(mu) or NegBin(mu, alpha),
    log mu = log(population) + [parent: main effects of area, NCY, need + a log-linear
             trend per need] + [cell: random intercept u0 + random trend u1],

then projected on future population with the trend extrapolated (log-linear, linear, damped
or flat). See :class:`PrevalenceModel` for the estimation choices and why.
"""
from __future__ import annotations

import warnings
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from ..core.data import LocalAreaData
from ..core.errors import InputWarning, ModelError
from ..projection import DIMS, Projection
from .base import BaseModel, resolve_years
from .baselines import count_panel, observed_counts
from .registry import register, small_authority

__all__ = ["PrevalenceModel", "population_for_cells", "decompose_change"]

CELL_DIMS = ("area", "ncy", "need")


def population_for_cells(
    population: pd.DataFrame, cells: pd.DataFrame, years: Sequence[int], *, what: str = "population"
) -> tuple[np.ndarray, list[str]]:
    """Population (years x cells) for cells over ``area`` and ``ncy`` (either may be "ALL").

    A cell whose area is ``"ALL"`` gets the population summed over areas, likewise NCY. When
    the population table has only an authority total (``area == "ALL"``) every area's cells
    get that total (the area effect then absorbs each area's share). A missing NCY takes the
    nearest NCY of the same area (e.g. Year 20 borrows Year 19's population). A missing year
    takes the nearest year. Each fallback is reported in the returned notes.

    Returns
    -------
    (ndarray, list of str)
        Population array of shape (len(years), len(cells)) and notes on any fallbacks.

    Examples
    --------
    >>> pop = pd.DataFrame({"year": [2024, 2024], "area": ["N", "S"], "ncy": [5, 5], "count": [100, 300]})
    >>> cells = pd.DataFrame({"area": ["ALL", "N"], "ncy": [5, 6]})
    >>> arr, notes = population_for_cells(pop, cells, [2024])
    >>> arr.tolist(), len(notes)
    ([[400.0, 100.0]], 1)
    """
    notes: list[str] = []
    pop = population.copy()
    if "area" not in pop.columns:
        pop["area"] = "ALL"
    pop["area"] = pop["area"].astype(str)
    pop["year"] = pop["year"].astype(int)
    pop["ncy"] = pop["ncy"].astype(int)
    years = [int(y) for y in years]
    # one array (population year x (area, ncy)) looked up per cell: fast for hundreds of cells
    wide = pop.pivot_table(index="year", columns=["area", "ncy"], values="count", aggfunc="sum",
                           fill_value=0.0).sort_index()
    avail = wide.index.to_numpy()
    missing_years = [y for y in years if y not in set(avail.tolist())]
    if missing_years:
        notes.append(f"{what}: no rows for year(s) {missing_years}; nearest year used")
    rows = np.array([int(np.argmin(np.abs(avail - y))) for y in years])
    arr = wide.to_numpy(dtype=float)[rows]  # (years, columns)
    col_area = np.array([str(a) for a, _ in wide.columns])
    col_ncy = np.array([int(k) for _, k in wide.columns])
    pop_areas = set(col_area.tolist())
    out = np.zeros((len(years), len(cells)))
    cache: dict[tuple, np.ndarray] = {}
    for j, (area, ncy) in enumerate(zip(cells["area"], cells["ncy"])):
        key = (area, ncy)
        if key not in cache:
            sel = np.ones(len(col_area), dtype=bool)
            if area != "ALL":
                if str(area) in pop_areas:
                    sel &= col_area == str(area)
                elif pop_areas == {"ALL"}:
                    if not any("authority total" in n for n in notes):
                        notes.append(f"{what}: only an authority total; used for every area")
                else:
                    raise ModelError(
                        f"{what} has no rows for area {area!r} (it has {sorted(pop_areas)}); "
                        "give the population by the same areas as the plans, or fit with by "
                        "excluding 'area'"
                    )
            if ncy != "ALL":
                have = np.unique(col_ncy[sel])
                if len(have) == 0:
                    raise ModelError(f"{what} is empty for area {area!r}")
                near = int(have[np.argmin(np.abs(have - int(ncy)))])
                if near != int(ncy):
                    notes.append(f"{what}: no NCY {ncy} for area {area!r}; NCY {near} used")
                sel &= col_ncy == near
            cache[key] = arr[:, sel].sum(axis=1)
        out[:, j] = cache[key]
    return out, notes


@register("prevalence", data="local_area", example=small_authority)
class PrevalenceModel(BaseModel):
    """Rates of children with plans per head of population, trended with count GLMs.

    Parameters
    ----------
    family : {"poisson", "negbin"}
        Count distribution of a cell given its rate. ``"negbin"`` adds over-dispersion
        (variance ``mu + alpha mu^2``, ``alpha`` by moments from the cell residuals).
    trend : {"loglinear", "linear", "damped", "none"}
        How the rate moves beyond the last census. All are fitted as a log-linear trend in the
        historic years; they differ in extrapolation: ``loglinear`` keeps the yearly growth
        rate; ``linear`` keeps the yearly *amount* of growth of the rate (the tangent line at
        the last census, floored at zero); ``damped`` multiplies the growth by ``damping`` each
        further year (growth fades out); ``none`` fits no trend and holds the average rate.
    by : sequence of str
        Cell dimensions, a subset of ``("area", "ncy", "need")``; a dimension left out is
        summed over (its column in the projection says ``"ALL"``).
    pooling : {"partial", "none", "full"}
        ``partial`` (default): each cell's level (and with ``cell_trends`` its trend) is a
        random effect around the parent (authority-wide main effects of area, NCY and need plus
        a trend per ``trend_by`` group), with its variance estimated from the data (empirical
        Bayes), so a small area or a rare need borrows strength from the whole authority. ``none``: every cell on its own (a weak
        fixed prior: sd 2 on the log level, 0.3 on the yearly trend). ``full``: no cell effects, only the parent.
    window : int, optional
        Fit on the last ``window`` census years only (default all).
    damping : float
        Yearly damping factor of the growth for ``trend="damped"``.
    max_growth : float
        Cap on any cell's yearly rate growth or decline (0.3 = 30% a year): with 0-3 children a
        cell's own trend is mostly noise, and a capped trend cannot explode.
    max_rate : float
        Cap on a projected rate per head (1.0: never more children with plans than children).
    trend_by : sequence of str
        Parent trend groups: one log-linear trend per level of these dimensions (default one
        per need; ``("need", "area")`` adds area differences).
    cell_trends : bool
        Also give every cell its own (shrunken) trend. Off by default: in the backtests on both
        demo datasets the cells' own trends were mostly cohort noise that did not persist, and
        extrapolating them biased projections upwards (WAPE of the total at 3 years 11% with,
        5% without on the bundled demo; see docs/backtests.md).

    Attributes
    ----------
    cells_ : DataFrame
        Cells (area, ncy, need) fitted.
    parent_params_, parent_cov_ : ndarray
        Parent GLM coefficients (statsmodels) and their covariance (inflated for year shocks).
    cell_effects_, cell_cov_ : ndarray
        Shrunken cell effects (n_cells x k) and their posterior covariances (n_cells x k x k).
    tau_ : ndarray
        Estimated standard deviations of the cell effects (intercept, trend).
    alpha_ : float
        Negative-binomial over-dispersion (0 for Poisson).
    year_shock_sd_ : float
        sd of the common yearly shock of the log rate (beyond count noise), applied to every
        cell alike in a projection year.
    rates_ : DataFrame
        Observed and fitted rates by year and cell.

    Notes
    -----
    Why empirical Bayes rather than a mixed GLM: statsmodels' Bayesian mixed GLMs are
    variational and slow on hundreds of cells, and do not give a negative-binomial family. Here
    the parent is an ordinary statsmodels GLM (with a log-population offset), and the cell
    effects are fitted by penalised Newton steps vectorised over cells with a Gaussian prior
    whose variances are re-estimated by a Laplace-EM loop. That is a Laplace approximation to
    the random-intercept-and-slope GLMM; a cell with no children gets a finite, shrunken
    effect (no infinite MLE), and each cell has a posterior covariance for parameter draws.

    Prediction intervals include: parent coefficient uncertainty (multivariate normal from the
    GLM covariance), cell-effect uncertainty (posterior normal), a common yearly shock to the
    rate (its variance estimated from how far the authority's yearly totals stray from the
    fitted trend beyond count noise), and Poisson / negative-binomial count noise.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from senforecast.core.data import LocalAreaData
    >>> rng = np.random.default_rng(0)
    >>> years = range(2018, 2025)
    >>> pop = pd.DataFrame([(y, "N", k, 1000) for y in range(2018, 2031) for k in range(1, 4)],
    ...                    columns=["year", "area", "ncy", "count"])
    >>> counts = pd.DataFrame([(y, "N", k, "ASD", rng.poisson(20 * 1.05 ** (y - 2018)))
    ...                        for y in years for k in range(1, 4)],
    ...                       columns=["year", "area", "ncy", "need", "count"])
    >>> data = LocalAreaData(census=counts, population=pop)
    >>> m = PrevalenceModel().fit(data)
    >>> p = m.project(years=3, n_draws=200, seed=1)
    >>> p.years.tolist(), bool(p.summary()["mean"].is_monotonic_increasing)
    ([2025, 2026, 2027], True)
    """

    def __init__(
        self,
        family: Literal["poisson", "negbin"] = "poisson",
        trend: Literal["loglinear", "linear", "damped", "none"] = "loglinear",
        by: Sequence[str] = CELL_DIMS,
        pooling: Literal["partial", "none", "full"] = "partial",
        window: int | None = None,
        damping: float = 0.8,
        max_growth: float = 0.3,
        max_rate: float = 1.0,
        trend_by: Sequence[str] = ("need",),
        cell_trends: bool = False,
    ) -> None:
        self.family = family
        self.trend = trend
        self.by = tuple(by)
        self.pooling = pooling
        self.window = window
        self.damping = damping
        self.max_growth = max_growth
        self.max_rate = max_rate
        self.trend_by = tuple(trend_by)
        self.cell_trends = cell_trends

    # closures are supply side for this model: it has no settings, so a closure changes no
    # child's need of a place; gap_analysis(..., scenario=...) removes the closed places and its
    # allocation re-places the children
    scenario_parts = frozenset({"joiner_multiplier", "closures"})

    # ------------------------------------------------------------------ checks
    def _check(self) -> None:
        if self.family not in ("poisson", "negbin"):
            raise ModelError(f"family must be 'poisson' or 'negbin' (got {self.family!r})")
        if self.trend not in ("loglinear", "linear", "damped", "none"):
            raise ModelError(
                f"trend must be 'loglinear', 'linear', 'damped' or 'none' (got {self.trend!r})")
        if self.pooling not in ("partial", "none", "full"):
            raise ModelError(f"pooling must be 'partial', 'none' or 'full' (got {self.pooling!r})")
        bad = [b for b in self.by if b not in CELL_DIMS]
        if bad:
            raise ModelError(f"by may only contain {CELL_DIMS} (got {bad}); setting is not modelled")
        bad = [b for b in self.trend_by if b not in CELL_DIMS]
        if bad:
            raise ModelError(f"trend_by may only contain {CELL_DIMS} (got {bad})")
        if not 0 < self.damping <= 1:
            raise ModelError(f"damping must be in (0, 1] (got {self.damping})")

    # --------------------------------------------------------------------- fit
    def fit(self, data: LocalAreaData) -> "PrevalenceModel":
        """Fit rates per head by cell and year from plans (or census) and population.

        Parameters
        ----------
        data : LocalAreaData
            Needs ``population`` (history, and projection rows for ``project``) and one of
            ``plans``, ``transitions`` or ``census`` (with a ``need`` column).

        Returns
        -------
        self
        """
        self._check()
        data.require("population")
        counts = observed_counts(data, CELL_DIMS)
        for d in CELL_DIMS:
            if d not in self.by:
                counts[d] = "ALL"
        counts = counts.groupby(["year", *CELL_DIMS], as_index=False)["count"].sum()
        years = np.sort(counts["year"].unique())
        if self.window is not None:
            years = years[-self.window:]
            counts = counts[counts["year"].isin(years)]
        # cells with at least one child in the fitted years
        counts = counts[counts.groupby(list(CELL_DIMS))["count"].transform("sum") > 0]
        if counts.empty:
            raise ModelError(f"{data.name}: no children with plans in the fitted years")
        cells, y = count_panel(counts, list(CELL_DIMS), years)
        pop, notes = population_for_cells(data.population, cells, years)
        for n in notes:
            warnings.warn(f"{data.name}: {n}", InputWarning, stacklevel=2)
        if (pop <= 0).any():
            j = int(np.where((pop <= 0).any(axis=0))[0][0])
            raise ModelError(
                f"{data.name}: population is zero or missing for cell {cells.iloc[j].to_dict()}; "
                "the rate per head needs a positive population"
            )
        self.cells_ = cells
        self.years_ = years
        self.last_year_ = int(years[-1])
        self.last_census_ = self.last_year_
        self.t_center_ = float(np.mean(years))
        self.counts_ = y
        self.population_hist_ = pop
        self.population_table_ = data.population.copy()
        self.notes_ = notes
        self.data_name_ = data.name
        self._fit_parent(y, pop)
        self._fit_cells(y, pop)
        self._fit_dispersion(y, pop)
        fitted = np.exp(self._log_rate_hist())
        self.rates_ = pd.DataFrame({
            **{d: np.tile(cells[d].to_numpy(), len(years)) for d in CELL_DIMS},
            "year": np.repeat(years, len(cells)),
            "count": y.reshape(-1),
            "population": pop.reshape(-1),
            "rate": (y / pop).reshape(-1),
            "fitted_rate": fitted.reshape(-1),
        })
        return self

    def _has_trend(self) -> bool:
        return self.trend != "none" and len(self.years_) >= 2

    def _design(self, n_years: int, t: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Parent design rows for every (year, cell), year-major, and column names."""
        cells = self.cells_
        nc = len(cells)
        cols = [np.ones(n_years * nc)]
        names = ["intercept"]
        for d in CELL_DIMS:
            levels = sorted(cells[d].astype(str).unique())
            for lev in levels[1:]:
                col = (cells[d].astype(str).to_numpy() == lev).astype(float)
                cols.append(np.tile(col, n_years))
                names.append(f"{d}[{lev}]")
        if self._has_trend():
            tt = np.repeat(t, nc)
            cols.append(tt)
            names.append("trend")
            for d in self.trend_by:
                levels = sorted(cells[d].astype(str).unique())
                for lev in levels[1:]:
                    col = (cells[d].astype(str).to_numpy() == lev).astype(float)
                    cols.append(np.tile(col, n_years) * tt)
                    names.append(f"trend:{d}[{lev}]")
        return np.column_stack(cols), names

    def _t(self, years) -> np.ndarray:
        return np.asarray(years, dtype=float) - self.t_center_

    def _fit_parent(self, y: np.ndarray, pop: np.ndarray) -> None:
        import statsmodels.api as sm  # lazy: half a second the command line's start-up need not pay

        t = self._t(self.years_)
        X, names = self._design(len(self.years_), t)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter on sparse levels
            res = sm.GLM(y.reshape(-1), X, family=sm.families.Poisson(),
                         offset=np.log(pop.reshape(-1))).fit()
        params = np.asarray(res.params)
        cov = np.asarray(res.cov_params())
        if not np.all(np.isfinite(cov)):
            cov = np.nan_to_num(cov, nan=0.0, posinf=0.0, neginf=0.0)
        self.parent_names_ = names
        self.parent_params_ = params
        self.parent_cov_ = cov
        self._X_hist = X

    def _fit_cells(self, y: np.ndarray, pop: np.ndarray, n_outer: int = 50) -> None:
        n_years, nc = y.shape
        t = self._t(self.years_)
        k = 2 if self._has_trend() and self.cell_trends else 1
        Z = np.column_stack([np.ones(n_years), t])[:, :k]  # (years, k)
        eta0 = (np.log(pop.reshape(-1)) + self._X_hist @ self.parent_params_).reshape(n_years, nc)
        self._eta0_hist = eta0
        if self.pooling == "full":
            # no cell effects: for negbin, the over-dispersion also absorbs cell differences
            self.alpha_ = self._moment_alpha(y, np.exp(eta0)) if self.family == "negbin" else 0.0
            self.tau_ = np.zeros(k)
            self.cell_effects_ = np.zeros((nc, k))
            self.cell_cov_ = np.zeros((nc, k, k))
            return
        # "none": a weak fixed prior (sd 2 on the log level, 0.3 on the yearly trend) that any
        # cell with data overrides, but that keeps an empty cell's effect and its Laplace
        # variance finite (a flat prior would give draws of absurd rates)
        tau2 = np.array([4.0, 0.09])[:k] if self.pooling == "none" else np.array([0.25, 0.01])[:k]
        u = np.zeros((nc, k))
        alpha = 0.0
        for _ in range(n_outer):
            u, Hinv = self._newton_cells(y, eta0, Z, u, tau2, alpha)
            if self.pooling == "none":
                break
            new = np.mean(u**2 + np.diagonal(Hinv, axis1=1, axis2=2), axis=0)
            new = np.clip(new, 1e-6, 4.0)
            done = np.all(np.abs(new - tau2) < 1e-5 + 1e-3 * tau2)
            tau2 = new
            if done:
                break
        if self.family == "negbin":
            mu = np.exp(eta0 + Z @ u.T)
            alpha = self._moment_alpha(y, mu)
            u, Hinv = self._newton_cells(y, eta0, Z, u, tau2, alpha)
        self.alpha_ = alpha
        self.tau_ = np.sqrt(tau2)
        self.cell_effects_ = u
        self.cell_cov_ = Hinv

    @staticmethod
    def _moment_alpha(y: np.ndarray, mu: np.ndarray) -> float:
        # Var = mu + alpha mu^2  =>  alpha = sum((y-mu)^2 - mu) / sum(mu^2)
        return float(max(np.sum((y - mu) ** 2 - mu) / max(np.sum(mu**2), 1e-12), 1e-6))

    @staticmethod
    def _newton_cells(y, eta0, Z, u, tau2, alpha, n_iter: int = 30):
        """Penalised Newton for every cell at once: maximise loglik(u) - u' T^-1 u / 2."""
        prior = np.diag(1.0 / tau2)
        k = Z.shape[1]
        for _ in range(n_iter):
            mu = np.exp(np.clip(eta0 + Z @ u.T, -30, 30))  # (years, cells)
            if alpha > 0:
                resid = (y - mu) / (1 + alpha * mu)
                w = mu / (1 + alpha * mu)
            else:
                resid = y - mu
                w = mu
            g = (Z.T @ resid).T - u / tau2  # (cells, k)
            H = np.einsum("tc,ti,tj->cij", w, Z, Z) + prior  # (cells, k, k)
            step = np.linalg.solve(H, g[..., None])[..., 0]
            step = np.clip(step, -2.0, 2.0)
            u = u + step
            if np.max(np.abs(step)) < 1e-8:
                break
        mu = np.exp(np.clip(eta0 + Z @ u.T, -30, 30))
        w = mu / (1 + alpha * mu) if alpha > 0 else mu
        H = np.einsum("tc,ti,tj->cij", w, Z, Z) + prior
        return u, np.linalg.inv(H) if k else H

    def _log_rate_hist(self) -> np.ndarray:
        t = self._t(self.years_)
        k = self.cell_effects_.shape[1]
        Z = np.column_stack([np.ones(len(t)), t])[:, :k]
        return (self._X_hist @ self.parent_params_).reshape(len(t), -1) + Z @ self.cell_effects_.T

    def _fit_dispersion(self, y: np.ndarray, pop: np.ndarray) -> None:
        mu = pop * np.exp(self._log_rate_hist())
        if self.family == "poisson":
            self.alpha_ = 0.0
        # common yearly shock: Var(total) = sum Var(cell) + s2 * total^2
        O, E = y.sum(axis=1), mu.sum(axis=1)
        V = (mu + self.alpha_ * mu**2).sum(axis=1)
        n_par_time = 2 if self._has_trend() else 1
        dof = max(len(O) - n_par_time, 1)
        s2 = max(float(np.sum((O - E) ** 2 - V) / np.sum(E**2)) * len(O) / dof, 0.0)
        self.year_shock_sd_ = float(np.sqrt(s2))
        # trend and level of every cell share the year shocks: inflate their uncertainty
        cov = self.parent_cov_.copy()
        names = self.parent_names_
        t = self._t(self.years_)
        cov[0, 0] += s2 / len(t)
        if "trend" in names:
            i = names.index("trend")
            cov[i, i] += s2 / max(np.sum(t**2), 1e-12)
        self.parent_cov_ = cov

    # ------------------------------------------------------------------ project
    def _population_future(self, population: pd.DataFrame | None, years: np.ndarray) -> np.ndarray:
        table = population if population is not None else self.population_table_
        pop, notes = population_for_cells(table, self.cells_, years, what="projected population")
        for n in notes:
            if n.replace("projected population", "population") in self.notes_:
                continue  # already warned at fit
            warnings.warn(f"{self.data_name_}: {n}", InputWarning, stacklevel=3)
        return pop

    def project(
        self,
        years: int | Sequence[int] = 5,
        population: pd.DataFrame | None = None,
        scenario=None,
        n_draws: int = 1000,
        seed: int | None = None,
    ) -> Projection:
        """Simulate counts of children with plans by cell for future census years.

        Parameters
        ----------
        years : int or sequence of int
            Horizon after the last fitted census, or the census years to project.
        population : DataFrame, optional
            Population ``year, area, ncy, count`` for those years; default the population
            table given to ``fit`` (its projection rows). A year it lacks takes the nearest
            year present (with a warning).
        scenario : Scenario, optional
            ``joiner_multiplier`` m scales the projected rate *growth*: the change in the log
            rate from the last census is multiplied by m (m = 1.1 makes the rate grow 10%
            faster; m = 0 freezes rates at the last census). Rate changes and redirects
            are about settings and flows, which this model does not have: they raise
            :class:`~senforecast.models.base.UnsupportedScenarioError`. Closures and provision
            changes are supply side for this model: the projection is unchanged and
            ``gap_analysis(..., scenario=...)`` removes the places (its allocation re-places
            the children of a closed setting).
        n_draws : int
            Number of simulation draws.
        seed : int, optional
            Random seed; the same seed gives the same draws.

        Returns
        -------
        Projection
            Cells ``area, ncy, need`` with ``setting = "ALL"``.
        """
        ys = self._years(years)
        scenario = self._scenario(scenario)
        n_draws = self._check_draws(n_draws)
        pop = self._population_future(population, ys)
        m = float(scenario.joiner_multiplier)
        rng = np.random.default_rng(seed)
        mu = self._rate_draws(ys, rng, n_draws, m) * pop[None]
        if self.alpha_ > 0:
            lam = rng.gamma(1.0 / self.alpha_, self.alpha_ * mu)
        else:
            lam = mu
        draws = rng.poisson(lam)
        cells = self.cells_.copy()
        cells["setting"] = "ALL"
        hist = self.rates_[[*CELL_DIMS, "year", "count"]].assign(setting="ALL")
        hist = hist[hist["count"] > 0][["year", *DIMS, "count"]].reset_index(drop=True)
        return Projection(
            draws, ys, cells[list(DIMS)], history=hist,
            meta=self._meta(seed=seed, n_draws=n_draws, scenario=scenario, alpha=self.alpha_,
                            year_shock_sd=self.year_shock_sd_, tau=self.tau_.tolist(),
                            joiner_multiplier=m, assumptions=self.notes_),
        )

    def expected_rates(self, years: Sequence[int]) -> np.ndarray:
        """Point (no-noise) projected rates per head, shape (len(years), n_cells).

        Uses the fitted coefficients without parameter draws, shocks or count noise.
        """
        ys = np.asarray(years, dtype=int)
        return self._rates(ys, self.parent_params_[None], self.cell_effects_[None], 1.0,
                           np.zeros((1, len(ys), 1)))[0]

    def _rate_draws(self, ys: np.ndarray, rng, n_draws: int, m: float) -> np.ndarray:
        beta = rng.multivariate_normal(self.parent_params_, self.parent_cov_, size=n_draws,
                                       method="eigh")
        k = self.cell_effects_.shape[1]
        L = np.linalg.cholesky(self.cell_cov_ + 1e-12 * np.eye(k)) if self.pooling != "full" else None
        z = rng.standard_normal((n_draws, len(self.cells_), k))
        u = self.cell_effects_[None] + (np.einsum("cij,dcj->dci", L, z) if L is not None else 0.0)
        shock = rng.standard_normal((n_draws, len(ys), 1)) * self.year_shock_sd_
        shock -= self.year_shock_sd_**2 / 2  # mean-one multiplicative shock
        return self._rates(ys, beta, u, m, shock)

    def _rates(self, ys, beta, u, m, shock) -> np.ndarray:
        """Rates (draws, years, cells) from coefficient draws beta (d, p) and cell effects u (d, c, k)."""
        tT = self._t([self.last_year_])
        X_T, names = self._design(1, tT)  # (cells, p) at the last census
        lr_T = beta @ X_T.T + u[..., 0] + (u[..., 1] * tT[0] if u.shape[2] > 1 else 0.0)
        if self._has_trend():
            X_1, _ = self._design(1, tT + 1.0)
            slope = beta @ (X_1 - X_T).T  # d/dt of the log rate, per cell
            if u.shape[2] > 1:
                slope = slope + u[..., 1]
            cap = np.log1p(self.max_growth)
            slope = np.clip(slope, -cap, cap)
        else:
            slope = np.zeros_like(lr_T)
        h = (ys - self.last_year_).astype(float)
        if self.trend == "damped":
            steps = np.array([np.sum(self.damping ** np.arange(1, hh + 1)) for hh in h.astype(int)])
        else:
            steps = h
        growth = slope[:, None, :] * steps[None, :, None]  # change of the log rate
        if self.trend == "linear":
            # constant yearly amount of growth of the rate: tangent line, floored at zero
            rel = np.maximum(1.0 + slope[:, None, :] * h[None, :, None], 0.0)
            log_rel = np.log(np.maximum(rel, 1e-12)) * m
            rate = np.exp(lr_T[:, None, :] + log_rel + shock) * (rel > 0)
        else:
            rate = np.exp(lr_T[:, None, :] + m * growth + shock)
        return np.minimum(rate, self.max_rate)


def decompose_change(
    source: "PrevalenceModel | Projection",
    years: int | Sequence[int] = 5,
    *,
    by: str | Sequence[str] | None = None,
    population: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Split projected change since the last census into a population effect and a rate effect.

    For every cell (area x NCY x need), with base-year count ``C_b``, population ``P_b`` and
    rate ``r_b = C_b / P_b``, and projected mean count ``C_f`` on population ``P_f``:

    * population effect ``= r_b (P_f - P_b)``: the change if rates stayed as they are now;
    * rate effect ``= C_f - r_b P_f``: the rest, from a higher (or lower) share of children
      with plans.

    The two add up exactly to ``C_f - C_b``. Cells are summed to ``by``.

    Parameters
    ----------
    source : PrevalenceModel or Projection
        A fitted model (``C_f`` is its point projection, no simulation noise), or any
        projection with ``history`` (``C_f`` is the mean of its draws), which then needs
        ``population``.
    years : int or sequence of int
        For a model, the horizon or years to decompose (a projection uses its own years).
    by : str or list of str, optional
        Dimensions to break down by (default the total).
    population : DataFrame, optional
        ``year, area, ncy, count``; default the model's population table.

    Returns
    -------
    DataFrame
        Columns ``by..., year, base_year, base_count, projected, change,
        population_effect, rate_effect``.

    Examples
    --------
    >>> import pandas as pd
    >>> from senforecast.projection import Projection
    >>> hist = pd.DataFrame({"year": [2024], "area": ["N"], "ncy": [5], "count": [10]})
    >>> pop = pd.DataFrame({"year": [2024, 2025], "area": "N", "ncy": 5, "count": [100, 120]})
    >>> proj = Projection(np.full((4, 1, 1), 15), [2025], pd.DataFrame({"area": ["N"], "ncy": [5]}),
    ...                   history=hist)
    >>> decompose_change(proj, population=pop)[["change", "population_effect", "rate_effect"]].values.tolist()
    [[5.0, 2.0, 3.0]]
    """
    by_l = [by] if isinstance(by, str) else list(by or [])
    if isinstance(source, PrevalenceModel):
        if not hasattr(source, "cell_effects_"):
            raise ModelError("decompose_change needs a fitted PrevalenceModel: call .fit(data) first")
        ys = resolve_years(years, source.last_year_)
        cells = source.cells_.copy()
        table = population if population is not None else source.population_table_
        P_f, _ = population_for_cells(table, cells, ys)
        C_f = source.expected_rates(ys) * P_f
        C_b = source.counts_[-1]
        P_b = source.population_hist_[-1]
        base_year = source.last_year_
    elif isinstance(source, Projection):
        if source.history is None or population is None:
            raise ModelError("decompose_change on a Projection needs its history and a population table")
        ys = source.years
        dims = [d for d in source.dims if d in source.history.columns]
        proj = source.aggregate(dims)
        hist = source.history
        base_year = int(hist["year"].max())
        base = hist[hist["year"] == base_year]
        if dims:
            # cells of the projection and of the base year (a cell may empty out or appear)
            key = lambda f: f[dims].astype(str).agg("\x1f".join, axis=1)
            hb = base.groupby(dims, as_index=False)["count"].sum()
            pk, hk = key(proj.cells).to_numpy(), key(hb).to_numpy()
            union = list(dict.fromkeys([*pk.tolist(), *hk.tolist()]))
            ui = {k: i for i, k in enumerate(union)}
            cells = pd.concat([proj.cells[dims], hb[dims]], ignore_index=True)
            cells = cells.iloc[[int(np.where(np.r_[pk, hk] == k)[0][0]) for k in union]]
            cells = cells.reset_index(drop=True)
            C_b = np.zeros(len(union))
            np.add.at(C_b, [ui[k] for k in hk], hb["count"].to_numpy(dtype=float))
            C_f = np.zeros((len(ys), len(union)))
            C_f[:, [ui[k] for k in pk]] = proj.draws.mean(axis=0)
        else:
            cells = pd.DataFrame(index=range(1))
            C_b = np.array([float(base["count"].sum())])
            C_f = proj.draws.mean(axis=0)
        for d in ("area", "ncy"):
            if d not in cells.columns:
                cells[d] = "ALL"
        P_b, _ = population_for_cells(population, cells, [base_year])
        P_b = P_b[0]
        P_f, _ = population_for_cells(population, cells, ys)
    else:
        raise ModelError("decompose_change takes a fitted PrevalenceModel or a Projection")
    r_b = np.divide(C_b, P_b, out=np.zeros_like(C_b, dtype=float), where=P_b > 0)
    pop_eff = r_b[None] * (P_f - P_b[None])
    rate_eff = C_f - r_b[None] * P_f
    missing = [b for b in by_l if b not in cells.columns]
    if missing:
        raise ModelError(f"cannot break down by {missing}: cells have {list(cells.columns)}")
    n = len(cells)
    frame = pd.DataFrame({
        **{b: np.tile(cells[b].to_numpy(), len(ys)) for b in by_l},
        "year": np.repeat(ys, n),
        "base_count": np.tile(C_b, len(ys)),
        "projected": C_f.reshape(-1),
        "population_effect": pop_eff.reshape(-1),
        "rate_effect": rate_eff.reshape(-1),
    })
    out = frame.groupby([*by_l, "year"], as_index=False, sort=True).sum()
    out.insert(len(by_l) + 1, "base_year", base_year)
    out.insert(out.columns.get_loc("projected") + 1, "change", out["projected"] - out["base_count"])
    return out

"""Synthetic authorities for benchmarks and tests: pupil-level plans from a known Markov process.

:func:`synthetic_authority` simulates one authority's children census to census (leavers,
movers between settings, joiners from the population) with every step vectorised over
children, and returns a :class:`~senforecast.core.data.LocalAreaData` with ``plans``,
``population`` (history and a projection), ``provision`` and ``costs``.
:func:`synthetic_national` gives many authorities (a national set) lazily, one at a time, so
a 600,000-plan set need not sit in memory at once. The demo authority with published
figures is :func:`senforecast.datasets.demo.load_demo`; these are for scale, not realism.

Settings of each authority (``<code>`` is the authority code, ``<a>`` the area number):
``<code>-MS<a>`` mainstream (per area), ``<code>-RBP<a>`` primary resource base (NCY 0-6,
ASD;SLCN), ``<code>-RBS<a>`` secondary resource base (NCY 7-13, ASD;SEMH;MLD),
``<code>-SS`` special school (all needs, NCY -1 to 13), ``<code>-IND`` independent school
(out of county, NCY 0-13).
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import pandas as pd

from ..core.data import LocalAreaData

NEEDS: tuple[str, ...] = ("ASD", "SEMH", "SLCN", "MLD", "SLD", "PD")
NEED_SHARE = np.array([0.33, 0.18, 0.17, 0.14, 0.10, 0.08])
NCY_MIN, NCY_MAX = -1, 13
# leaver probability by NCY before the transition: school-leaving ages leave more, NCY 13 all
LEAVER_PROB = {**{n: 0.04 for n in range(NCY_MIN, 11)}, 11: 0.35, 12: 0.30, 13: 1.0}
MOVER_PROB = 0.05
# relative weight of each setting kind for a child with each need (joining or moving)
KIND_WEIGHT = {  # mainstream, primary base, secondary base, special, independent
    "ASD": (6, 1.5, 1.5, 1.0, 0.3), "SEMH": (6, 0.0, 1.0, 0.8, 0.4), "SLCN": (8, 1.5, 0.0, 0.3, 0.05),
    "MLD": (7, 0.0, 1.0, 0.8, 0.05), "SLD": (1, 0.0, 0.0, 4.0, 0.3), "PD": (5, 0.0, 0.0, 1.5, 0.1),
}
KINDS = ("mainstream", "resource_base", "resource_base", "special_school", "independent")
# joiners per year as a share of the target stock, spread over NCY by this shape (NCY -1..13)
JOINER_SHAPE = np.array([0.5, 1.6, 1.5, 1.4, 1.2, 1.1, 1.0, 0.9, 1.1, 0.9, 0.8, 0.6, 0.3, 0.2, 0.1])


def _provision(code: str, n_areas: int, places: float) -> pd.DataFrame:
    rows = []
    for a in range(n_areas):
        rows.append((f"{code}-MS{a}", f"{code} mainstream area {a}", "mainstream", f"{code}-A{a}",
                     -1, 13, np.nan, "*", 7_000.0))
        rows.append((f"{code}-RBP{a}", f"{code} primary base area {a}", "resource_base", f"{code}-A{a}",
                     0, 6, round(places * 0.35), "ASD;SLCN", 22_000.0))
        rows.append((f"{code}-RBS{a}", f"{code} secondary base area {a}", "resource_base", f"{code}-A{a}",
                     7, 13, round(places * 0.4), "ASD;SEMH;MLD", 20_000.0))
    rows.append((f"{code}-SS", f"{code} special school", "special_school", f"{code}-A0", -1, 13,
                 round(places * n_areas * 0.8), "*", 30_000.0))
    rows.append((f"{code}-IND", f"{code} independent special school", "independent", "Out of county",
                 0, 13, np.nan, "*", 65_000.0))
    prov = pd.DataFrame(rows, columns=["setting", "name", "kind", "area", "min_ncy", "max_ncy", "capacity",
                                       "designation", "cost_per_place"])
    prov["opens"] = pd.array([pd.NA] * len(prov), dtype="Int64")
    prov["closes"] = pd.array([pd.NA] * len(prov), dtype="Int64")
    return prov


def _setting_table(n_areas: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per setting: kind slot (0-4), area (-1 any), min and max NCY, in provision row order."""
    slot, area, lo, hi = [], [], [], []
    for a in range(n_areas):
        slot += [0, 1, 2]
        area += [a, a, a]
        lo += [-1, 0, 7]
        hi += [13, 6, 13]
    slot += [3, 4]
    area += [-1, -1]
    lo += [-1, 0]
    hi += [13, 13]
    return np.array(slot), np.array(area), np.array(lo), np.array(hi)


def _choice_table(n_areas: int) -> np.ndarray:
    """Cumulative probabilities over settings for each (area, need, ncy): (Ar, N, A, n_settings)."""
    slot, s_area, lo, hi = _setting_table(n_areas)
    ncys = np.arange(NCY_MIN, NCY_MAX + 1)
    w = np.array([KIND_WEIGHT[n] for n in NEEDS])[:, slot]  # (N, n_settings)
    own = (s_area[None, :] == np.arange(n_areas)[:, None]) | (s_area[None, :] < 0)  # (Ar, n_settings)
    in_range = (ncys[:, None] >= lo[None, :]) & (ncys[:, None] <= hi[None, :])  # (A, n_settings)
    p = w[None, :, None, :] * own[:, None, None, :] * in_range[None, None, :, :]
    p = p + 1e-9 * (slot == 0)[None, None, None, :] * own[:, None, None, :]  # mainstream always possible
    cum = np.cumsum(p, axis=-1)
    return cum / cum[..., -1:]


def _pick(rng: np.random.Generator, cum: np.ndarray, area: np.ndarray, need: np.ndarray,
          ncy: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
    """A setting for each child by (area, need, NCY); ``exclude``: a setting each must leave."""
    rows = cum[area, need, ncy - NCY_MIN]  # (n, n_settings) cumulative probabilities
    if exclude is not None:
        probs = np.diff(rows, axis=1, prepend=0.0)
        probs[np.arange(len(exclude)), exclude] = 0.0
        tot = probs.sum(1)
        # nowhere else to go: stay (keep the excluded setting)
        probs[tot <= 0, exclude[tot <= 0]] = 1.0
        rows = np.cumsum(probs, axis=1)
        rows /= rows[:, -1:]
    return np.minimum((rng.random(len(area))[:, None] > rows).sum(1), rows.shape[1] - 1)


def synthetic_authority(n_plans: int = 3000, *, n_years: int = 6, first_year: int = 2020,
                        n_areas: int = 4, projection_years: int = 12, code: str = "LA001",
                        seed: int | np.random.SeedSequence | None = 0, burn_in: int = 8) -> LocalAreaData:
    """Simulate one authority's plans over ``n_years`` January censuses.

    About ``n_plans`` children hold a plan at each census (the stock starts at that size
    and joiners replace leavers on average). Each year every child leaves with a
    probability by NCY, else goes up one NCY; everyone whose setting does not take their
    new NCY moves to a setting drawn by need, area and NCY, and 5% of the others move to a
    different setting drawn the same way; joiners
    arrive from the population at rates by NCY.

    Parameters
    ----------
    n_plans : int
        Approximate number of children with a plan at each census.
    n_years : int
        Number of censuses, ``first_year`` to ``first_year + n_years - 1``.
    first_year : int
        First census year.
    n_areas : int
        Planning areas (each with mainstream schools and two resource bases).
    projection_years : int
        Years of population projection after the last census.
    code : str
        Authority code, used in setting, area and pupil id labels.
    seed : int or SeedSequence, optional
        Seed; the same seed gives the same authority.
    burn_in : int
        Years simulated before the first census (not written) so NCY and setting mixes settle.

    Returns
    -------
    LocalAreaData
        ``plans`` (``pupil_id, year, ncy, need, setting, area``), ``population``
        (``year, area, ncy, count`` from ``first_year - 1`` to the end of the projection),
        ``provision``, ``costs``; ``name`` is ``code``.

    Examples
    --------
    >>> d = synthetic_authority(500, n_years=3, seed=1)
    >>> sorted(d.plans["year"].unique().tolist())
    [2020, 2021, 2022]
    >>> bool(350 < d.plans.groupby("year").size().mean() < 650)
    True
    """
    rng = np.random.default_rng(seed)
    cum = _choice_table(n_areas)
    slot, _, lo, hi = _setting_table(n_areas)
    prov = _provision(code, n_areas, places=max(4.0, n_plans / n_areas * 0.08))
    ncys = np.arange(NCY_MIN, NCY_MAX + 1)
    leave_p = np.array([LEAVER_PROB[n] for n in ncys])

    # steady state of the process: stock by NCY per joiner a year (joiners join at NCY c with
    # share s_c and survive each later year with 1 - leaver probability)
    shape = JOINER_SHAPE / JOINER_SHAPE.sum()
    surv = np.tril(np.exp(np.subtract.outer(np.r_[0.0, np.cumsum(np.log1p(-leave_p[:-1] + 1e-12))],
                                            np.r_[0.0, np.cumsum(np.log1p(-leave_p[:-1] + 1e-12))])))
    steady = surv @ shape  # (A,) expected stock at each NCY per joiner a year
    inflow = n_plans / steady.sum()
    joiner_mean = inflow * shape  # per NCY after the transition
    n0 = int(n_plans)
    ncy = rng.choice(ncys, n0, p=steady / steady.sum())
    need = rng.choice(len(NEEDS), n0, p=NEED_SHARE)
    area = rng.integers(0, n_areas, n0)
    setting = _pick(rng, cum, area, need, ncy)
    pid = np.arange(n0)
    next_id = n0
    # population: a cohort of similar size in every area, falling slowly for later births
    all_years = np.arange(first_year - burn_in - 1, first_year + n_years + projection_years)
    cohort = max(50.0, n_plans / n_areas / 0.035 / len(ncys))  # ~3.5% of pupils have plans
    area_size = rng.uniform(0.7, 1.3, n_areas)
    birth_year = all_years[:, None] - ncys[None, :]
    pop = cohort * area_size[None, :, None] * (1 - 0.01 * (birth_year[:, None, :] - first_year))
    pop = np.rint(pop * rng.lognormal(0, 0.01, pop.shape)).astype(np.int64)  # (Y, Ar, A)
    # joiner rate per head of population of the NCY joined (the same every year)
    rate = joiner_mean / pop[all_years == first_year - 1][0].sum(0)

    frames = []
    for year in range(first_year - burn_in, first_year + n_years):
        # transition from census year - 1 to census year
        stays = rng.random(ncy.size) >= leave_p[ncy - NCY_MIN]
        pid, need, area, setting, ncy = pid[stays], need[stays], area[stays], setting[stays], ncy[stays] + 1
        must = (ncy < lo[setting]) | (ncy > hi[setting])
        if must.any():  # aged out of the setting's range: any setting that takes the new NCY
            setting[must] = _pick(rng, cum, area[must], need[must], ncy[must])
        move = ~must & (rng.random(ncy.size) < MOVER_PROB)
        if move.any():  # a voluntary move goes to a different setting
            setting[move] = _pick(rng, cum, area[move], need[move], ncy[move], exclude=setting[move])
        yi = np.flatnonzero(all_years == year - 1)[0]
        n_new = rng.binomial(pop[yi], rate[None, :])  # (Ar, A) joiners by area and NCY joined
        a_new, c_new = np.nonzero(n_new)
        k = n_new[a_new, c_new]
        j_area = np.repeat(a_new, k)
        j_ncy = np.repeat(ncys[c_new], k)
        j_need = rng.choice(len(NEEDS), j_area.size, p=NEED_SHARE)
        j_set = _pick(rng, cum, j_area, j_need, j_ncy)
        pid = np.concatenate([pid, np.arange(next_id, next_id + j_area.size)])
        next_id += j_area.size
        need, area = np.concatenate([need, j_need]), np.concatenate([area, j_area])
        setting, ncy = np.concatenate([setting, j_set]), np.concatenate([ncy, j_ncy])
        if year >= first_year:
            frames.append((year, pid.copy(), ncy.copy(), need.copy(), setting.copy(), area.copy()))

    settings = prov["setting"].to_numpy()
    area_codes = np.array([f"{code}-A{a}" for a in range(n_areas)], dtype=object)
    plans = pd.DataFrame({
        "pupil_id": np.concatenate([np.char.add(f"{code}-", f[1].astype(str)) for f in frames]).astype(object),
        "year": np.concatenate([np.full(f[1].size, f[0]) for f in frames]),
        "ncy": np.concatenate([f[2] for f in frames]),
        "need": np.asarray(NEEDS, dtype=object)[np.concatenate([f[3] for f in frames])],
        "setting": settings[np.concatenate([f[4] for f in frames])],
        "area": area_codes[np.concatenate([f[5] for f in frames])],
    })
    keep = all_years >= first_year - 1
    Yk = int(keep.sum())
    population = pd.DataFrame({
        "year": np.repeat(all_years[keep], n_areas * len(ncys)),
        "area": np.tile(np.repeat(area_codes, len(ncys)), Yk),
        "ncy": np.tile(ncys, Yk * n_areas),
        "count": pop[keep].ravel(),
    })
    costs = prov[["setting", "cost_per_place"]].copy()
    return LocalAreaData(plans=plans, population=population, provision=prov, costs=costs,
                         name=code, need_scheme=None)


def synthetic_national(n_authorities: int = 150, plans_per_authority: int = 4000, *, spread: float = 0.6,
                       seed: int = 0, **kwargs) -> Iterator[LocalAreaData]:
    """A national set of synthetic authorities, generated one at a time.

    Authority sizes vary log-normally around ``plans_per_authority`` (``spread`` is the
    standard deviation of the log size) and are rescaled so the set totals
    ``n_authorities * plans_per_authority`` plans per census. Each authority has its own
    independent seed stream (``SeedSequence(seed).spawn``), so authority *i* is the same
    whether or not the others are generated.

    Parameters
    ----------
    n_authorities : int
        Number of authorities (150 about matches England's local authorities).
    plans_per_authority : int
        Mean plans per authority per census (4,000 x 150 = 600,000 plans).
    spread : float
        Log-normal spread of authority sizes.
    seed : int
        Seed of the whole set.
    **kwargs
        Passed to :func:`synthetic_authority` (``n_years``, ``first_year``, ``n_areas`` ...).

    Yields
    ------
    LocalAreaData
        Authorities named ``LA001``, ``LA002``, ...

    Examples
    --------
    >>> las = list(synthetic_national(3, 300, n_years=2, seed=2))
    >>> [d.name for d in las]
    ['LA001', 'LA002', 'LA003']
    """
    ss = np.random.SeedSequence(seed)
    size_rng = np.random.default_rng(ss.spawn(1)[0])
    sizes = size_rng.lognormal(0.0, spread, n_authorities)
    sizes = np.maximum(100, np.rint(sizes / sizes.sum() * n_authorities * plans_per_authority)).astype(int)
    for i, child in enumerate(ss.spawn(n_authorities)):
        yield synthetic_authority(int(sizes[i]), code=f"LA{i + 1:03d}", seed=child, **kwargs)

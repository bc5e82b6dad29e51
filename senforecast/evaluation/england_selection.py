"""Model choice on origins up to 2019, frozen, then scored once on origins 2020-2021.

Protocol (issue 15): every choice below is made by backtest on the *development* origins
2016-2019 only; the choice is then written down here (:data:`FROZEN`, committed before the
held-out run) and scored once on the *held-out* origins 2020 and 2021, whatever comes out.
(The held-out origins' targets, 2021 and 2022, are also targets of the development origins 2018
and 2019 at horizons 2-3, so the held-out score is fresh in its origins, not in its years.)

Selection rules, applied by :func:`select`:

1. **Growth of the age-group model** (``pooled_trend``): the growth model
   (:data:`~senforecast.models.panel.growth.GROWTH_MODELS`) with the lowest WAPE on the authority total, averaged
   over horizons 1-3.
2. **Settings model** (``pooled_share``): the growth model and series-break handling with the
   highest improvement on the best naive baseline, averaged over horizons 1-3 and the four
   specialist targets (special schools, independent, resourced provision + units, all three).
3. **Shared shocks**: estimated from 4 or 6 earlier origins, whichever puts the region and
   England 80% coverage (pooled over horizons, the targets of rule 2 and the total) closer to
   0.80 on average.

Ties (within 0.001) go to the simpler option (the order of the candidates listed).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from .england import BacktestResult, run_england_backtest
from ..models.panel.frozen import FROZEN_SHOCK_ORIGINS, FROZEN_VARIANTS
from ..models.panel.growth import GROWTH_MODELS

DEV_ORIGINS = (2016, 2017, 2018, 2019)
HELD_OUT_ORIGINS = (2020, 2021)
SPECIALIST_TARGETS = ("setting:special_school", "setting:independent", "setting:resourced_provision_unit",
                      "setting:specialist")
SHOCK_ORIGIN_CANDIDATES = (4, 6)


def candidate_variants() -> dict[str, dict]:
    """Every model set-up considered: ``pooled_trend_<growth>`` and ``pooled_share_<growth>[_breaks]``.

    Examples
    --------
    >>> v = candidate_variants()
    >>> v["pooled_share_smoothed_breaks"]
    {'share_of': 'total', 'growth': 'smoothed', 'breaks': True}
    >>> len(v)  # 5 growth models x (trend + share + share with breaks)
    15
    """
    out: dict[str, dict] = {}
    for g in GROWTH_MODELS:
        out[f"pooled_trend_{g}"] = {"growth": g, "breaks": False}
    for g in GROWTH_MODELS:
        out[f"pooled_share_{g}"] = {"share_of": "total", "growth": g, "breaks": False}
        out[f"pooled_share_{g}_breaks"] = {"share_of": "total", "growth": g, "breaks": True}
    return out


def _first_best(values: pd.Series, higher: bool) -> str:
    """Index of the best value, the first listed among those within 0.001 of it."""
    best = values.max() if higher else values.min()
    close = values[(values - best).abs() <= 1e-3]
    return str(close.index[0])


def select_models(result: BacktestResult) -> dict[str, object]:
    """Apply rules 1 and 2 to a development backtest run with :func:`candidate_variants`.

    Parameters
    ----------
    result : BacktestResult
        With every candidate's scores.

    Returns
    -------
    dict
        ``age_model``, ``setting_model`` (names), ``age_table`` and ``setting_table`` (the
        scores the choice was made on).

    Examples
    --------
    Scores where the ``mean`` growth model is best on the total and ``last_breaks`` on the
    specialist settings (a 5% better naive baseline everywhere else):

    >>> rows = []
    >>> for name in candidate_variants():
    ...     for h in (1, 2, 3):
    ...         rows.append(("total", h, name, 0.05 if name == "pooled_trend_mean" else 0.06))
    ...         for tg in SPECIALIST_TARGETS:
    ...             rows.append((tg, h, name, 0.08 if name == "pooled_share_last_breaks" else 0.1))
    >>> naive = [(tg, h, "last_value", 0.105) for tg in ("total", *SPECIALIST_TARGETS) for h in (1, 2, 3)]
    >>> s = pd.DataFrame(rows + naive, columns=["target", "horizon", "model", "wape"]).assign(
    ...     n=1, bias=0.0, coverage80=0.8, coverage95=0.95)
    >>> choice = select_models(BacktestResult(scores=s, forecasts=pd.DataFrame()))
    >>> choice["age_model"], choice["setting_model"]
    ('pooled_trend_mean', 'pooled_share_last_breaks')
    """
    cand = candidate_variants()
    s = result.scores
    trend = [n for n in cand if n.startswith("pooled_trend_")]
    tot = s[(s["target"] == "total") & s["model"].isin(trend)]
    age_table = tot.pivot(index="model", columns="horizon", values="wape").reindex(trend)
    age_table["mean"] = age_table.mean(axis=1)
    share = [n for n in cand if n.startswith("pooled_share_")]
    v = result.versus_best_naive(share)
    v = v[v["target"].isin(SPECIALIST_TARGETS)]
    set_table = v.pivot_table(index="model", columns="target", values="improvement", aggfunc="mean").reindex(share)
    set_table["mean"] = set_table.mean(axis=1)
    return {"age_model": _first_best(age_table["mean"], higher=False),
            "setting_model": _first_best(set_table["mean"], higher=True),
            "age_table": age_table, "setting_table": set_table}


def select_shock_origins(results: Mapping[int, BacktestResult], age_model: str,
                         setting_model: str) -> tuple[int, pd.DataFrame]:
    """Rule 3: the number of shock origins whose region / England 80% coverage is closest to 0.80.

    Scored on the chosen settings model's four specialist targets and the chosen age-group
    model's total, pooled over horizons.
    """
    rows = []
    for k, r in results.items():
        c = r.coverage_by_level("shared", models=[age_model, setting_model], pool_horizons=True)
        keep = (((c["model"] == setting_model) & c["target"].isin(SPECIALIST_TARGETS))
                | ((c["model"] == age_model) & (c["target"] == "total")))
        c = c[keep & c["level"].isin(["region", "national"])]
        rows.append({"shock_origins": k, "mean_coverage80": c["coverage80"].mean(),
                     "distance": float(np.mean(np.abs(c["coverage80"] - 0.8)))})
    table = pd.DataFrame(rows).set_index("shock_origins")
    return int(_first_best(table["distance"], higher=False)), table


def development_choice(age: pd.DataFrame, setting: pd.DataFrame, n_draws: int = 1000,
                       origins=DEV_ORIGINS) -> dict[str, object]:
    """Run the development backtest (origins 2016-2019) and apply the three rules.

    Parameters
    ----------
    age, setting : DataFrame
        ``load_england_ehcp().age`` and ``.setting``.
    n_draws : int
        Joint draws for rule 3.
    origins : sequence of int
        Development origins (the protocol's are 2016-2019; about a minute on 2 cores).

    Returns
    -------
    dict
        :func:`select_models`'s choice plus ``shock_origins``, ``shock_table`` and the
        ``development`` backtest of the chosen models.

    Examples
    --------
    >>> from senforecast.england import load_england_ehcp
    >>> t = load_england_ehcp()
    >>> choice = development_choice(t.age, t.setting, n_draws=50, origins=[2019])  # one origin: quick
    >>> choice["age_model"].startswith("pooled_trend_"), choice["shock_origins"] in SHOCK_ORIGIN_CANDIDATES
    (True, True)
    """
    dev = run_england_backtest(age, setting, origins=origins, variants=candidate_variants(), n_draws=0,
                               shock_origins=None)
    choice = select_models(dev)
    chosen = {choice["age_model"]: candidate_variants()[choice["age_model"]],
              choice["setting_model"]: candidate_variants()[choice["setting_model"]]}
    runs = {k: run_england_backtest(age, setting, origins=origins, variants=chosen, n_draws=n_draws,
                                    shock_origins=k) for k in SHOCK_ORIGIN_CANDIDATES}
    k, shock_table = select_shock_origins(runs, choice["age_model"], choice["setting_model"])
    choice.update(shock_origins=k, shock_table=shock_table, development=runs[k])
    return choice


def frozen_backtest(age: pd.DataFrame, setting: pd.DataFrame, origins=DEV_ORIGINS, n_draws: int = 1000,
                    seed: int = 0) -> BacktestResult:
    """The backtest with the frozen choice (:mod:`senforecast.models.panel.frozen`); ``origins=HELD_OUT_ORIGINS`` is the held-out score.

    Examples
    --------
    >>> from senforecast.england import load_england_ehcp
    >>> t = load_england_ehcp()
    >>> r = frozen_backtest(t.age, t.setting, origins=[2018], n_draws=100)
    >>> "pooled_share_mean_breaks" in set(r.scores["model"])
    True
    """
    return run_england_backtest(age, setting, origins=origins, variants=FROZEN_VARIANTS, n_draws=n_draws,
                                seed=seed, shock_origins=FROZEN_SHOCK_ORIGINS)

"""Turn a :class:`~senforecast.core.scenarios.Scenario` into the cohort simulation's arrays.

* ``joiner_multiplier`` scales every joiner rate (the number of new plans, not the mix);
* ``RateChange`` scales leaver or mover rates of matching cells (NCY *before* the
  transition) in the years given, or the joiner rates of matching joiner states;
* ``SettingClosure`` makes a setting invalid from a year: its children are routed to valid
  settings and nobody joins or moves into it;
* ``Redirect`` sends a share of the children who would arrive in some settings (movers, and
  optionally joiners and stayers) to another setting at the same NCY and need. A target
  the data do not know (a new base) must be described by a ``ProvisionChange`` in the same
  scenario (its NCY range and designation); its children get the rates of the first setting
  redirected from.

Unknown settings or needs raise :class:`~senforecast.core.errors.SenForecastError` naming them.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...core.errors import SenForecastError
from ...core.provision import parse_designation
from ...core.scenarios import Scenario
from .fit import CohortIndex, CohortParameters
from .states import SettingRule, ValidStates


def _as_tuple(v) -> tuple:
    if v is None:
        return ()
    return tuple(v) if isinstance(v, (tuple, list, set, frozenset)) else (v,)


def check_scenario(scenario: Scenario, index: CohortIndex) -> None:
    """Raise a clear error for settings or needs the model does not know.

    Examples
    --------
    >>> from senforecast import Scenario, SettingClosure
    >>> from senforecast.io.witan import load_witan_demo
    >>> from senforecast.models.cohort.model import CohortModel
    >>> ix = CohortModel(mode="witan").fit(load_witan_demo()).index_
    >>> check_scenario(Scenario("shut", closures=(SettingClosure("XX", 2019),)), ix)
    Traceback (most recent call last):
    ...
    senforecast.core.errors.SenForecastError: scenario 'shut' cannot be applied: SettingClosure setting 'XX' is not a setting in the data. Known settings: A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P, Q, R, S
    """
    known = set(index.settings)
    new = {p.setting for p in scenario.provision_changes}
    problems = []
    for rc in scenario.rate_changes:
        if rc.kind not in ("joiner", "leaver", "mover"):
            problems.append(f"RateChange kind {rc.kind!r} is not one of 'joiner', 'leaver', 'mover'")
        if rc.multiplier < 0:
            problems.append(f"RateChange multiplier {rc.multiplier} is negative")
        for s in _as_tuple(rc.setting):
            if s not in known:
                problems.append(f"RateChange setting {s!r} is not a setting in the data")
        for n in _as_tuple(rc.need):
            if n not in index.needs:
                problems.append(f"RateChange need {n!r} is not a need in the data")
    for c in scenario.closures:
        if c.setting not in known:
            problems.append(f"SettingClosure setting {c.setting!r} is not a setting in the data")
    for r in scenario.redirects:
        for s in _as_tuple(r.from_settings):
            if s not in known:
                problems.append(f"Redirect from setting {s!r} is not a setting in the data")
        if r.to_setting not in known and r.to_setting not in new:
            problems.append(f"Redirect target {r.to_setting!r} is not a setting in the data; describe a "
                            "new base with a ProvisionChange (min_ncy, max_ncy, designation) in the scenario")
        if not 0 <= r.share <= 1:
            problems.append(f"Redirect share {r.share} must be between 0 and 1")
    if scenario.joiner_multiplier < 0:
        problems.append(f"joiner_multiplier {scenario.joiner_multiplier} is negative")
    if problems:
        raise SenForecastError("scenario " + repr(scenario.name) + " cannot be applied: "
                               + "; ".join(problems) + f". Known settings: {', '.join(index.settings)}")


def add_new_settings(scenario: Scenario, index: CohortIndex, params: CohortParameters,
                     valid_states: ValidStates) -> tuple[CohortIndex, CohortParameters, ValidStates]:
    """Append settings that redirects send children to but the data do not know.

    Each new setting takes its NCY range and designation from the scenario's
    ``ProvisionChange`` for it (else from the first setting redirected from), opens in that
    change's ``from_year``, and its children get the first redirected-from setting's rates;
    nobody moves or joins into it except by the redirect.

    Parameters
    ----------
    scenario : Scenario
        Its ``redirects`` name the targets; a new target needs a ``ProvisionChange``.
    index : CohortIndex
        The fitted model's index.
    params : CohortParameters
        The fitted rates.
    valid_states : ValidStates
        The fitted model's rules.

    Returns
    -------
    index, params, valid_states
        Widened copies with the new settings appended (the inputs themselves when the
        scenario opens nothing new).

    Examples
    --------
    >>> from senforecast.io.witan import load_witan_demo
    >>> from senforecast.models.cohort.fit import count_transitions, fit_witan
    >>> from senforecast.core.scenarios import ProvisionChange, Redirect
    >>> d = load_witan_demo()
    >>> vs = ValidStates.from_provision(d.provision)
    >>> ix = CohortIndex.build(d.transitions, vs)
    >>> params = fit_witan(count_transitions(d.transitions, ix, d.population), ix)
    >>> base = Scenario("new base", redirects=(Redirect("A", "NEW", 0.5),),
    ...                 provision_changes=(ProvisionChange("NEW", 10, 2020, designation="T",
    ...                                                    min_ncy=0, max_ncy=6),))
    >>> ix2, params2, vs2 = add_new_settings(base, ix, params, vs)
    >>> ix2.settings[-1], ix2.n_states - ix.n_states, params2.leaver_alpha.shape == (ix2.n_ncy, ix2.n_states)
    ('NEW', 6, True)
    >>> rule = vs2.rules["NEW"]
    >>> (rule.min_ncy, rule.max_ncy, sorted(rule.needs), rule.opens)
    (0, 6, ['T'], 2020)
    >>> add_new_settings(Scenario(), ix, params, vs)[0] is ix
    True
    """
    known = set(index.settings)
    new: dict[str, str] = {}
    for r in scenario.redirects:
        if r.to_setting not in known and r.to_setting not in new:
            new[r.to_setting] = _as_tuple(r.from_settings)[0]
    if not new:
        return index, params, valid_states
    for code, source in new.items():
        pc = [p for p in scenario.provision_changes if p.setting == code][-1]
        src = valid_states.rules.get(source)
        lo = pc.min_ncy if pc.min_ncy is not None else (src.min_ncy if src else index.ncy_min)
        hi = pc.max_ncy if pc.max_ncy is not None else (src.max_ncy if src else index.ncy_max)
        # a designation the change does not give comes from the setting redirected from
        needs = parse_designation(pc.designation) if pc.designation is not None else (src.needs if src else None)
        opens = pc.from_year if pc.capacity and pc.capacity > 0 else None
        valid_states = valid_states.with_rule(code, SettingRule(int(lo), int(hi), needs, None, "scenario", opens))
    settings = index.settings + list(new)
    src_pos = [index.settings.index(s) for s in new.values()]
    n_need, n_old, A = len(index.needs), len(index.settings), index.n_ncy
    n_set = len(settings)
    need_lab = np.repeat(np.asarray(index.needs, dtype=object), n_set)
    set_lab = np.tile(np.asarray(settings, dtype=object), n_need)
    ncys = index.ncys
    valid = valid_states.is_valid(np.repeat(ncys, len(need_lab)), np.tile(need_lab, A),
                                  np.tile(set_lab, A)).reshape(A, len(need_lab))
    moves = np.ones((n_set, n_set), dtype=bool)
    moves[:n_old, :n_old] = index.moves
    moves[n_old:, :n_old] = index.moves[src_pos]

    def widen(arr: np.ndarray, fill_new_cols: bool = True) -> np.ndarray:
        # arr (..., S_old) -> (..., S_new) with new settings copying their source setting
        lead = arr.shape[:-1]
        r = arr.reshape(*lead, n_need, n_old)
        extra = r[..., src_pos] if fill_new_cols else np.zeros((*lead, n_need, len(src_pos)))
        return np.concatenate([r, extra], axis=-1).reshape(*lead, n_need * n_set)

    dest = params.destination_alpha  # (A, S, S)
    dest = widen(dest, fill_new_cols=False)  # nobody chooses the new base by themselves
    dest = np.swapaxes(widen(np.swapaxes(dest, 1, 2)), 1, 2)  # new-base children move like the source's
    new_params = replace(
        params,
        leaver_alpha=widen(params.leaver_alpha), leaver_beta=widen(params.leaver_beta),
        mover_alpha=widen(params.mover_alpha), mover_beta=widen(params.mover_beta),
        destination_alpha=dest,
        joiner_state_alpha=widen(params.joiner_state_alpha, fill_new_cols=False),
    )
    return CohortIndex(index.needs, settings, index.ncy_min, index.ncy_max, valid, moves), new_params, valid_states


def scenario_arrays(scenario: Scenario, index: CohortIndex, years: np.ndarray, cell_ncy: np.ndarray,
                    cell_state: np.ndarray, join_state: np.ndarray, lut: np.ndarray) -> dict:
    """Per-year multipliers, closure masks and redirect cell pairs for the simulation.

    Parameters
    ----------
    scenario : Scenario
        Checked already (:func:`check_scenario`), new settings added (:func:`add_new_settings`).
    index : CohortIndex
        Labels of the states.
    years : numpy.ndarray
        ``(Y,)`` projected census years.
    cell_ncy, cell_state : numpy.ndarray
        ``(C,)`` NCY position and state of each simulation cell.
    join_state : numpy.ndarray
        ``(A, Kj)`` states joiners can join at each NCY (-1 padding).
    lut : numpy.ndarray
        ``(A, S)`` cell of each (NCY position, state), -1 if none.

    Returns
    -------
    dict
        ``leaver_mult, mover_mult`` ``(Y, C)``, ``joiner_mult`` ``(Y, A)``, ``joiner_weight``
        ``(Y, A, Kj)``, ``closed`` ``(Y, C)`` bool and ``redirects`` (per year, a list of
        ``(from_cells, to_cells, share, include_joiners, include_stayers)``), as
        :class:`~senforecast.models.cohort.sim.SimPlan` takes them.

    Examples
    --------
    One need, a mainstream (MS) and a special school (SS) at NCYs 0 and 1, four cells:

    >>> from senforecast.core.scenarios import RateChange, SettingClosure
    >>> ix = CohortIndex(["ASD"], ["MS", "SS"], 0, 1, np.ones((2, 2), bool), np.ones((2, 2), bool))
    >>> cell_ncy, cell_state = np.nonzero(ix.valid)
    >>> lut = np.arange(4).reshape(2, 2)
    >>> sc = Scenario("x", rate_changes=(RateChange("leaver", 2.0, setting="SS"),),
    ...               closures=(SettingClosure("MS", 2026),))
    >>> a = scenario_arrays(sc, ix, np.array([2025, 2026]), cell_ncy, cell_state,
    ...                     np.array([[0, 1], [0, 1]]), lut)
    >>> a["leaver_mult"][0].tolist(), a["closed"].tolist()
    ([1.0, 2.0, 1.0, 2.0], [[False, False, False, False], [True, False, True, False]])
    """
    Y, C = len(years), len(cell_ncy)
    A = index.n_ncy
    n_set = len(index.settings)
    s_need = np.asarray(index.needs, dtype=object)[cell_state // n_set]
    s_set = np.asarray(index.settings, dtype=object)[cell_state % n_set]
    ncy = cell_ncy + index.ncy_min
    leaver = np.ones((Y, C))
    mover = np.ones((Y, C))
    joiner = np.full((Y, A), float(scenario.joiner_multiplier))
    j_ok = join_state >= 0
    j_need = np.where(j_ok, np.asarray(index.needs, dtype=object)[np.where(j_ok, join_state, 0) // n_set], None)
    j_set = np.where(j_ok, np.asarray(index.settings, dtype=object)[np.where(j_ok, join_state, 0) % n_set], None)
    j_weight = np.ones((Y,) + join_state.shape)

    def in_years(first, last) -> np.ndarray:
        return (years >= (first if first is not None else -10**9)) & (years <= (last if last is not None else 10**9))

    for rc in scenario.rate_changes:
        yrs = in_years(rc.from_year, rc.to_year)
        needs, sets, ncys = _as_tuple(rc.need), _as_tuple(rc.setting), _as_tuple(rc.ncy)
        if rc.kind in ("leaver", "mover"):
            m = np.ones(C, bool)
            if needs:
                m &= np.isin(s_need, needs)
            if sets:
                m &= np.isin(s_set, sets)
            if ncys:
                m &= np.isin(ncy, ncys)
            target = leaver if rc.kind == "leaver" else mover
            target[np.ix_(yrs, m)] *= rc.multiplier
        else:
            m = j_ok.copy()
            if needs:
                m &= np.isin(j_need, needs)
            if sets:
                m &= np.isin(j_set, sets)
            if ncys:  # joiners' NCY before the transition is their NCY after minus one
                m &= np.isin(index.ncys - 1, ncys)[:, None]
            j_weight[yrs] = np.where(m[None], j_weight[yrs] * rc.multiplier, j_weight[yrs])

    closed = np.zeros((Y, C), dtype=bool)
    for c in scenario.closures:
        closed |= (years >= c.from_year)[:, None] & (s_set == c.setting)[None, :]

    redirects: list[list] = [[] for _ in range(Y)]
    for r in scenario.redirects:
        sets = _as_tuple(r.from_settings)
        m = np.isin(s_set, sets)
        if r.ncy is not None:
            m &= np.isin(ncy, _as_tuple(r.ncy))
        from_cells = np.flatnonzero(m)
        to_state = (cell_state[from_cells] // n_set) * n_set + index.settings.index(r.to_setting)
        to_cells = lut[cell_ncy[from_cells], to_state]
        keep = to_cells >= 0
        from_cells, to_cells = from_cells[keep], to_cells[keep]
        for yi, year in enumerate(years):
            if r.from_year is None or year >= r.from_year:
                redirects[yi].append((from_cells, to_cells, float(r.share), r.include_joiners, r.include_stayers))
    return {"leaver_mult": leaver, "mover_mult": mover, "joiner_mult": joiner, "joiner_weight": j_weight,
            "closed": closed, "redirects": redirects}

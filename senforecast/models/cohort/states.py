"""Valid states of the cohort model: which settings take which needs at which NCY, and moves.

A state is (need, setting) at an NCY. A setting is valid for a child when the child's NCY is
in the setting's range and the setting's designation includes the child's need. A child may
move from a setting only to the settings in its ``moves_to`` list (default: any setting).
The rules come from the provision register (``min_ncy, max_ncy, designation`` and an optional
``moves_to`` column, as written by :func:`senforecast.io.witan.read_witan_valid_states`) and,
for settings the register does not list (mainstream schools, say), from the NCY range seen in
the data with every need allowed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...core.data import NO_PLAN
from ...core.errors import InputValidationError, Problem
from ...core.provision import parse_designation, parse_moves_to


@dataclass(frozen=True)
class SettingRule:
    """NCY range, needs taken (None = all) and allowed destinations (None = all) of a setting.

    Attributes
    ----------
    min_ncy, max_ncy : int
        NCY range the setting takes (inclusive).
    needs : frozenset of str or None
        Need codes it is designated for (None: every need).
    moves_to : frozenset of str or None
        Settings its children may move to (None: any setting).
    source : str
        Where the rule came from (``"provision"``, ``"observed"`` in the data, ``"scenario"``).
    opens, closes : int or None
        First census year it takes children, and first year it is closed (None: always
        open, never closed).

    Examples
    --------
    >>> rule = SettingRule(0, 6, needs=frozenset({"ASD"}), opens=2027)
    >>> rule.is_open(np.array([2026, 2027, 2030])).tolist()
    [False, True, True]
    >>> SettingRule(0, 14, closes=2028).is_open(np.array([2027, 2028])).tolist()
    [True, False]
    """

    min_ncy: int
    max_ncy: int
    needs: frozenset[str] | None = None
    moves_to: frozenset[str] | None = None
    source: str = "provision"
    opens: int | None = None  # first census year it takes children (None: always)
    closes: int | None = None  # first census year it is closed (None: never)

    def is_open(self, years: np.ndarray) -> np.ndarray:
        """Is the setting open in each census year?"""
        years = np.asarray(years)
        ok = np.ones(years.shape, dtype=bool)
        if self.opens is not None:
            ok &= years >= self.opens
        if self.closes is not None:
            ok &= years < self.closes
        return ok


class ValidStates:
    """Rules saying which (NCY, need, setting) states are valid and which moves are allowed.

    Parameters
    ----------
    rules : mapping of setting code to :class:`SettingRule`

    Examples
    --------
    >>> prov = pd.DataFrame({"setting": ["RB1", "SS1"], "min_ncy": [0, 0], "max_ncy": [6, 14],
    ...                      "designation": ["ASD", "*"]})
    >>> vs = ValidStates.from_provision(prov)
    >>> vs.is_valid([3, 3, 9], ["ASD", "SLD", "SLD"], ["RB1", "RB1", "SS1"]).tolist()
    [True, False, True]
    """

    def __init__(self, rules: dict[str, SettingRule]):
        self.rules = dict(rules)

    def __repr__(self) -> str:
        return f"ValidStates({len(self.rules)} settings)"

    @property
    def settings(self) -> list[str]:
        """Setting codes with a rule, sorted."""
        return sorted(self.rules)

    @classmethod
    def from_provision(cls, provision: pd.DataFrame, source: str = "provision") -> "ValidStates":
        """Rules from a provision register (rows of one setting are combined).

        A setting with several capacity periods takes the widest NCY range and the union of
        its designations (parsed by :func:`senforecast.core.provision.parse_designation`);
        ``moves_to`` (optional column) lists allowed destinations. ``provision`` may be a
        :class:`~senforecast.core.provision.ProvisionRegister` or a DataFrame with at least
        ``setting, min_ncy, max_ncy``.

        Examples
        --------
        >>> prov = pd.DataFrame({"setting": ["RB1", "RB1"], "min_ncy": [0, 0], "max_ncy": [6, 6],
        ...                      "designation": ["ASD", "SLD"], "moves_to": ["MS", "MS;SS"]})
        >>> r = ValidStates.from_provision(prov).rules["RB1"]
        >>> sorted(r.needs), sorted(r.moves_to)
        (['ASD', 'SLD'], ['MS', 'SS'])
        """
        provision = getattr(provision, "table", provision)  # a ProvisionRegister or its table
        missing = [c for c in ("setting", "min_ncy", "max_ncy") if c not in provision.columns]
        if missing:
            raise InputValidationError([Problem(source, None, c, "needed to know which NCYs a setting takes")
                                        for c in missing])
        rules: dict[str, SettingRule] = {}
        for setting, rows in provision.groupby("setting", sort=True):
            lo, hi = pd.to_numeric(rows["min_ncy"]), pd.to_numeric(rows["max_ncy"])
            if lo.isna().any() or hi.isna().any():
                raise InputValidationError([Problem(source, None, "min_ncy",
                                                    f"setting {setting!r} has no NCY range")])
            needs: frozenset[str] | None = frozenset()
            for d in rows["designation"] if "designation" in rows else [None]:
                s = parse_designation(d)
                needs = None if (s is None or needs is None) else needs | s
            moves: frozenset[str] | None = frozenset()
            for m in rows["moves_to"] if "moves_to" in rows else [None]:
                s = parse_moves_to(m)
                moves = None if (s is None or moves is None) else moves | s
            opens = pd.to_numeric(rows["opens"], errors="coerce") if "opens" in rows else pd.Series([np.nan])
            closes = pd.to_numeric(rows["closes"], errors="coerce") if "closes" in rows else pd.Series([np.nan])
            # open from the earliest period's opening (NA: always) to the latest closing (NA: never)
            first = None if opens.isna().any() else int(opens.min())
            last = None if closes.isna().any() else int(closes.max())
            rules[str(setting)] = SettingRule(int(lo.min()), int(hi.max()), needs, moves, source, first, last)
        return cls(rules)

    @classmethod
    def from_transitions(cls, transitions: pd.DataFrame) -> "ValidStates":
        """Rules seen in the data: each setting's observed NCY range, all needs, all moves.

        Examples
        --------
        >>> t = pd.DataFrame({"ncy_from": [3, 4], "setting_from": ["MS", NO_PLAN],
        ...                   "ncy_to": [4, 5], "setting_to": ["MS", "MS"]})
        >>> r = ValidStates.from_transitions(t).rules["MS"]
        >>> r.min_ncy, r.max_ncy, r.needs
        (3, 5, None)
        """
        return cls({}).with_observed(transitions)

    def with_observed(self, transitions: pd.DataFrame) -> "ValidStates":
        """Add a rule for every setting in ``transitions`` that has none (observed NCY range)."""
        sides = []
        for side in ("from", "to"):
            s = transitions[[f"setting_{side}", f"ncy_{side}"]]
            s.columns = ["setting", "ncy"]
            sides.append(s[s["setting"] != NO_PLAN])
        both = pd.concat(sides)
        rules = dict(self.rules)
        for setting, ncy in both.groupby("setting")["ncy"]:
            if setting not in rules:
                rules[str(setting)] = SettingRule(int(ncy.min()), int(ncy.max()), None, None, "observed")
        return ValidStates(rules)

    def with_rule(self, setting: str, rule: SettingRule) -> "ValidStates":
        """A copy with ``setting``'s rule set (e.g. a new base from a scenario)."""
        rules = dict(self.rules)
        rules[setting] = rule
        return ValidStates(rules)

    def is_valid(self, ncy, need, setting) -> np.ndarray:
        """Vectorised: is each (ncy, need, setting) a valid state? Unknown settings are not."""
        ncy = np.asarray(ncy)
        need = np.asarray(need, dtype=object)
        setting = np.asarray(setting, dtype=object)
        out = np.zeros(ncy.shape, dtype=bool)
        for code, rule in self.rules.items():
            m = setting == code
            if not m.any():
                continue
            ok = (ncy >= rule.min_ncy) & (ncy <= rule.max_ncy)
            if rule.needs is not None:
                ok &= np.isin(need, list(rule.needs))
            out |= m & ok
        return out

    def move_matrix(self, settings: list[str]) -> np.ndarray:
        """Boolean matrix ``[i, j]``: may a child move from ``settings[i]`` to ``settings[j]``.

        Examples
        --------
        >>> prov = pd.DataFrame({"setting": ["A", "B"], "min_ncy": 0, "max_ncy": 6, "moves_to": ["B", "*"]})
        >>> ValidStates.from_provision(prov).move_matrix(["A", "B"]).tolist()
        [[False, True], [True, True]]
        """
        n = len(settings)
        out = np.ones((n, n), dtype=bool)
        for i, code in enumerate(settings):
            rule = self.rules.get(code)
            if rule is not None and rule.moves_to is not None:
                out[i] = np.isin(np.asarray(settings, dtype=object), list(rule.moves_to))
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per setting: ``setting, min_ncy, max_ncy, needs, moves_to, source``."""
        rows = [{"setting": k, "min_ncy": r.min_ncy, "max_ncy": r.max_ncy,
                 "needs": "*" if r.needs is None else ";".join(sorted(r.needs)),
                 "moves_to": "*" if r.moves_to is None else ";".join(sorted(r.moves_to)),
                 "source": r.source} for k, r in sorted(self.rules.items())]
        return pd.DataFrame(rows)

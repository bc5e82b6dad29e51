"""Run settings for the one-command pipeline, read from a TOML file.

A config names the input files, the need-code scheme, the model, horizon, draws and seed,
the scenarios to compare, the backtest and the output options. Relative paths are relative
to the config file. ``examples/config.toml`` in the repository is a complete example that
points at the bundled demo CSVs::

    name = "My authority"

    [inputs]
    plans = "data/plans.csv"          # plans, population, provision, census, placements, costs
    population = "data/population.xlsx"
    provision = "data/provision.csv"
    need_scheme = "wales_plasc"       # or "england_sen2"
    series = "ehcp_equivalent"        # with a plan_type column: statement or LA IDP ("all": every type)

    [inputs.columns.plans]            # optional: header in your file = canonical name
    "UPN (pseudonymised)" = "pupil_id"

    [model]
    kind = "cohort"                   # "cohort" or "prevalence"
    horizon = 10
    draws = 1000
    seed = 1

    [[scenarios]]
    name = "New primary ASD base"
    [[scenarios.provision_changes]]
    setting = "RB-NEW"
    capacity = 12
    from_year = 2028
    kind = "resource_base"
    area = "North"
    designation = "ASD"
    min_ncy = 0
    max_ncy = 6

    [costs]                           # optional
    inflation = 0.02                  # cash figures add 2% a year
    base_year = 2025                  # price base of the costs (default: the last census)

Unknown keys are errors (a typo would otherwise be ignored silently). Every value is checked
when the file is read, before any input is read or anything computed, by the rules in
:data:`RULES`; the command-line options (``--draws``, ``--seed``, ``--suppress-below`` ...) and
:meth:`Config.replace` go through the same rules, so ``--draws 1`` is refused like
``draws = 1``. Scenario parts are checked against the types of their fields. A config saved in
another encoding than UTF-8 is an error naming the line.
"""
from __future__ import annotations

import dataclasses
import inspect
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..core.codes import SETTING_KINDS, get_scheme
from ..core.data import SERIES
from ..core.errors import SenForecastError
from ..core.scenarios import ProvisionChange, RateChange, Redirect, Scenario, SettingClosure
from ..core.schema import YEAR_MAX, YEAR_MIN
from ..datasets.demo import DEMO_NAME, DEMO_TABLES, demo_dir
from ..models import registry
from ..models.cohort.model import CohortModel
from ..models.prevalence import PrevalenceModel

TABLES: tuple[str, ...] = ("plans", "population", "provision", "census", "placements", "costs")
"""Input tables a config may name."""

MODELS: tuple[str, ...] = (CohortModel.alias, PrevalenceModel.alias)
"""Registry aliases of the models a run can use (those the report describes)."""

CHART_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")


class ConfigError(SenForecastError):
    """A run configuration is missing something or has a value that cannot be used.

    The message names the config file (or ``"config"`` for a dict), the section and the
    setting, and says what is allowed.

    Examples
    --------
    >>> try:
    ...     config_from_dict({"name": "Anyshire", "inputs": {"plans": "plans.csv"}, "horzon": 5})
    ... except ConfigError as err:
    ...     print(str(err).split(";")[0])
    config: unknown key(s) ['horzon'] in the top level
    """


@dataclass(frozen=True)
class Config:
    """Everything one pipeline run needs.

    Parameters
    ----------
    name : str
        Authority name, shown in the report.
    inputs : dict of str to Path
        Input table -> file (any of :data:`TABLES`; ``plans`` or ``census`` is required).
    need_scheme : str, optional
        Need-code scheme of the inputs (``senforecast.core.codes.get_scheme``).
    columns : dict, optional
        Header mapping for the readers (see :func:`senforecast.io.read_local_area`).
    series : {"ehcp_equivalent", "all"}
        When the plans have a ``plan_type`` column (Welsh plan types): forecast statements and
        LA-maintained IDPs, the EHC-plan equivalent (default), or every plan type
        (:meth:`senforecast.core.data.LocalAreaData.select_series`). Ignored without that column.
    model : {"cohort", "prevalence"}
        Which model projects demand.
    model_options : dict
        Keyword arguments for the model class (e.g. ``{"mode": "witan"}``).
    horizon : int
        Years to project after the last census.
    draws : int
        Simulation draws (more draws: smoother intervals, slower run).
    seed : int
        Random seed; the same config and seed reproduce the same numbers.
    confidence : float
        Width of the gap intervals (0.9: 5th to 95th percentile).
    kinds : dict of str to str
        Setting kind overrides for the gap analysis (e.g. ``{"OLA-MS": "mainstream"}``).
    ooc_placements : {"reallocate", "stay"}
        ``"reallocate"`` (default, the planning view): everyone needing a specialist place,
        including children now out of county, is offered a suitable local place first, so
        out-of-county numbers count only those local places cannot take (in the first projected
        year this can be far below today's out-of-county count). ``"stay"``: children the model
        projects out of county stay there (placements continue) and local demand that does not
        fit joins them; a new base then changes nothing unless a scenario also redirects
        children into it.
    specialist_share : float, optional
        For a model without settings (prevalence): the share of children with a plan who need
        a specialist place. Default: none; the projected children are split into settings by
        each need and phase's setting mix of the last censuses
        (:class:`~senforecast.models.setting_split.SettingSplit`; needs plans).
    scenarios : tuple of Scenario
        Compared with the baseline (which is always run).
    backtest : bool
        Score the model on held-out past censuses.
    backtest_horizons : tuple of int
    backtest_draws : int
    backtest_origins : tuple of int, optional
        Default: the last three possible origins.
    suppress_below : float, optional
        Published tables show counts below this as ``"<N"`` (with secondary suppression).
    round_to : int, optional
        Round published counts to this base.
    chart_formats : tuple of str
        Files written per chart (``png``, ``svg``).
    inflation : float
        ``[costs] inflation``: yearly inflation for cash cost figures (default 0.02, 2% a
        year); real-terms figures are at the prices of ``cost_base_year``.
    cost_base_year : int, optional
        ``[costs] base_year``: the price base of the costs given (default: the last census year).
    base_dir : Path
        Folder relative paths were resolved against.

    Examples
    --------
    >>> c = config_from_dict({"inputs": {"plans": "p.csv"}, "model": {"draws": 200}}, base_dir="/tmp")
    >>> c.model, c.draws, str(c.inputs["plans"])
    ('cohort', 200, '/tmp/p.csv')
    """

    name: str = "local authority"
    inputs: Mapping[str, Path] = field(default_factory=dict)
    need_scheme: str | None = None
    columns: Mapping[str, Any] | None = None
    series: str = "ehcp_equivalent"
    model: str = "cohort"
    model_options: Mapping[str, Any] = field(default_factory=dict)
    horizon: int = 10
    draws: int = 1000
    seed: int = 1
    confidence: float = 0.9
    kinds: Mapping[str, str] = field(default_factory=dict)
    ooc_placements: str = "reallocate"
    specialist_share: float | None = None
    scenarios: tuple[Scenario, ...] = ()
    backtest: bool = True
    backtest_horizons: tuple[int, ...] = (1, 2, 3)
    backtest_draws: int = 200
    backtest_origins: tuple[int, ...] | None = None
    suppress_below: float | None = None
    round_to: int | None = None
    chart_formats: tuple[str, ...] = ("png", "svg")
    inflation: float = 0.02
    cost_base_year: int | None = None
    base_dir: Path = Path(".")

    def replace(self, *, labels: Mapping[str, str] | None = None, **changes: Any) -> "Config":
        """A copy with some settings changed (e.g. ``config.replace(draws=200)``).

        The new values go through the checks of the config file (:func:`check_setting`): the
        command line's ``--draws 1`` is refused like ``draws = 1`` in the file. ``labels``
        says how each changed setting was given (e.g. ``{"draws": "--draws"}``), for messages.

        Examples
        --------
        >>> demo_config().replace(draws=200).draws
        200
        >>> try:
        ...     demo_config().replace(suppress_below=float("nan"), labels={"suppress_below": "--suppress-below"})
        ... except ConfigError as err:
        ...     print(str(err)[:57])
        --suppress-below must be a whole number of at least 2: co
        """
        known = {f.name for f in fields(self)}
        bad = sorted(set(changes) - known)
        if bad:
            raise ConfigError(f"unknown config setting(s) {bad}; settings are {sorted(known)}")
        labels = dict(labels or {})
        for name in changes:
            if name in RULES:
                changes[name] = check_setting(name, changes[name], labels.get(name))
        new = replace(self, **changes)
        if "model" in changes or "model_options" in changes:
            _check_model_options(new.model, new.model_options,
                                 labels.get("model_options", "model_options"))
        return new


# ------------------------------------------------------------------------------ validation
# One validator for every way a setting arrives: a TOML file, a dict, a command-line option
# (``--draws``) or Config.replace(). Each rule takes the value and a label saying where it came
# from, and returns the value to store or raises ConfigError.

HORIZON_WARN = 15
"""Projections longer than this many years get a warning (see :func:`config_warnings`)."""

DRAWS_MIN, DRAWS_MAX = 10, 100_000
SEED_MAX = 2**63 - 1


def _is_whole(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


def _whole(low: int, high: int | None = None, why: str = "") -> Callable[[Any, str], int]:
    def check(value: Any, label: str) -> int:
        if not _is_whole(value) or value < low or (high is not None and value > high):
            span = f"from {low:,} to {high:,}" if high is not None else f"of at least {low:,}"
            raise ConfigError(f"{label} must be a whole number {span}{why} (found {value!r})")
        return int(value)
    return check


def _text(value: Any, label: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{label} must be text in quotes, e.g. \"North\" (found {value!r})")
    return value


def _one_of(options: Sequence[str]) -> Callable[[Any, str], str]:
    def check(value: Any, label: str) -> str:
        if value not in options:
            raise ConfigError(f"{label} must be one of {', '.join(map(repr, options))} (found {value!r})")
        return str(value)
    return check


def _flag(value: Any, label: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{label} must be true or false, without quotes (found {value!r})")
    return value


def _confidence(value: Any, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ConfigError(f"{label} must be between 0 and 1, e.g. 0.9 (found {value!r})")
    return float(value)


def _share(value: Any, label: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigError(f"{label} must be a share between 0 and 1, e.g. 0.25 (found {value!r})")
    return float(value)


def _suppress_below(value: Any, label: str) -> int | None:
    if value is None:
        return None
    if not _is_whole(value) or value < 2:
        raise ConfigError(f"{label} must be a whole number of at least 2: counts from 1 to one less "
                          f"are hidden, e.g. 5 hides 1 to 4 (found {value!r})")
    return int(value)


def _round_to(value: Any, label: str) -> int | None:
    if value is None:
        return None
    if not _is_whole(value) or value < 1:
        raise ConfigError(f"{label} must be a whole number of at least 1: counts are rounded to a "
                          f"multiple of it, e.g. 5 (found {value!r})")
    return int(value)


def _list_of(item: Callable[[Any, str], Any], *, empty: bool = True) -> Callable[[Any, str], tuple]:
    def check(value: Any, label: str) -> tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{label} must be a list in square brackets, e.g. [1, 2, 3] (found {value!r})")
        if not empty and not value:
            raise ConfigError(f"{label} must list at least one value")
        return tuple(item(v, f"{label} (each value)") for v in value)
    return check


def _origins(value: Any, label: str) -> tuple[int, ...] | None:
    if value is None:
        return None
    return _list_of(_whole(YEAR_MIN, YEAR_MAX, " (a census year)"), empty=False)(value, label)


def _chart_formats(value: Any, label: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or any(not isinstance(v, str) for v in value) \
            or any(v not in CHART_FORMATS for v in value):
        raise ConfigError(f"{label} can be png, svg, pdf, as a list such as [\"png\", \"svg\"] "
                          f"(found {value!r})")
    return tuple(value)


def _kinds(value: Any, label: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{label} must be a table of setting = kind, e.g. "
                          f"{{ \"OLA-MS\" = \"mainstream\" }} (found {value!r})")
    bad = {k: v for k, v in value.items() if v not in SETTING_KINDS}
    if bad:
        raise ConfigError(f"{label}: {', '.join(f'{k} = {v!r}' for k, v in bad.items())} "
                          f"{'is not a setting kind' if len(bad) == 1 else 'are not setting kinds'}; "
                          f"use one of {', '.join(SETTING_KINDS)}")
    return {str(k): str(v) for k, v in value.items()}


def _need_scheme(value: Any, label: str) -> str | tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    if not isinstance(value, str):
        raise ConfigError(f"{label} must name a need-code scheme, e.g. \"wales_plasc\", or list the "
                          f"codes (found {value!r})")
    try:
        get_scheme(value)
    except SenForecastError as exc:
        raise ConfigError(f"{label}: {exc}") from None
    return value


def _columns(value: Any, label: str) -> Mapping[str, Any] | None:
    if value is None:
        return None
    ok = isinstance(value, Mapping) and all(
        isinstance(v, str) or (isinstance(v, Mapping) and all(isinstance(x, str) for x in v.values()))
        for v in value.values())
    if not ok:
        raise ConfigError(f"{label} must map headers to column names, e.g. \"UPN\" = \"pupil_id\", "
                          f"in a table such as [inputs.columns.plans] (found {value!r})")
    return value


def _options(value: Any, label: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{label} must be a table such as {{ mode = \"witan\" }} (found {value!r})")
    return dict(value)


def _series(value: Any, label: str) -> str:
    if not isinstance(value, str) or value not in SERIES:
        raise ConfigError(f"{label} must be one of {list(SERIES)} (found {value!r}): \"ehcp_equivalent\" "
                          "forecasts statements and LA-maintained IDPs, \"all\" every plan type")
    return str(value)


def _inflation(value: Any, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -0.5 < value < 0.5:
        raise ConfigError(f"{label} must be a yearly rate such as 0.02 (2% a year), between -0.5 and 0.5 "
                          f"(found {value!r})")
    return float(value)


def _cost_base_year(value: Any, label: str) -> int | None:
    if value is None:
        return None
    return _whole(YEAR_MIN, YEAR_MAX, " (a census year)")(value, label)


@dataclass(frozen=True)
class _Rule:
    section: str | None  # TOML section; None: the top level
    key: str  # TOML key
    option: str | None  # command-line option
    check: Callable[[Any, str], Any]


RULES: dict[str, _Rule] = {
    "name": _Rule(None, "name", None, _text),
    "need_scheme": _Rule("inputs", "need_scheme", None, _need_scheme),
    "columns": _Rule("inputs", "columns", None, _columns),
    "model": _Rule("model", "kind", None, _one_of(MODELS)),
    "model_options": _Rule("model", "options", None, _options),
    "horizon": _Rule("model", "horizon", "--horizon", _whole(1)),
    "draws": _Rule("model", "draws", "--draws",
                   _whole(DRAWS_MIN, DRAWS_MAX, ": fewer draws cannot give 5%-95% intervals")),
    "seed": _Rule("model", "seed", "--seed", _whole(0, SEED_MAX)),
    "confidence": _Rule("gap", "confidence", None, _confidence),
    "kinds": _Rule("gap", "kinds", None, _kinds),
    "ooc_placements": _Rule("gap", "ooc_placements", None, _one_of(("reallocate", "stay"))),
    "specialist_share": _Rule("gap", "specialist_share", None, _share),
    "backtest": _Rule("backtest", "enabled", "--no-backtest", _flag),
    "backtest_horizons": _Rule("backtest", "horizons", None,
                               _list_of(_whole(1, why=" (years ahead)"), empty=False)),
    "backtest_draws": _Rule("backtest", "draws", "--backtest-draws",
                            _whole(DRAWS_MIN, DRAWS_MAX, ": fewer draws cannot give 5%-95% intervals")),
    "backtest_origins": _Rule("backtest", "origins", None, _origins),
    "suppress_below": _Rule("output", "suppress_below", "--suppress-below", _suppress_below),
    "round_to": _Rule("output", "round_to", None, _round_to),
    "chart_formats": _Rule("output", "chart_formats", None, _chart_formats),
    "series": _Rule("inputs", "series", None, _series),
    "inflation": _Rule("costs", "inflation", None, _inflation),
    "cost_base_year": _Rule("costs", "base_year", None, _cost_base_year),
}
"""How each checked :class:`Config` setting is written in the TOML file (section, key), on the
command line (option), and the check that every route goes through."""


def _label(name: str, source: str | None = None) -> str:
    """Where a setting came from: ``"run.toml: [model] draws"``, ``"--draws"`` or ``"draws"``."""
    rule = RULES[name]
    if source is None:
        return rule.option if rule.option else name
    where = f"[{rule.section}] {rule.key}" if rule.section else rule.key
    return f"{source}: {where}"


def check_setting(name: str, value: Any, label: str | None = None) -> Any:
    """Check one setting's value by the rule that the config file and the command line share.

    Parameters
    ----------
    name : str
        A :class:`Config` field with a rule in :data:`RULES`.
    value : object
        The value as given (TOML value, parsed option, Python object).
    label : str, optional
        Where it came from, for the message (default: the option, e.g. ``--draws``).

    Returns
    -------
    object
        The value to store (e.g. ``5.0`` becomes ``5``).

    Raises
    ------
    ConfigError

    Examples
    --------
    >>> check_setting("suppress_below", 5.0)
    5
    >>> try:
    ...     check_setting("draws", 1)
    ... except ConfigError as err:
    ...     print(err)
    --draws must be a whole number from 10 to 100,000: fewer draws cannot give 5%-95% intervals (found 1)
    """
    return RULES[name].check(value, label or _label(name))


def _check_model_options(kind: str, options: Mapping[str, Any], label: str) -> None:
    """Options must be keyword arguments of the model class, of the type of their default,
    and the model must accept them (its own checks run now, not after reading the inputs)."""
    cls = registry.get(kind).cls
    params = {n: p for n, p in inspect.signature(cls.__init__).parameters.items()
              if n != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise ConfigError(f"{label}: unknown option(s) {unknown} for the {kind} model; its options are "
                          f"{', '.join(sorted(params))}")
    for key, value in options.items():
        default = params[key].default
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, (int, float)):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif isinstance(default, str):
            ok = isinstance(value, str)
        else:
            ok = True
        if not ok:
            raise ConfigError(f"{label}: option {key} must be like its default {default!r} "
                              f"(found {value!r})")
    try:
        cls(**options)
    except (SenForecastError, TypeError, ValueError) as exc:
        raise ConfigError(f"{label}: {exc}") from None


def check_config(config: "Config", labels: Mapping[str, str] | None = None) -> "Config":
    """Check every setting of a config by the shared rules; returns it, or raises ConfigError.

    Parameters
    ----------
    config : Config
    labels : dict, optional
        Field -> label for messages (default: the command-line option or field name).

    Examples
    --------
    >>> check_config(demo_config()).draws
    500
    """
    labels = dict(labels or {})
    values = {}
    for name in RULES:
        values[name] = check_setting(name, getattr(config, name), labels.get(name))
    _check_model_options(values["model"], values["model_options"], labels.get("model_options", "model_options"))
    if not isinstance(config.inputs, Mapping) or not all(t in TABLES for t in config.inputs):
        raise ConfigError(f"inputs must map table names ({', '.join(TABLES)}) to files "
                          f"(found {config.inputs!r})")
    if not all(isinstance(s, Scenario) for s in config.scenarios):
        raise ConfigError("scenarios must be a tuple of Scenario objects")
    return replace(config, **values)


def config_warnings(config: "Config") -> list[str]:
    """Settings that are allowed but deserve a word of caution in the report.

    Examples
    --------
    >>> config_warnings(demo_config().replace(horizon=40))[0][:41]
    'a 40-year horizon is long: beyond 15 year'
    >>> config_warnings(demo_config())
    []
    """
    notes = []
    if config.horizon > HORIZON_WARN:
        notes.append(f"a {config.horizon}-year horizon is long: beyond {HORIZON_WARN} years the projection is "
                     "mostly children who are not yet born or not yet known, so it is the population "
                     "projection times rates carried forward, and its interval covers only the model's "
                     "uncertainty, not that of the population projection or of policy. Read the later "
                     "years as a trend, not a forecast")
    return notes


# ------------------------------------------------------------------------------ parsing
_SECTIONS = {
    "name": None,
    "inputs": {*TABLES, "need_scheme", "columns", "series"},
    "model": {"kind", "horizon", "draws", "seed", "options"},
    "gap": {"confidence", "kinds", "specialist_share", "ooc_placements"},
    "scenarios": None,
    "backtest": {"enabled", "horizons", "draws", "origins"},
    "output": {"suppress_below", "round_to", "chart_formats"},
    "costs": {"inflation", "base_year"},
}
_SCENARIO_KEYS = {"name", "description", "joiner_multiplier", "rate_changes", "redirects", "closures",
                  "provision_changes"}
_PARTS = {"rate_changes": RateChange, "redirects": Redirect, "closures": SettingClosure,
          "provision_changes": ProvisionChange}


def _check_keys(where: str, given: Mapping, allowed: set[str], source: str) -> None:
    bad = sorted(set(given) - allowed)
    if bad:
        raise ConfigError(f"{source}: unknown key(s) {bad} in {where}; allowed keys are {sorted(allowed)}")


def _tupled(v: Any) -> Any:
    # TOML arrays are lists; the scenario dataclasses are frozen and expect tuples
    return tuple(v) if isinstance(v, list) else v


def _fits(value: Any, hint: Any) -> bool:
    """Whether a TOML value fits a scenario field's type hint (int, float, str, bool, None,
    Literal, unions and tuple[X, ...] of those)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return _is_whole(value)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if hint is str:
        return isinstance(value, str)
    if origin is typing.Literal:
        return value in args
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if origin is tuple:
        item = args[0] if args else Any
        return isinstance(value, (list, tuple)) and all(_fits(v, item) for v in value)
    return True


def _typed(value: Any, hint: Any) -> Any:
    # a year written 2027.0 fits an int field; store it as the int the models index with
    wants_int = hint is int or int in typing.get_args(hint)
    if wants_int and isinstance(value, float) and _is_whole(value):
        return int(value)
    return value


def _describe_hint(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    names = {int: "a whole number", float: "a number", str: "text in quotes", bool: "true or false"}
    if hint in names:
        return names[hint]
    if origin is typing.Literal:
        return "one of " + ", ".join(map(repr, args))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe_hint(a) for a in args if a is not type(None))
    if origin is tuple:
        return f"a list of {_describe_hint(args[0]).replace('a ', '', 1)}s" if args else "a list"
    return str(hint)


def _scenario_part(cls: type, part: Mapping, where: str) -> Any:
    hints = typing.get_type_hints(cls)
    allowed = [f.name for f in fields(cls)]
    unknown = sorted(set(part) - set(allowed))
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {unknown}; the settings are {allowed}")
    required = [f.name for f in fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    missing = [n for n in required if n not in part]
    if missing:
        raise ConfigError(f"{where}: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing "
                          f"(needed: {', '.join(required)}; the settings are {allowed})")
    for key, value in part.items():
        if not _fits(value, hints[key]):
            raise ConfigError(f"{where}: {key} must be {_describe_hint(hints[key])} (found {value!r})")
    try:
        return cls(**{k: _typed(_tupled(v), hints[k]) for k, v in part.items()})
    except (TypeError, ValueError, SenForecastError) as exc:
        raise ConfigError(f"{where}: {exc}; the settings are {allowed}") from None


def _scenario(raw: Mapping, i: int, source: str) -> Scenario:
    where = f"[[scenarios]] number {i + 1}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: {where} must be a table of settings")
    _check_keys(where, raw, _SCENARIO_KEYS, source)
    if "name" not in raw:
        raise ConfigError(f"{source}: {where} needs a name (e.g. name = \"New ASD base\")")
    name = _text(raw["name"], f"{source}: {where} name")
    kwargs: dict[str, Any] = {"name": name}
    if "description" in raw:
        kwargs["description"] = _text(raw["description"], f"{source}: {where} ({name!r}) description")
    if "joiner_multiplier" in raw:
        m = raw["joiner_multiplier"]
        if isinstance(m, bool) or not isinstance(m, (int, float)) or not 0 <= m < 100:
            raise ConfigError(f"{source}: {where} ({name!r}) joiner_multiplier must be a number such as "
                              f"1.1 for 10% more new plans (found {m!r})")
        kwargs["joiner_multiplier"] = float(m)
    for key, cls in _PARTS.items():
        parts = raw.get(key, [])
        if not isinstance(parts, list) or not all(isinstance(p, Mapping) for p in parts):
            raise ConfigError(f"{source}: {where} ({name!r}) {key} must be written as "
                              f"[[scenarios.{key}]] tables, one per change")
        kwargs[key] = tuple(_scenario_part(cls, part, f"{source}: {where} ({name!r}), {key} number {j + 1}")
                            for j, part in enumerate(parts))
    try:
        return Scenario(**kwargs)
    except (SenForecastError, TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: {where} ({name!r}): {exc}") from None


def config_from_dict(raw: Mapping[str, Any], base_dir: str | Path = ".", *, source: str = "config") -> Config:
    """Build a :class:`Config` from a dict laid out like the TOML file.

    Every setting is checked by the rule in :data:`RULES` (the rule the command-line options
    go through too), so a wrong value or type is a :class:`ConfigError` naming the file,
    section and key before anything is read or computed.

    Parameters
    ----------
    raw : dict
        Sections ``inputs``, ``model``, ``gap``, ``scenarios``, ``backtest``, ``output``.
    base_dir : str or Path
        Folder that relative input paths are relative to.
    source : str
        Name used in error messages (the config file).

    Returns
    -------
    Config

    Examples
    --------
    >>> c = config_from_dict({"inputs": {"census": "c.csv"}, "model": {"kind": "prevalence"},
    ...                       "scenarios": [{"name": "growth", "joiner_multiplier": 1.1}]})
    >>> c.model, [s.name for s in c.scenarios]
    ('prevalence', ['growth'])
    >>> try:
    ...     config_from_dict({"inputs": {"plans": "p.csv"}, "output": {"round_to": -5}}, source="run.toml")
    ... except ConfigError as err:
    ...     print(str(err)[:60])
    run.toml: [output] round_to must be a whole number of at lea
    """
    _check_keys("the top level", raw, set(_SECTIONS), source)
    for sec, allowed in _SECTIONS.items():
        if allowed is not None and sec in raw:
            if not isinstance(raw[sec], Mapping):
                raise ConfigError(f"{source}: [{sec}] must be a table of settings")
            _check_keys(f"[{sec}]", raw[sec], allowed, source)
    base = Path(base_dir)
    inp = dict(raw.get("inputs", {}))
    inputs = {}
    for t in TABLES:
        if t in inp:
            if not isinstance(inp[t], str) or not inp[t].strip():
                raise ConfigError(f"{source}: [inputs] {t} must be a file name in quotes, e.g. "
                                  f"{t} = \"{t}.csv\" (found {inp[t]!r})")
            p = Path(inp[t]).expanduser()
            inputs[t] = p if p.is_absolute() else (base / p)
    if "plans" not in inputs and "census" not in inputs:
        raise ConfigError(f"{source}: [inputs] needs a plans file (one row per child per census) "
                          "or a census file of counts, e.g. plans = \"plans.csv\"")
    defaults = Config()
    values: dict[str, Any] = {}
    for name, rule in RULES.items():
        section = raw if rule.section is None else raw.get(rule.section, {})
        if rule.key in section:
            values[name] = rule.check(section[rule.key], _label(name, source))
        else:
            values[name] = getattr(defaults, name)
    _check_model_options(values["model"], values["model_options"], _label("model_options", source))
    scen_raw = raw.get("scenarios", [])
    if not isinstance(scen_raw, list):
        raise ConfigError(f"{source}: scenarios must be written as [[scenarios]] tables")
    scenarios = tuple(_scenario(s, i, source) for i, s in enumerate(scen_raw))
    names = [s.name for s in scenarios]
    if len(set(names)) < len(names) or "baseline" in names:
        raise ConfigError(f"{source}: scenario names must be different from each other and from "
                          f"'baseline' (found {names})")
    return Config(inputs=inputs, scenarios=scenarios, base_dir=base, **values)


def load_config(path: str | Path) -> Config:
    """Read a TOML run configuration (see the module docstring for the format).

    Parameters
    ----------
    path : str or Path
        The ``.toml`` file. Relative input paths in it are relative to its folder.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        The file is missing, is not valid TOML, or has unknown or unusable settings.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> with open(os.path.join(folder, "run.toml"), "w") as f:
    ...     _ = f.write('name = "North"\\n[inputs]\\nplans = "plans.csv"\\n[model]\\nhorizon = 5\\n')
    >>> c = load_config(os.path.join(folder, "run.toml"))
    >>> c.name, c.horizon, c.inputs["plans"].name
    ('North', 5, 'plans.csv')
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{str(path)!r} is a folder; name the config file in it, e.g. "
                          f"{str(path / 'config.toml')!r}")
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} not found")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"config file {str(path)!r} could not be read ({exc.strerror or exc})") from None
    try:
        raw = tomllib.loads(_config_text(data, path.name))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name} is not valid TOML: {exc}") from None
    return config_from_dict(raw, path.parent, source=path.name)


def _config_text(data: bytes, name: str) -> str:
    """The config's text; TOML files must be UTF-8, so any other encoding is named with its line."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a byte-order mark, as Notepad writes
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        char = data[exc.start:exc.start + 1].decode("cp1252", errors="replace")
        raise ConfigError(f"{name} is not saved as UTF-8: line {line} has the byte "
                          f"0x{data[exc.start]:02x} ({char!r} in the Windows-1252 encoding). TOML files "
                          "must be UTF-8: in Notepad use Save As with Encoding 'UTF-8', in Excel or "
                          "other editors choose 'UTF-8'") from None


def demo_config() -> Config:
    """The run used by ``senforecast demo``: the bundled demo authority, three scenarios.

    ``OLA-MS`` (children in mainstream schools of other authorities) is counted as mainstream:
    those children do not need a specialist place.

    Examples
    --------
    >>> c = demo_config()
    >>> c.need_scheme, [s.name for s in c.scenarios]
    ('wales_plasc', ['New primary ASD base in Aberafon', '10% more new plans a year'])
    """
    folder = demo_dir()
    return Config(
        name=DEMO_NAME,
        inputs={t: folder / f"{t}.csv" for t in DEMO_TABLES},
        need_scheme="wales_plasc",
        model="cohort",
        horizon=10,
        draws=500,
        seed=1,
        kinds={"OLA-MS": "mainstream"},
        scenarios=(
            Scenario("New primary ASD base in Aberafon",
                     description="a 12-place primary (Reception-Year 6) ASD/SLCD resource base in "
                                 "Aberafon from January 2028",
                     provision_changes=(ProvisionChange(
                         "RB-ABR-P2", 12, 2028, name="New Aberafon primary ASD base", kind="resource_base",
                         area="Aberafon", designation="ASD;SLCD", min_ncy=0, max_ncy=6,
                         cost_per_place=21000),)),
            Scenario("10% more new plans a year", joiner_multiplier=1.1,
                     description="new plans (joiners) 10% above the fitted rates every year"),
        ),
        backtest=True,
        backtest_horizons=(1, 2, 3),
        backtest_draws=200,
        base_dir=folder,
    )

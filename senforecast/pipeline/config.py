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

Unknown keys are errors (a typo would otherwise be ignored silently).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from ..core.data import SERIES
from ..core.errors import SenForecastError
from ..core.scenarios import ProvisionChange, RateChange, Redirect, Scenario, SettingClosure
from ..datasets.demo import DEMO_NAME, DEMO_TABLES, demo_dir
from ..models import registry
from ..models.cohort.model import CohortModel
from ..models.prevalence import PrevalenceModel

TABLES: tuple[str, ...] = ("plans", "population", "provision", "census", "placements", "costs")
"""Input tables a config may name."""

MODELS: tuple[str, ...] = (CohortModel.alias, PrevalenceModel.alias)
"""Registry aliases of the models a run can use (those the report describes)."""


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

    def replace(self, **changes: Any) -> "Config":
        """A copy with some settings changed (e.g. ``config.replace(draws=200)``)."""
        known = {f.name for f in fields(self)}
        bad = sorted(set(changes) - known)
        if bad:
            raise ConfigError(f"unknown config setting(s) {bad}; settings are {sorted(known)}")
        return replace(self, **changes)


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


def _ooc_placements(value: Any, source: str) -> str:
    if value not in ("stay", "reallocate"):
        raise ConfigError(f"{source}: [gap] ooc_placements must be \"stay\" or \"reallocate\" (found {value!r})")
    return str(value)


def _check_keys(where: str, given: Mapping, allowed: set[str], source: str) -> None:
    bad = sorted(set(given) - allowed)
    if bad:
        raise ConfigError(f"{source}: unknown key(s) {bad} in {where}; allowed keys are {sorted(allowed)}")


def _tupled(v: Any) -> Any:
    # TOML arrays are lists; the scenario dataclasses are frozen and expect tuples
    return tuple(v) if isinstance(v, list) else v


def _scenario(raw: Mapping, i: int, source: str) -> Scenario:
    where = f"[[scenarios]] number {i + 1}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: {where} must be a table of settings")
    _check_keys(where, raw, _SCENARIO_KEYS, source)
    if "name" not in raw:
        raise ConfigError(f"{source}: {where} needs a name (e.g. name = \"New ASD base\")")
    kwargs: dict[str, Any] = {k: raw[k] for k in ("name", "description", "joiner_multiplier") if k in raw}
    for key, cls in _PARTS.items():
        items = []
        for j, part in enumerate(raw.get(key, [])):
            try:
                items.append(cls(**{k: _tupled(v) for k, v in part.items()}))
            except TypeError as exc:
                allowed = sorted(f.name for f in fields(cls))
                raise ConfigError(f"{source}: {where} ({raw['name']!r}), {key} number {j + 1}: {exc}; "
                                  f"the settings are {allowed}") from None
        kwargs[key] = tuple(items)
    return Scenario(**kwargs)


def _number(value: Any, what: str, source: str, *, low: float, integer: bool = True) -> Any:
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or value < low:
        kind = "a whole number" if integer else "a number"
        raise ConfigError(f"{source}: {what} must be {kind} of at least {low} (found {value!r})")
    return value


def _share(value: Any, source: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigError(f"{source}: [gap] specialist_share must be a share between 0 and 1, e.g. 0.25 "
                          f"(found {value!r})")
    return float(value)


def config_from_dict(raw: Mapping[str, Any], base_dir: str | Path = ".", *, source: str = "config") -> Config:
    """Build a :class:`Config` from a dict laid out like the TOML file.

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
            p = Path(str(inp[t])).expanduser()
            inputs[t] = p if p.is_absolute() else (base / p)
    if "plans" not in inputs and "census" not in inputs:
        raise ConfigError(f"{source}: [inputs] needs a plans file (one row per child per census) "
                          "or a census file of counts, e.g. plans = \"plans.csv\"")
    model = dict(raw.get("model", {}))
    kind = model.get("kind", "cohort")
    if kind not in MODELS:
        raise ConfigError(f"{source}: [model] kind must be one of {list(MODELS)} (found {kind!r})")
    allowed = registry.get(kind).cls._param_names()
    unknown = sorted(set(dict(model.get("options", {}))) - set(allowed))
    if unknown:
        raise ConfigError(f"{source}: [model.options] {unknown} are not options of the {kind} model; "
                          f"its options are {allowed}")
    gap = dict(raw.get("gap", {}))
    bt = dict(raw.get("backtest", {}))
    out = dict(raw.get("output", {}))
    scen_raw = raw.get("scenarios", [])
    if not isinstance(scen_raw, list):
        raise ConfigError(f"{source}: scenarios must be written as [[scenarios]] tables")
    scenarios = tuple(_scenario(s, i, source) for i, s in enumerate(scen_raw))
    names = [s.name for s in scenarios]
    if len(set(names)) < len(names) or "baseline" in names:
        raise ConfigError(f"{source}: scenario names must be different from each other and from "
                          f"'baseline' (found {names})")
    formats = tuple(out.get("chart_formats", ("png", "svg")))
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad:
        raise ConfigError(f"{source}: [output] chart_formats can be png, svg, pdf (found {bad})")
    confidence = gap.get("confidence", 0.9)
    if not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise ConfigError(f"{source}: [gap] confidence must be between 0 and 1, e.g. 0.9 (found {confidence!r})")
    origins = bt.get("origins")
    series = inp.get("series", "ehcp_equivalent")
    if series not in SERIES:
        raise ConfigError(f"{source}: [inputs] series must be one of {list(SERIES)} (found {series!r}): "
                          "\"ehcp_equivalent\" forecasts statements and LA-maintained IDPs, \"all\" every plan type")
    costs = dict(raw.get("costs", {}))
    inflation = costs.get("inflation", 0.02)
    if isinstance(inflation, bool) or not isinstance(inflation, (int, float)) or not -0.5 < inflation < 0.5:
        raise ConfigError(f"{source}: [costs] inflation must be a yearly rate such as 0.02 (2% a year), "
                          f"between -0.5 and 0.5 (found {inflation!r})")
    cost_base_year = costs.get("base_year")
    if cost_base_year is not None:
        cost_base_year = _number(cost_base_year, "[costs] base_year", source, low=1990)
    return Config(
        name=str(raw.get("name", "local authority")),
        inputs=inputs,
        need_scheme=inp.get("need_scheme"),
        columns=inp.get("columns"),
        series=str(series),
        model=kind,
        model_options=dict(model.get("options", {})),
        horizon=_number(model.get("horizon", 10), "[model] horizon", source, low=1),
        draws=_number(model.get("draws", 1000), "[model] draws", source, low=10),
        seed=_number(model.get("seed", 1), "[model] seed", source, low=0),
        confidence=float(confidence),
        kinds=dict(gap.get("kinds", {})),
        ooc_placements=_ooc_placements(gap.get("ooc_placements", "reallocate"), source),
        specialist_share=_share(gap.get("specialist_share"), source),
        scenarios=scenarios,
        backtest=bool(bt.get("enabled", True)),
        backtest_horizons=tuple(bt.get("horizons", (1, 2, 3))),
        backtest_draws=_number(bt.get("draws", 200), "[backtest] draws", source, low=10),
        backtest_origins=tuple(origins) if origins is not None else None,
        suppress_below=out.get("suppress_below"),
        round_to=out.get("round_to"),
        chart_formats=formats,
        inflation=float(inflation),
        cost_base_year=cost_base_year,
        base_dir=base,
    )


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
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} not found")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name} is not valid TOML: {exc}") from None
    return config_from_dict(raw, path.parent, source=path.name)


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

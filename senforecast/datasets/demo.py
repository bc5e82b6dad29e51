"""Bundled datasets: the synthetic Welsh demo authority (and, lazily, the witan.send demo).

The demo CSVs live in the package (``senforecast/datasets/data/demo/``) so they load after a
plain ``pip install``; ``data/make_demo.py`` in the repository regenerates them and
``data/README.md`` says which numbers are published and which are invented.
"""
from __future__ import annotations

import warnings
from importlib import resources
from pathlib import Path

import pandas as pd

from ..core.data import LocalAreaData
from ..core.errors import InputWarning
from ..io import read_local_area
from ..io.witan import load_witan_demo

DEMO_NAME = "Sir Enghraifft (synthetic demo authority)"
DEMO_TABLES: tuple[str, ...] = ("plans", "population", "provision", "costs")
"""Tables of the demo authority, one CSV each."""


def demo_dir() -> Path:
    """Folder holding the demo CSVs (inside the installed package).

    Examples
    --------
    >>> sorted(p.name for p in demo_dir().glob("*.csv"))
    ['costs.csv', 'plans.csv', 'population.csv', 'provision.csv', 'true_parameters.csv']
    """
    return Path(str(resources.files("senforecast.datasets") / "data" / "demo"))


def load_demo(*, quiet: bool = True) -> LocalAreaData:
    """The synthetic Welsh demo authority, read and validated like an analyst's own files.

    Four secondary clusters (areas), plans for every January census 2019-2025 (about 1,900
    to 2,100 children a year, Wales PLASC need codes), a provision register with five resource
    bases, two special schools and out-of-county settings with costs, and population by area
    and NCY for 2019-2036 (2026 on is a projection).

    Parameters
    ----------
    quiet : bool
        Keep input warnings (e.g. the few children held back a year) in ``data.report``
        without printing them.

    Returns
    -------
    LocalAreaData

    Examples
    --------
    >>> d = load_demo()
    >>> sorted(d.plans["year"].unique().tolist())[:2], d.need_scheme
    ([2019, 2020], 'wales_plasc')
    >>> int(d.provision.loc[d.provision["setting"] == "RB-BRY-S", "capacity"].iloc[0])
    55
    """
    folder = demo_dir()
    paths = {t: folder / f"{t}.csv" for t in DEMO_TABLES}
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore", InputWarning)
        data = read_local_area(**paths, need_scheme="wales_plasc", name=DEMO_NAME)
    return data


def load_demo_parameters() -> pd.DataFrame:
    """The true parameters that generated the demo plans (for model-recovery tests).

    Long table ``parameter, year, area, ncy, need, value, description``; see the docstring
    of ``data/make_demo.py`` for the process. ``joiner_rate`` is per head of population in
    ``(year + 1, area, ncy)`` with ``ncy`` the joiner's NCY in the second census;
    ``leaver_prob`` is by ``ncy_from``.

    Examples
    --------
    >>> p = load_demo_parameters()
    >>> p.loc[(p["parameter"] == "leaver_prob") & (p["ncy"] == 13), "value"].item()
    1.0
    """
    t = pd.read_csv(demo_dir() / "true_parameters.csv", dtype={"area": "string", "need": "string"})
    t["year"] = t["year"].astype("Int64")
    t["ncy"] = t["ncy"].astype("Int64")
    return t


def __getattr__(name: str):
    # load_witan_demo is engineer C's (senforecast.io.witan); offered here too for discovery.
    if name == "load_witan_demo":
        return load_witan_demo
    raise AttributeError(f"module 'senforecast.datasets.demo' has no attribute {name!r}")

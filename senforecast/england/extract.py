"""The compact extract of the DfE EHC plans release shipped with senforecast.

``build_extract`` turns the publisher's files into three small CSVs under
``senforecast/datasets/data/england/`` (only the columns the library needs);
``load_england_ehcp`` reads them back, so notebooks and tests need no download.
Source: Department for Education, "Education, health and care plans", reporting year 2022,
Open Government Licence v3.0 (see the README next to the files).
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from ..core.errors import ValidationReport
from .areas import find_code_changes, harmonise_areas
from .reader import EHCPTables, read_ehcp

EXTRACT_FILES = ("areas.csv", "ehcp_age.csv", "ehcp_setting.csv")


def _extract_dir() -> Path:
    return Path(str(resources.files("senforecast.datasets") / "data" / "england"))


def build_extract(*release_files: str | Path, out_dir: str | Path | None = None) -> EHCPTables:
    """Read release files and write the compact extract (areas, age and setting tables).

    Parameters
    ----------
    *release_files : path
        ``sen2_age_caseload.csv``, ``sen2_estab_caseload.csv`` (or a later-layout file).
    out_dir : path, optional
        Where to write; default the package's ``datasets/data/england``.

    Returns
    -------
    EHCPTables
        What was read (with its report).

    Examples
    --------
    A one-authority age file written to a scratch folder (a real run reads the publisher's
    files and writes into the package):

    >>> import os, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> raw = pd.DataFrame({"time_period": ["2021", "2021"], "geographic_level": ["Local authority"] * 2,
    ...     "region_name": ["North East"] * 2, "old_la_code": ["390"] * 2, "new_la_code": ["E08000037"] * 2,
    ...     "la_name": ["Gateshead"] * 2, "characteristic_age": ["Total", "Age 5 to 10"],
    ...     "Total_st": ["z", "z"], "Total_ehc": ["1200", "400"], "Total_all": ["x", "400"]})
    >>> release = os.path.join(tmp.name, "sen2_age_caseload.csv")
    >>> raw.to_csv(release, index=False)
    >>> out = os.path.join(tmp.name, "extract")
    >>> t = build_extract(release, out_dir=out)
    >>> sorted(os.listdir(out)) == sorted(EXTRACT_FILES)
    True
    >>> pd.read_csv(os.path.join(out, "ehcp_age.csv"))["count"].tolist()
    [1200, 400]
    >>> tmp.cleanup()
    """
    tables = read_ehcp(*release_files)
    out = Path(out_dir) if out_dir is not None else _extract_dir()
    out.mkdir(parents=True, exist_ok=True)
    tables.areas.to_csv(out / "areas.csv", index=False)
    for name, frame in (("ehcp_age.csv", tables.age), ("ehcp_setting.csv", tables.setting)):
        f = frame.copy()
        f["count"] = f["count"].round().astype("Int64")  # counts are whole numbers; blank = missing
        f.to_csv(out / name, index=False)
    return tables


def load_england_ehcp(harmonise: bool = True) -> EHCPTables:
    """Plans (statements + EHC plans) for every English authority, January 2010-2022.

    Parameters
    ----------
    harmonise : bool
        True (default): authorities re-expressed on stable areas over the whole period (new
        codes for recoded authorities; merged successors for the 2019 Dorset and 2021
        Northamptonshire reorganisations) and ``la_name``/``region`` columns added. False: the
        codes as published.

    Returns
    -------
    EHCPTables
        ``age`` (year, area, age_group, count), ``setting`` (year, area, setting, count),
        ``areas`` and a report whose ``counts`` include the code changes found.

    Examples
    --------
    >>> t = load_england_ehcp()
    >>> int(t.age.query("year == 2022 and age_group == 'total'")["count"].sum())
    473255
    >>> t.age["area"].nunique()
    150
    """
    d = _extract_dir()
    areas = pd.read_csv(d / "areas.csv", dtype={"old_la_code": str})
    age = pd.read_csv(d / "ehcp_age.csv", dtype={"area": str, "age_group": str})
    setting = pd.read_csv(d / "ehcp_setting.csv", dtype={"area": str, "setting": str})
    for f in (age, setting):
        f["count"] = f["count"].astype(float)
    report = ValidationReport()
    changes = find_code_changes(areas)
    report.count("authority code changes", len(changes))
    if harmonise:
        age = harmonise_areas(age, areas, changes)
        setting = harmonise_areas(setting, areas, changes)
    tables = EHCPTables(age=age, setting=setting, areas=areas, report=report)
    tables.changes = changes  # type: ignore[attr-defined]
    return tables

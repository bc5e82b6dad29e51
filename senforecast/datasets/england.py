"""The compact extract of the DfE EHC plans release shipped with senforecast.

``build_extract`` turns the publisher's files (any layout :func:`read_ehcp` reads: the 2022
release's tidy files, the 2023+ files, a release zip or folder) into small CSVs: always
``areas.csv``, ``ehcp_age.csv`` and ``ehcp_setting.csv``, and, when the files hold them,
``ehcp_single_age.csv``, ``ehcp_need.csv``, ``ehcp_new_age.csv``, ``ehcp_new_setting.csv`` and
``ehcp_new_need.csv``. ``load_england_ehcp`` reads an extract back, so notebooks and tests need
no download. The extract shipped under ``senforecast/datasets/data/england/`` is the
Department for Education's "Education, health and care plans", reporting year 2022, Open
Government Licence v3.0 (see the README next to the files).
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from ..core.errors import ValidationReport
from ..io.england_areas import find_code_changes, harmonise_areas
from ..io.england import EHCPTables, read_ehcp

EXTRACT_FILES = ("areas.csv", "ehcp_age.csv", "ehcp_setting.csv")
"""Files every extract has."""

OPTIONAL_FILES = {"ehcp_single_age.csv": "single_age", "ehcp_need.csv": "need", "ehcp_new_age.csv": "new_age",
                  "ehcp_new_setting.csv": "new_setting", "ehcp_new_need.csv": "new_need"}
"""Files written when the release files hold the table (the 2023+ layout)."""


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
    optional = [(name, getattr(tables, attr)) for name, attr in OPTIONAL_FILES.items()]
    for name, frame in [("ehcp_age.csv", tables.age), ("ehcp_setting.csv", tables.setting),
                        *[(n, f) for n, f in optional if not f.empty]]:
        f = frame.copy()
        f["count"] = f["count"].round().astype("Int64")  # counts are whole numbers; blank = missing
        f.to_csv(out / name, index=False)
    return tables


def load_england_ehcp(harmonise: bool = True, path: str | Path | None = None) -> EHCPTables:
    """Plans (statements + EHC plans) for every English authority, January 2010-2022.

    Parameters
    ----------
    harmonise : bool
        True (default): authorities re-expressed on stable areas over the whole period (new
        codes for recoded authorities; merged successors for the 2019 Dorset and 2021
        Northamptonshire reorganisations) and ``la_name``/``region`` columns added. False: the
        codes as published.
    path : path, optional
        Folder of an extract written by :func:`build_extract` (default: the shipped one).

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
    d = Path(path) if path is not None else _extract_dir()
    areas = pd.read_csv(d / "areas.csv", dtype={"old_la_code": str})
    text = {"area": str, "age_group": str, "setting": str, "age": str, "need": str}
    frames = {"age": pd.read_csv(d / "ehcp_age.csv", dtype=text),
              "setting": pd.read_csv(d / "ehcp_setting.csv", dtype=text)}
    frames.update({attr: pd.read_csv(d / name, dtype=text) for name, attr in OPTIONAL_FILES.items()
                   if (d / name).exists()})
    report = ValidationReport()
    changes = find_code_changes(areas)
    report.count("authority code changes", len(changes))
    for key, f in frames.items():
        f["count"] = f["count"].astype(float)
        if harmonise:
            frames[key] = harmonise_areas(f, areas, changes)
    return EHCPTables(areas=areas, report=report, changes=changes, **frames)

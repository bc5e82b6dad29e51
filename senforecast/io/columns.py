"""Matching a file's headers to canonical column names.

Headers are compared after *normalising*: lower case, every run of non-letters/digits becomes
``_`` (so ``"NC Year"``, ``"nc-year"`` and ``"NC_YEAR"`` are all ``nc_year``). An explicit
``columns`` mapping from the analyst wins over the built-in aliases.
"""
from __future__ import annotations

import re
from typing import Iterable, Mapping

from ..core.errors import Problem

ALIASES: dict[str, tuple[str, ...]] = {
    "pupil_id": ("pupil_id", "upn", "pupil", "pupilid", "child_id", "childid", "person_id", "id",
                 "pseudo_id", "pseudonymised_id", "anon_id", "unique_pupil_number", "learner_id", "pmr_id"),
    "year": ("year", "census_year", "calendar_year", "academic_year", "census", "time_period",
             "snapshot_year", "collection_year"),
    "ncy": ("ncy", "nc_year", "ncyear", "national_curriculum_year", "curriculum_year", "year_group",
            "yeargroup", "nc_year_group", "academic_year_group", "school_year", "nc"),
    "age": ("age", "age_at_31_august", "age_31_august", "age_at_start_of_year", "single_year_of_age"),
    "need": ("need", "primary_need", "major_need", "need_code", "primary_sen_type", "sen_type",
             "type_of_need", "need_type", "primary_need_type", "sen_primary_need", "aln_category",
             "major_need_category"),
    "setting": ("setting", "setting_code", "school", "school_code", "provision", "provision_code",
                "placement", "establishment", "establishment_code", "base", "base_code", "dfe_number",
                "laestab", "urn"),
    "area": ("area", "planning_area", "cluster", "locality", "area_name", "district", "sub_area"),
    "stage": ("stage", "sen_stage", "sen_provision", "provision_type", "plan_type"),
    "count": ("count", "n", "number", "pupils", "number_of_pupils", "headcount", "value", "children",
              "population", "total", "people", "persons", "number_of_children"),
    "name": ("name", "setting_name", "school_name", "base_name", "provision_name", "establishment_name"),
    "kind": ("kind", "setting_kind", "setting_type", "type", "provision_kind", "type_of_provision"),
    "min_ncy": ("min_ncy", "ncy_min", "min_year_group", "lowest_ncy", "from_ncy", "youngest_ncy",
                "min_nc_year", "first_ncy"),
    "max_ncy": ("max_ncy", "ncy_max", "max_year_group", "highest_ncy", "to_ncy", "oldest_ncy",
                "max_nc_year", "last_ncy"),
    "capacity": ("capacity", "places", "commissioned_places", "number_of_places", "funded_places",
                 "place_capacity"),
    "designation": ("designation", "designated_needs", "needs", "needs_met", "designated_for",
                    "need_designation"),
    "opens": ("opens", "open_year", "opening_year", "from_year", "start_year", "opened"),
    "closes": ("closes", "close_year", "closing_year", "end_year", "closed"),
    "cost_per_place": ("cost_per_place", "cost", "unit_cost", "annual_cost", "cost_per_pupil",
                       "place_cost", "price", "annual_fee", "fee", "cost_per_year", "top_up"),
}
"""Recognised header spellings (normalised) for each canonical column."""


def normalise(header: str) -> str:
    """Lower case, non-alphanumeric runs to ``_``, trimmed.

    Examples
    --------
    >>> normalise(" NC Year "), normalise("Year-Group"), normalise("Cost (£) per place")
    ('nc_year', 'year_group', 'cost_per_place')
    """
    return re.sub(r"[^a-z0-9]+", "_", str(header).lower()).strip("_")


def resolve_columns(
    headers: list[list[str]],
    wanted: Iterable[str],
    *,
    file: str,
    columns: Mapping[str, str] | None = None,
) -> tuple[dict[int, str], list[Problem], list[str]]:
    """Decide which file column holds which canonical column.

    Parameters
    ----------
    headers : list of list of str
        Candidate names of each file column, best first.
    wanted : iterable of str
        Canonical names the table can have.
    file : str
        For messages.
    columns : mapping, optional
        ``{header in file: canonical name}``; matched exactly, then after normalising.

    Returns
    -------
    mapping : dict
        File column position -> canonical name.
    problems : list of Problem
        Errors (two file columns for one canonical column, a mapping to an unknown name).
    unused : list of str
        Keys of ``columns`` that match no header (the caller decides whether to warn).

    Examples
    --------
    >>> m, probs, unused = resolve_columns([["UPN"], ["NC Year"], ["Notes"]], ["pupil_id", "ncy"],
    ...                                    file="f.csv")
    >>> m, probs
    ({0: 'pupil_id', 1: 'ncy'}, [])
    """
    wanted = list(wanted)
    wanted_set = set(wanted)
    problems: list[Problem] = []
    mapping: dict[int, str] = {}
    unused: list[str] = []
    columns = dict(columns or {})
    for key, target in columns.items():
        if target not in wanted_set:
            continue  # a shared mapping may name columns of other tables
        hit = None
        for i, cands in enumerate(headers):
            if key in cands:
                hit = i
                break
        if hit is None:
            nk = normalise(key)
            for i, cands in enumerate(headers):
                if any(normalise(c) == nk for c in cands):
                    hit = i
                    break
        if hit is None:
            unused.append(key)
            continue
        if hit in mapping and mapping[hit] != target:
            problems.append(Problem(file, None, headers[hit][0],
                                    f"columns maps this header to both {mapping[hit]!r} and {target!r}"))
            continue
        mapping[hit] = target
    taken = set(mapping.values())
    for target in wanted:
        if target in taken:
            continue
        aliases = ALIASES.get(target, (target,))
        hits = []
        for i, cands in enumerate(headers):
            if i in mapping:
                continue
            # the best candidate name decides; a lower header cell wins over a merged title above
            for rank, c in enumerate(cands):
                if normalise(c) in aliases:
                    hits.append((rank, aliases.index(normalise(c)), i))
                    break
        if not hits:
            continue
        hits.sort()
        best = [h for h in hits if h[:2] == hits[0][:2]]
        if len(best) > 1:
            names = ", ".join(repr(headers[h[2]][0]) for h in best)
            problems.append(Problem(file, None, target,
                                    f"several columns could be {target!r} ({names}); say which with "
                                    f"columns={{'<header>': '{target}'}}"))
            continue
        mapping[hits[0][2]] = target
        taken.add(target)
    return mapping, problems, unused

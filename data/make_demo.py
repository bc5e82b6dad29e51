"""Generate the bundled demo authority: a synthetic Welsh local authority ("Sir Enghraifft").

Run from the repository root::

    python data/make_demo.py            # writes senforecast/datasets/data/demo/*.csv

The authority is built around figures published in a Welsh authority's ALN/SEN strategy
(see ``data/README.md`` for which numbers are published and which are invented):

* five resource bases (two primary ASD/complex-needs bases of 20 places, a 7-11 complex
  needs class of 8 places, two 11-18 secondary bases of 55 places);
* need shares of statements trending from 2019 to 2025 (ASD 31% -> 35%, ...);
* about 85 children in other-LA or independent special schools and about 105 pupils
  with statements educated outside the county;
* four secondary clusters as planning areas.

Children are simulated one January census to the next by a Markov cohort process whose
parameters are KNOWN and written to ``true_parameters.csv``, so that models can be tested on
whether they recover them:

1. Leavers: each child leaves with probability ``leaver_prob[ncy_from]``.
2. Everyone else moves up one NCY (a few, ``held_back_prob``, repeat a year: NCY anomalies
   as in real extracts).
3. Need changes: probability ``need_change_prob``; the new need is drawn from that year's
   joiner need mix.
4. Moves: a child in mainstream asks for a specialist place with probability
   ``specialist_move_rate[need]``; children in local specialist or out-of-county settings go
   back to mainstream with probability ``return_to_mainstream_prob``; children whose setting
   does not take their new NCY (primary base -> Year 7) must move.
5. Joiners: Poisson with mean ``joiner_rate[year, area, ncy_to] * population[year + 1, area,
   ncy_to]``; need drawn from ``joiner_need_share[year]``; a specialist place asked for at
   joining with probability ``specialist_at_join_prob[need]``, an other-LA mainstream school
   with probability ``other_la_mainstream_prob``, else the area's mainstream schools.

A specialist place request is routed along a need-specific preference list (a base of the
child's own cluster, the special schools, then out of county), taking the first setting
whose designation and age range fit and which has a free place. Local specialist places are
capacity-limited (as in reality), so the realised move rates into full bases are below the
request rates; out-of-county settings are not capacity-limited.

The process starts empty in 2005 and runs (burn-in) to the first published census, 2019;
censuses 2019-2025 are written. Population is by cohort, 2019-2025 "estimates" with noise
and 2026-2036 a smooth projection.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 0  # chosen with --search-seeds 60: the realisation closest to the published figures
FIRST_SIM_YEAR, FIRST_CENSUS, LAST_CENSUS, LAST_PROJECTION = 2005, 2019, 2025, 2036
NCY_MIN, NCY_MAX = -1, 13
POP_NCY_MIN = -3

OUT = Path(__file__).resolve().parent.parent / "senforecast" / "datasets" / "data" / "demo"

# --- planning areas: four secondary clusters (invented names; sizes invented) -----------------
AREAS = ["Aberafon", "Bryn-coed", "Caerwen", "Dolwyn"]
COHORT_2019 = {"Aberafon": 460, "Bryn-coed": 390, "Caerwen": 420, "Dolwyn": 300}  # per year group
BIRTH_TREND = -0.012   # each later birth cohort 1.2% smaller (falling births, as in Wales)
MIGRATION = 0.003      # a cohort grows 0.3% a year as it ages (net in-migration)
AREA_PREVALENCE = {"Aberafon": 1.05, "Bryn-coed": 1.0, "Caerwen": 1.0, "Dolwyn": 0.92}

# --- need codes (Wales PLASC) and published need shares of statements ------------------------
# Published table: % of statements by category, first and latest year. The first year's
# categories sum to 97.8%; they are rescaled to 100%.
SHARE_2019 = {"ASD": 31, "PMED": 18, "CL": 16, "BESD": 15, "SLCD": 11, "SENS": 4, "ADHD": 1.8, "SPLD": 1}
SHARE_2025 = {"ASD": 35, "PMED": 17, "CL": 14, "BESD": 17, "SLCD": 11, "SENS": 3.3, "ADHD": 2.1, "SPLD": 0.6}
# Invented splits of the grouped categories into PLASC codes.
SPLIT = {"ASD": {"ASD": 1.0}, "PMED": {"PMED": 1.0}, "BESD": {"BESD": 1.0}, "SLCD": {"SLCD": 1.0},
         "ADHD": {"ADHD": 1.0},
         "CL": {"GLD": 0.30, "MLD": 0.45, "SLD": 0.17, "PMLD": 0.08},
         "SENS": {"HI": 0.55, "VI": 0.35, "MSI": 0.10},
         "SPLD": {"DYSL": 0.70, "DYSC": 0.10, "DYSP": 0.20}}
NEEDS = [c for g in SPLIT.values() for c in g]
# The joiner mix runs ahead of the stock of statements (children stay for years), so the
# joiner trend is the published stock trend shifted by LEAD years (calibrated by hand).
LEAD = 4.0

# --- true process parameters (invented, chosen to give ~1,700-2,100 statements) -------------
JOINER_RATE_2019 = {-1: 0.0065, 0: 0.0165, 1: 0.0180, 2: 0.0180, 3: 0.0165, 4: 0.0155, 5: 0.0150,
                    6: 0.0140, 7: 0.0140, 8: 0.0115, 9: 0.0100, 10: 0.0075, 11: 0.0035, 12: 0.0025,
                    13: 0.0010}  # per head of population in the joiner's NCY (ncy_to)
JOINER_TREND = 0.03   # joiner rates grow 3% a year
LEAVER_PROB = {**{n: 0.045 for n in range(NCY_MIN, 11)}, 11: 0.40, 12: 0.30, 13: 1.0}  # by ncy_from
HELD_BACK_PROB = 0.003
NEED_CHANGE_PROB = 0.015
OTHER_LA_MAINSTREAM_PROB = 0.010
RETURN_TO_MAINSTREAM_PROB = {"local_specialist": 0.02, "out_of_county": 0.03}
SPECIALIST_AT_JOIN = {"PMLD": 0.80, "SLD": 0.55, "MSI": 0.50, "ASD": 0.14, "BESD": 0.10, "ADHD": 0.05,
                      "SLCD": 0.06, "PMED": 0.08, "GLD": 0.06, "MLD": 0.05, "HI": 0.06, "VI": 0.06,
                      "DYSL": 0.0, "DYSC": 0.0, "DYSP": 0.0}
SPECIALIST_MOVE = {"PMLD": 0.20, "SLD": 0.12, "MSI": 0.06, "ASD": 0.040, "BESD": 0.070, "ADHD": 0.040,
                   "SLCD": 0.015, "PMED": 0.012, "GLD": 0.020, "MLD": 0.020, "HI": 0.006, "VI": 0.006,
                   "DYSL": 0.0, "DYSC": 0.0, "DYSP": 0.0}

# --- provision register --------------------------------------------------------------------
# Places of the five bases are published; names, designations, special schools, out-of-county
# settings and costs are invented (costs at realistic 2024 levels).
MS = {a: f"MS-{a[:3].upper()}" for a in AREAS}
PROVISION = [
    # setting, name, kind, area, min_ncy, max_ncy, capacity, designation, opens, closes, cost
    *[(MS[a], f"Mainstream schools, {a} cluster", "mainstream", a, -1, 13, np.nan, "*", None, None, 7_500)
      for a in AREAS],
    ("RB-ABR-P", "Ysgol Afon ASD and complex needs base", "resource_base", "Aberafon", 0, 6, 20,
     "ASD;SLCD;SLD", None, None, 21_000),
    ("RB-CAE-P", "Ysgol y Castell ASD and complex needs base", "resource_base", "Caerwen", 0, 6, 20,
     "ASD;SLCD;SLD", None, None, 21_000),
    ("RB-DOL-C", "Ysgol Dolwyn complex needs class (7-11)", "resource_base", "Dolwyn", 2, 6, 8,
     "SLD;PMLD;PMED;MSI", None, None, 24_000),
    ("RB-BRY-S", "Ysgol Bryn-coed secondary base (11-18)", "resource_base", "Bryn-coed", 7, 13, 55,
     "ASD;SLCD;GLD;MLD", None, None, 19_000),
    ("RB-DOL-S", "Ysgol Uwchradd Dolwyn secondary base (11-18)", "resource_base", "Dolwyn", 7, 13, 55,
     "ASD;BESD;ADHD;GLD;MLD", None, None, 19_000),
    ("RB-BRY-P", "Planned Bryn-coed primary ASD base", "resource_base", "Bryn-coed", 0, 6, 16,
     "ASD;SLCD", 2027, None, 21_000),
    ("SS-GLAN", "Ysgol Arbennig Glan-yr-Afon (special, 3-19)", "special_school", "Caerwen", -1, 13, 180,
     "*", None, None, 29_000),
    ("SS-TYN", "Canolfan Ty Newydd (special, BESD, 11-16)", "special_school", "Aberafon", 7, 11, 40,
     "BESD;ADHD", None, None, 33_000),
    ("OLA-MS", "Mainstream schools in other authorities", "other_la", "Out of county", -1, 13, np.nan,
     "*", None, None, 9_000),
    ("OLA-SS", "Special schools in other authorities", "other_la", "Out of county", -1, 13, np.nan,
     "*", None, None, 46_000),
    ("IND-ASD", "Independent specialist ASD school", "independent", "Out of county", 0, 13, np.nan,
     "ASD;SLCD", None, None, 68_000),
    ("IND-SEMH", "Independent residential SEMH school", "independent", "Out of county", 5, 13, np.nan,
     "BESD;ADHD", None, None, 98_000),
]
# Clusters each resource base takes children from, with the probability that a family from
# that cluster accepts the base (invented; distance): the secondary bases serve more than their
# own cluster; the primary bases and the class serve their own cluster only.
CATCHMENT = {"RB-BRY-S": {"Bryn-coed": 1.0, "Aberafon": 1.0}, "RB-DOL-S": {"Dolwyn": 1.0, "Caerwen": 0.3}}
# Preference lists for a specialist place, by need (own-cluster base first). "BASE" means a
# resource base of the child's own cluster whose designation and age range fit.
PREFERENCE = {
    "ASD": ["BASE", "SS-GLAN", "IND-ASD", "OLA-SS"],
    "SLCD": ["BASE", "SS-GLAN", "OLA-SS"],
    "BESD": ["BASE", "SS-TYN", "IND-SEMH", "OLA-SS"],
    "ADHD": ["BASE", "SS-TYN", "IND-SEMH", "OLA-SS"],
}
DEFAULT_PREFERENCE = ["BASE", "SS-GLAN", "OLA-SS"]
# When a request cannot be met in county, the out-of-county choice is split (invented).
OOC_SPLIT = {"IND-ASD": 0.5, "IND-SEMH": 0.5}


def group_of(need: str) -> str:
    return next(g for g, parts in SPLIT.items() if need in parts)


def provision_table() -> pd.DataFrame:
    cols = ["setting", "name", "kind", "area", "min_ncy", "max_ncy", "capacity", "designation",
            "opens", "closes", "cost_per_place"]
    p = pd.DataFrame(PROVISION, columns=cols)
    p["capacity"] = p["capacity"].astype(float)
    p["opens"] = pd.array(p["opens"], dtype="Int64")
    p["closes"] = pd.array(p["closes"], dtype="Int64")
    p["cost_per_place"] = p["cost_per_place"].astype(float)
    return p


def population_table(rng: np.random.Generator) -> pd.DataFrame:
    """Population by year x area x NCY: cohort-consistent, noisy history, smooth projection."""
    rows = []
    for year in range(FIRST_SIM_YEAR, LAST_PROJECTION + 1):
        for a in AREAS:
            for ncy in range(POP_NCY_MIN, NCY_MAX + 1):
                cohort = year - ncy  # the year this cohort is in Reception (NCY 0)
                size = COHORT_2019[a] * (1 + BIRTH_TREND) ** (cohort - FIRST_CENSUS)
                size *= (1 + MIGRATION) ** ncy
                noise = rng.normal(0, 0.01) if year <= LAST_CENSUS else 0.0
                rows.append((year, a, ncy, int(round(size * (1 + noise)))))
    return pd.DataFrame(rows, columns=["year", "area", "ncy", "count"])


def joiner_need_share(year: int) -> dict[str, float]:
    """Joiner need mix of the transition year ``year`` (PLASC codes, sums to 1)."""
    s19 = np.array(list(SHARE_2019.values()), dtype=float)
    s19 /= s19.sum()
    s25 = np.array(list(SHARE_2025.values()), dtype=float)
    s25 /= s25.sum()
    slope = (s25 - s19) / (LAST_CENSUS - FIRST_CENSUS)
    g = s19 + slope * (year - FIRST_CENSUS + LEAD)
    g = np.clip(g, 0.002, None)
    g /= g.sum()
    by_group = dict(zip(SHARE_2019, g))
    return {code: float(by_group[grp] * w) for grp, parts in SPLIT.items() for code, w in parts.items()}


def joiner_rate(year: int, area: str, ncy: int) -> float:
    return JOINER_RATE_2019[ncy] * AREA_PREVALENCE[area] * (1 + JOINER_TREND) ** (year - FIRST_CENSUS)


class Simulator:
    """Children as parallel numpy arrays; one ``step`` is one census to the next."""

    def __init__(self, rng, population, provision):
        self.rng = rng
        self.pop = population.set_index(["year", "area", "ncy"])["count"]
        self.prov = provision[provision["opens"].isna()].reset_index(drop=True)
        self.settings = list(self.prov["setting"])
        self.cap = dict(zip(self.prov["setting"], self.prov["capacity"]))
        self.kind = dict(zip(self.prov["setting"], self.prov["kind"]))
        self.lo = dict(zip(self.prov["setting"], self.prov["min_ncy"]))
        self.hi = dict(zip(self.prov["setting"], self.prov["max_ncy"]))
        self.desig = {s: set(d.split(";")) for s, d in zip(self.prov["setting"], self.prov["designation"])}
        self.base_area = dict(zip(self.prov["setting"], self.prov["area"]))
        self.ids = np.array([], dtype=object)
        self.ncy = np.array([], dtype=np.int64)
        self.need = np.array([], dtype=object)
        self.setting = np.array([], dtype=object)
        self.area = np.array([], dtype=object)
        self._used_ids: set[str] = set()

    def _new_ids(self, n):
        out = []
        while len(out) < n:
            pid = "D" + self.rng.bytes(4).hex().upper()
            if pid not in self._used_ids:
                self._used_ids.add(pid)
                out.append(pid)
        return np.array(out, dtype=object)

    def fits(self, s, ncy, need):
        return self.lo[s] <= ncy <= self.hi[s] and ("*" in self.desig[s] or need in self.desig[s])

    def route(self, ncy, need, area, occupancy):
        """First setting on the child's preference list that fits and has a free place."""
        prefs = PREFERENCE.get(need, DEFAULT_PREFERENCE)
        for p in prefs:
            cands = ([s for s in self.settings if self.kind[s] == "resource_base"
                      and self.rng.random() < CATCHMENT.get(s, {self.base_area[s]: 1.0}).get(area, 0.0)]
                     if p == "BASE" else [p])
            for s in cands:
                if self.fits(s, ncy, need) and (np.isnan(self.cap[s]) or occupancy.get(s, 0) < self.cap[s]):
                    occupancy[s] = occupancy.get(s, 0) + 1
                    return s
        # every listed option is full or unsuitable: out of county
        ooc = [s for s in OOC_SPLIT if self.fits(s, ncy, need)]
        s = self.rng.choice(ooc) if ooc else "OLA-SS"
        occupancy[s] = occupancy.get(s, 0) + 1
        return s

    def step(self, year):
        """Simulate census ``year`` -> ``year + 1``."""
        rng = self.rng
        # 1. leavers
        stay = rng.random(len(self.ncy)) >= np.array([LEAVER_PROB[n] for n in self.ncy])
        for name in ("ids", "ncy", "need", "setting", "area"):
            setattr(self, name, getattr(self, name)[stay])
        n = len(self.ncy)
        # 2. move up a year (a few are held back)
        self.ncy = self.ncy + (rng.random(n) >= HELD_BACK_PROB)
        self.ncy = np.minimum(self.ncy, NCY_MAX)
        # 3. need changes
        mix = joiner_need_share(year)
        change = rng.random(n) < NEED_CHANGE_PROB
        self.need[change] = rng.choice(list(mix), size=int(change.sum()), p=list(mix.values()))
        # 4. moves; local specialist places held by children who stay put are filled first
        kinds = np.array([self.kind[s] for s in self.setting], dtype=object)
        local_spec = np.isin(kinds, ["resource_base", "special_school"])
        ooc = np.isin(kinds, ["other_la", "independent"])
        u = rng.random(n)
        spec_rate = np.array([SPECIALIST_MOVE[x] for x in self.need])
        to_spec = (kinds == "mainstream") & (u < spec_rate)
        to_ms = ((local_spec & (u < RETURN_TO_MAINSTREAM_PROB["local_specialist"]))
                 | (ooc & (self.setting != "OLA-MS") & (u < RETURN_TO_MAINSTREAM_PROB["out_of_county"])))
        misfit = np.array([not self.fits(s, a, nd) for s, a, nd in zip(self.setting, self.ncy, self.need)],
                          dtype=bool)
        misfit &= ~(kinds == "mainstream")
        movers = to_spec | to_ms | misfit
        occupancy = pd.Series(self.setting[~movers]).value_counts().to_dict()
        for i in rng.permutation(np.flatnonzero(to_ms & ~misfit)):
            self.setting[i] = MS[self.area[i]]
        for i in rng.permutation(np.flatnonzero(misfit | to_spec)):
            if misfit[i] and not to_spec[i] and rng.random() < 0.4:
                self.setting[i] = MS[self.area[i]]  # e.g. a primary base child goes to mainstream at 11
            else:
                self.setting[i] = self.route(self.ncy[i], self.need[i], self.area[i], occupancy)
        # 5. joiners
        new = []
        for a in AREAS:
            for ncy in range(NCY_MIN, NCY_MAX + 1):
                lam = joiner_rate(year, a, ncy) * self.pop[(year + 1, a, ncy)]
                k = rng.poisson(lam)
                if k:
                    needs = rng.choice(list(mix), size=k, p=list(mix.values()))
                    new += [(ncy, nd, a) for nd in needs]
        order = rng.permutation(len(new))
        j_ncy, j_need, j_set, j_area = [], [], [], []
        for i in order:
            ncy, nd, a = new[i]
            r = rng.random()
            if r < SPECIALIST_AT_JOIN[nd]:
                s = self.route(ncy, nd, a, occupancy)
            elif r < SPECIALIST_AT_JOIN[nd] + OTHER_LA_MAINSTREAM_PROB:
                s = "OLA-MS"
            else:
                s = MS[a]
            j_ncy.append(ncy), j_need.append(nd), j_set.append(s), j_area.append(a)
        k = len(j_ncy)
        self.ids = np.concatenate([self.ids, self._new_ids(k)])
        self.ncy = np.concatenate([self.ncy, np.array(j_ncy, dtype=np.int64)])
        self.need = np.concatenate([self.need, np.array(j_need, dtype=object)])
        self.setting = np.concatenate([self.setting, np.array(j_set, dtype=object)])
        self.area = np.concatenate([self.area, np.array(j_area, dtype=object)])

    def census(self, year):
        return pd.DataFrame({"pupil_id": self.ids, "year": year, "ncy": self.ncy, "need": self.need,
                             "setting": self.setting, "area": self.area})


def true_parameters(population) -> pd.DataFrame:
    rows = []

    def add(parameter, value, description, year=None, area=None, ncy=None, need=None):
        rows.append((parameter, year, area, ncy, need, value, description))

    for y in range(FIRST_CENSUS, LAST_CENSUS):
        for a in AREAS:
            for n in range(NCY_MIN, NCY_MAX + 1):
                add("joiner_rate", joiner_rate(y, a, n), "expected joiners per head of population "
                    "in (year + 1, area, ncy_to); year = first year of the transition", y, a, n)
        for need, v in joiner_need_share(y).items():
            add("joiner_need_share", v, "share of joiners (and of new needs after a need change) "
                "with this need", y, need=need)
    for n, v in LEAVER_PROB.items():
        add("leaver_prob", v, "probability a child in ncy_from leaves the plans list by the next census",
            ncy=n)
    for need in NEEDS:
        add("specialist_at_join_prob", SPECIALIST_AT_JOIN[need],
            "probability a joiner asks for a specialist place", need=need)
        add("specialist_move_rate", SPECIALIST_MOVE[need], "yearly probability a child in mainstream "
            "asks for a specialist place (met in county when a place is free, else out of county)",
            need=need)
    add("held_back_prob", HELD_BACK_PROB, "yearly probability a child's NCY does not advance")
    add("need_change_prob", NEED_CHANGE_PROB, "yearly probability of a new need drawn from joiner_need_share")
    add("other_la_mainstream_prob", OTHER_LA_MAINSTREAM_PROB, "probability a joiner is placed in "
        "another authority's mainstream school")
    for k, v in RETURN_TO_MAINSTREAM_PROB.items():
        add(f"return_to_mainstream_prob_{k}", v, f"yearly probability a child in {k.replace('_', ' ')} "
            "provision (except other-LA mainstream) returns to the cluster's mainstream schools")
    add("joiner_trend", JOINER_TREND, "yearly growth of joiner_rate")
    for a, v in AREA_PREVALENCE.items():
        add("area_joiner_multiplier", v, "joiner_rate multiplier of the area", area=a)
    t = pd.DataFrame(rows, columns=["parameter", "year", "area", "ncy", "need", "value", "description"])
    t["year"] = pd.array(t["year"], dtype="Int64")
    t["ncy"] = pd.array(t["ncy"], dtype="Int64")
    return t


def simulate(seed: int = SEED):
    rng = np.random.default_rng(seed)
    population = population_table(rng)
    provision = provision_table()
    sim = Simulator(rng, population, provision)
    censuses = []
    for year in range(FIRST_SIM_YEAR, LAST_CENSUS):
        if year >= FIRST_CENSUS:
            censuses.append(sim.census(year))
        sim.step(year)
    censuses.append(sim.census(LAST_CENSUS))
    plans = pd.concat(censuses, ignore_index=True)
    # shuffle rows within a year (extracts are not in id order), then sort by year
    plans = plans.sample(frac=1.0, random_state=rng.integers(2**31)).sort_values("year", kind="stable")
    plans = add_plan_types(plans.reset_index(drop=True))  # post-step: no draw of the simulation's rng
    population = population[population["year"] >= FIRST_CENSUS].reset_index(drop=True)
    costs = provision[["setting", "cost_per_place"]].drop_duplicates("setting").reset_index(drop=True)
    return {"plans": plans, "population": population, "provision": provision, "costs": costs,
            "true_parameters": true_parameters(population)}


# --- Welsh plan types and the ALN transfer (a post-step; the simulation above is unchanged) ----
# Every demo child holds a statement or an LA-maintained IDP, the EHC-plan equivalent, so the
# series the pipeline forecasts is every child and the demo's numbers do not depend on this.
PLAN_TYPE_SEED = 2021
TRANSFERRED_BY = {2022: 0.15, 2023: 0.40, 2024: 0.65, 2025: 0.85}
"""Share (invented) of the children with a statement before the reform who hold an LA-maintained
IDP by each January census of the transfer (school years 2021/22 to 2024/25)."""


def add_plan_types(plans: pd.DataFrame, seed: int = PLAN_TYPE_SEED) -> pd.DataFrame:
    """``plans`` with a ``plan_type`` column: ``statement`` before 2022; over 2022-2025 each
    child moves to ``la_idp`` at a census drawn from ``TRANSFERRED_BY`` and keeps it; children
    whose first census is 2022 or later start on an IDP (new plans under the ALN Act).

    Deterministic: one uniform draw per child, in sorted pupil-id order, from ``seed``; the
    other columns are returned unchanged.
    """
    ids = np.sort(plans["pupil_id"].astype(str).unique())
    u = pd.Series(np.random.default_rng(seed).random(len(ids)), index=ids)
    # first census at which each child holds an IDP (9999: still a statement in 2025)
    moves = pd.Series(9999, index=ids)
    for year in sorted(TRANSFERRED_BY, reverse=True):
        moves[u < TRANSFERRED_BY[year]] = year
    first = plans.groupby(plans["pupil_id"].astype(str))["year"].min().astype(int)
    moves = moves.where(first.reindex(ids) < 2022, first.reindex(ids))
    idp_from = plans["pupil_id"].astype(str).map(moves).to_numpy()
    out = plans.copy()
    out["plan_type"] = np.where(plans["year"].astype(int).to_numpy() >= idp_from, "la_idp", "statement")
    return out


def write_plan_types(path: Path) -> pd.DataFrame:
    """Add (or redo) the ``plan_type`` column of a plans CSV in place; every other cell is
    written back as the same text."""
    plans = pd.read_csv(path, dtype=str, keep_default_na=False)
    plans = plans.drop(columns=["plan_type"], errors="ignore")
    out = add_plan_types(plans.assign(year=plans["year"].astype(int))).assign(year=plans["year"])
    out.to_csv(path, index=False, lineterminator="\n")
    return out


PUBLISHED_2025 = {"RB-ABR-P": 20, "RB-CAE-P": 19, "RB-DOL-C": 3, "RB-BRY-S": 49, "RB-DOL-S": 25,
                  "ooc_special": 85, "ooc_all": 105}


def distance_to_published(tables) -> float:
    """How far a realisation is from the published figures (sum of squared relative errors)."""
    p = tables["plans"]
    grp = {c: g for g, parts in SPLIT.items() for c in parts}
    err = 0.0
    for y, target in ((FIRST_CENSUS, SHARE_2019), (LAST_CENSUS, SHARE_2025)):
        share = p[p["year"] == y]["need"].map(grp).value_counts(normalize=True) * 100
        err += sum(((share.get(g, 0) - v) / max(v, 2.0)) ** 2 for g, v in target.items())
    last = p[p["year"] == LAST_CENSUS]["setting"]
    got = last.value_counts().to_dict()
    got["ooc_special"] = int(last.isin(["OLA-SS", "IND-ASD", "IND-SEMH"]).sum())
    got["ooc_all"] = got["ooc_special"] + int((last == "OLA-MS").sum())
    err += sum(((got.get(k, 0) - v) / max(v, 5)) ** 2 for k, v in PUBLISHED_2025.items())
    return float(err)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--search-seeds", type=int, default=0, metavar="N",
                    help="print the seed among 0..N-1 whose realisation is closest to the published figures")
    ap.add_argument("--plan-types-only", action="store_true",
                    help="only add the plan_type column to the existing plans.csv (other columns unchanged)")
    args = ap.parse_args(argv)
    if args.plan_types_only:
        out = write_plan_types(args.out / "plans.csv")
        print(out.groupby(["year", "plan_type"]).size().unstack(fill_value=0))
        return
    if args.search_seeds:
        scores = {s: distance_to_published(simulate(s)) for s in range(args.search_seeds)}
        best = min(scores, key=scores.get)
        print(f"closest seed: {best} (distance {scores[best]:.3f}; median {np.median(list(scores.values())):.3f})")
        return
    tables = simulate(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(args.out / f"{name}.csv", index=False, float_format="%.6g")
    plans, prov = tables["plans"], tables["provision"]
    kind = plans["setting"].map(dict(zip(prov["setting"], prov["kind"])))
    print("plans per year:", plans.groupby("year").size().to_dict())
    last = plans[plans["year"] == LAST_CENSUS]
    print("on roll", LAST_CENSUS, last["setting"].value_counts().sort_index().to_dict())
    print("out of county special (OLA-SS + independent):",
          int(last["setting"].isin(["OLA-SS", "IND-ASD", "IND-SEMH"]).sum()),
          " all out of county:", int(kind[plans["year"] == LAST_CENSUS].isin(["other_la", "independent"]).sum()))
    grp = {c: g for g, parts in SPLIT.items() for c in parts}
    for y in (FIRST_CENSUS, LAST_CENSUS):
        sh = plans[plans["year"] == y]["need"].map(grp).value_counts(normalize=True).mul(100).round(1)
        print(y, sh.to_dict())


if __name__ == "__main__":
    main()

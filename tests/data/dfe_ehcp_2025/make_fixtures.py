"""Write the 2025-layout fixtures in ``data/`` (invented numbers, the release's exact layout).

Run from the repository root: ``python tests/data/dfe_ehcp_2025/make_fixtures.py``.
Column names, breakdown topics and labels follow ``../shared/anchors/dfe-ehcp-2025-layout``
(and the release's data-guidance.txt); every count is drawn from a seeded random generator.
Nothing here imports senforecast, so the fixtures do not depend on the code they test.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).parent / "data"

GEO_COLS = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
            "region_name", "new_la_code", "old_la_code", "la_name", "breakdown_topic", "breakdown"]

LEAVES = [  # caseload.csv / newplans.csv placement columns that are not totals
    "mainstream_la_maintained", "mainstream_la_maintained_resourced_provision", "mainstream_la_maintained_senunit",
    "mainstream_academy", "mainstream_academy_resourced_provision", "mainstream_academy_senunit",
    "mainstream_free_school", "mainstream_free_school_resourced_provision", "mainstream_free_school_senunit",
    "mainstream_independent", "special_la_maintained", "special_academy_free", "special_independent",
    "special_non_maintained", "ap_pru_academy", "ap_pru_free_school", "ap_pru_la_maintained",
    "general_fe_tertiary_colleges", "specialist_post_16_institutions", "ukrlp_provider", "elective_home_education",
    "other_arrangements_la", "other_arrangements_parents", "online_provider", "w_settings", "other_schools",
    "other_placement_settings", "neet_ntci", "neet_other", "neet_other_csa", "nm_early_years", "placement_unknown",
]
VALUE_COLS = [  # caseload.csv value columns in the release's order (first one: the total)
    "ehcplans", "mainstream_la_maintained", "mainstream_la_maintained_resourced_provision",
    "mainstream_la_maintained_senunit", "mainstream_academy", "mainstream_academy_resourced_provision",
    "mainstream_academy_senunit", "mainstream_free_school", "mainstream_free_school_resourced_provision",
    "mainstream_free_school_senunit", "mainstream_independent", "mainstream_total", "mainstream_total_pc",
    "special_la_maintained", "special_academy_free", "special_independent", "special_non_maintained",
    "special_total", "special_total_pc", "ap_pru_academy", "ap_pru_free_school", "ap_pru_la_maintained",
    "ap_pru_total", "AP_PRU_total_pc", "general_fe_tertiary_colleges", "specialist_post_16_institutions",
    "ukrlp_provider", "fe_total", "fe_total_pc", "elective_home_education", "other_arrangements_la",
    "other_arrangements_parents", "online_provider", "w_settings", "other_schools", "other_placement_settings",
    "neet", "neet_ntci", "neet_other", "neet_other_csa", "ed_elsewhere", "ed_elsewhere_pc", "nm_early_years",
    "nm_early_years_pc", "placement_unknown", "placement_unknown_pc", "await_prov_2022", "perm_ex_2022",
]
NEED_COLS = ["number_asd", "number_hi", "number_mld", "number_msi", "number_oth", "number_pd", "number_pmld",
             "number_semh", "number_slcn", "number_sld", "number_spld", "number_vi", "number_need_unknown"]
NEED_PC = ["asd_pc", "hi_pc", "mld_pc", "msi_pc", "oth_pc", "pd_pc", "pmld_pc", "semh_pc", "slcn_pc", "sld_pc",
           "spld_pc", "vi_pc", "unknown_pc"]

# 'Type of placement' label -> caseload column it counts (None = a subtotal)
PLACEMENTS = [
    ("AP/PRU - LA maintained", "ap_pru_la_maintained"), ("AP/PRU - academy", "ap_pru_academy"),
    ("AP/PRU - free school", "ap_pru_free_school"), ("AP/PRU - total", None),
    ("Educated elsewhere - NEET", "neet_other_csa"), ("Educated elsewhere - Welsh establishment", "w_settings"),
    ("Educated elsewhere - elective home education", "elective_home_education"),
    ("Educated elsewhere - not in education or training (notice to cease issued)", "neet_ntci"),
    ("Educated elsewhere - not in education or training (other)", "neet_other"),
    ("Educated elsewhere - online provider", "online_provider"),
    ("Educated elsewhere - other arrangements by LA", "other_arrangements_la"),
    ("Educated elsewhere - other arrangements by parents", "other_arrangements_parents"),
    ("Educated elsewhere - other placement settings", "other_placement_settings"),
    ("Educated elsewhere - other schools and establishments", "other_schools"),
    ("Educated elsewhere - total", None),
    ("FE - UKRLP provider", "ukrlp_provider"), ("FE - general FE and tertiary colleges", "general_fe_tertiary_colleges"),
    ("FE - specialist post-16 institutions", "specialist_post_16_institutions"), ("FE - total", None),
    ("Mainstream - LA maintained", "mainstream_la_maintained"),
    ("Mainstream - LA maintained (SEN unit)", "mainstream_la_maintained_senunit"),
    ("Mainstream - LA maintained (resourced provision)", "mainstream_la_maintained_resourced_provision"),
    ("Mainstream - academy", "mainstream_academy"), ("Mainstream - academy (SEN unit)", "mainstream_academy_senunit"),
    ("Mainstream - academy (resourced provision)", "mainstream_academy_resourced_provision"),
    ("Mainstream - free school", "mainstream_free_school"),
    ("Mainstream - free school (SEN unit)", "mainstream_free_school_senunit"),
    ("Mainstream - free school (resourced provision)", "mainstream_free_school_resourced_provision"),
    ("Mainstream - independent", "mainstream_independent"), ("Mainstream - total", None),
    ("Non-maintained early years", "nm_early_years"), ("Placement not recorded", "placement_unknown"),
    ("Special - LA maintained", "special_la_maintained"), ("Special - academy/free school", "special_academy_free"),
    ("Special - independent", "special_independent"), ("Special - non-maintained", "special_non_maintained"),
    ("Special - total", None),
]
SUBTOTAL_OF = {"AP/PRU - total": "AP/PRU", "Educated elsewhere - total": "Educated elsewhere",
               "FE - total": "FE", "Mainstream - total": "Mainstream", "Special - total": "Special"}

AGES = ["under 3"] + [f"age {a}" for a in range(3, 26)]
AGE_STARTED = ["age 2 and under"] + [f"age {a}" for a in range(3, 20)] + ["age 20 and over"]

REGIONS = {"North East": "E12000001", "North West": "E12000002", "South East": "E12000008"}
# (la_name, region, old code, {year: new code}, size) -- codes as the 2025 release publishes them
LAS = [
    ("Gateshead", "North East", "390", {2023: "E08000037", 2024: "E08000037", 2025: "E08000037"}, 1500),
    ("Cumbria", "North West", "909", {2023: "E10000006"}, 3400),
    ("Cumberland", "North West", "942", {2024: "E06000063", 2025: "E06000063"}, 1900),
    ("Westmorland and Furness", "North West", "943", {2024: "E06000064", 2025: "E06000064"}, 1700),
    ("Buckinghamshire", "South East", "825", {2023: "E06000060", 2024: "E10000002", 2025: "E10000002"}, 5200),
    ("Surrey", "South East", "936", {2023: "E10000030", 2024: "E10000030", 2025: "E10000030"}, 14000),
]
NEW_PLANS_CODES = {  # calendar years of new plans
    "Gateshead": {2022: "E08000037", 2023: "E08000037", 2024: "E08000037"},
    "Cumbria": {2022: "E10000006"},
    "Cumberland": {2023: "E06000063", 2024: "E06000063"},
    "Westmorland and Furness": {2023: "E06000064", 2024: "E06000064"},
    "Buckinghamshire": {2022: "E06000060", 2023: "E10000002", 2024: "E10000002"},
    "Surrey": {2022: "E10000030", 2023: "E10000030", 2024: "E10000030"},
}


def placement_probs(age: int) -> np.ndarray:
    """Invented chance of each leaf placement at an age (0 = under 3)."""
    w = dict.fromkeys(LEAVES, 0.002)
    if age <= 4:
        w.update(nm_early_years=0.25, mainstream_la_maintained=0.25, special_la_maintained=0.2, mainstream_academy=0.1)
    elif age <= 15:
        w.update(mainstream_la_maintained=0.18, mainstream_academy=0.22, mainstream_free_school=0.02,
                 mainstream_la_maintained_resourced_provision=0.03, mainstream_academy_resourced_provision=0.03,
                 mainstream_la_maintained_senunit=0.02, mainstream_academy_senunit=0.02, special_la_maintained=0.18,
                 special_academy_free=0.14, special_independent=0.06, special_non_maintained=0.01,
                 ap_pru_la_maintained=0.01, ap_pru_academy=0.01, elective_home_education=0.02,
                 other_arrangements_la=0.01)
    elif age <= 19:
        w.update(mainstream_academy=0.08, special_academy_free=0.12, special_la_maintained=0.1,
                 special_independent=0.04, general_fe_tertiary_colleges=0.35, specialist_post_16_institutions=0.08,
                 ukrlp_provider=0.03, neet_other=0.04, neet_ntci=0.01, neet_other_csa=0.02, placement_unknown=0.02)
    else:
        w.update(general_fe_tertiary_colleges=0.35, specialist_post_16_institutions=0.15, ukrlp_provider=0.05,
                 neet_other=0.15, neet_ntci=0.05, other_arrangements_la=0.1, placement_unknown=0.05)
    p = np.array([w[c] for c in LEAVES])
    return p / p.sum()


def age_weights() -> np.ndarray:
    a = np.arange(24) + 2  # under 3 ~ 2
    return np.exp(-0.5 * ((a - 11) / 5.0) ** 2) + 0.02


def totals_from_leaves(leaf: dict[str, int]) -> dict[str, float]:
    row = dict(leaf)
    row["mainstream_total"] = sum(v for k, v in leaf.items() if k.startswith("mainstream_"))
    row["special_total"] = sum(v for k, v in leaf.items() if k.startswith("special_"))
    row["ap_pru_total"] = sum(v for k, v in leaf.items() if k.startswith("ap_pru_"))
    row["fe_total"] = leaf["general_fe_tertiary_colleges"] + leaf["specialist_post_16_institutions"] + leaf["ukrlp_provider"]
    row["neet"] = leaf["neet_ntci"] + leaf["neet_other"] + leaf["neet_other_csa"]
    row["ed_elsewhere"] = sum(leaf[k] for k in ["elective_home_education", "other_arrangements_la",
                                                 "other_arrangements_parents", "online_provider", "w_settings",
                                                 "other_schools", "other_placement_settings"]) + row["neet"]
    row["ehcplans"] = (row["mainstream_total"] + row["special_total"] + row["ap_pru_total"] + row["fe_total"]
                       + row["ed_elsewhere"] + leaf["nm_early_years"] + leaf["placement_unknown"])
    for c in ["mainstream_total", "special_total", "fe_total", "ed_elsewhere", "nm_early_years", "placement_unknown"]:
        row[c + "_pc"] = round(100 * row[c] / row["ehcplans"], 1) if row["ehcplans"] else "z"
    row["AP_PRU_total_pc"] = round(100 * row["ap_pru_total"] / row["ehcplans"], 1) if row["ehcplans"] else "z"
    row["await_prov_2022"] = "x"  # pre-2023 only
    row["perm_ex_2022"] = "x"
    return row


def geo(period: str, ident: str, level: str, region: str = "", code: str = "", old: str = "", name: str = "") -> dict:
    return dict(time_period=period, time_identifier=ident, geographic_level=level, country_code="E92000001",
                country_name="England", region_code=REGIONS.get(region, ""), region_name=region,
                new_la_code=code, old_la_code=old, la_name=name)


def caseload(rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    rows, leaves_2025 = [], {}
    for name, region, old, codes, size in LAS:
        for year, code in codes.items():
            period = f"{year - 1}{year % 100:02d}"
            g = geo(period, "Academic year", "Local authority", region, code, old, name)
            n_age = rng.multinomial(int(size * (1 + 0.08 * (year - 2023))), age_weights() / age_weights().sum())
            per_age = {}
            for i, (label, n) in enumerate(zip(AGES, n_age)):
                per_age[label] = dict(zip(LEAVES, rng.multinomial(n, placement_probs(2 + i if i else 0)).tolist()))
            all_leaves = {c: sum(per_age[a][c] for a in AGES) for c in LEAVES}
            if year == 2025:
                leaves_2025[name] = all_leaves
            all_row = totals_from_leaves(all_leaves)
            if name == "Gateshead" and year == 2024:
                all_row["mainstream_academy_senunit"] = "x"  # not available
            rows.append(dict(g, breakdown_topic="All EHC plans", breakdown="All EHC plans", **all_row))
            for label in AGES:
                r = totals_from_leaves(per_age[label])
                if (name == "Surrey" and year == 2025) or (name == "Cumberland" and year == 2024 and label == "age 25"):
                    r = {k: "x" for k in r}  # characteristics not available
                rows.append(dict(g, breakdown_topic="Child or young persons age", breakdown=label, **r))
            for topic, labels in [("Age when plan started", ["age 2 and under", "age 7", "age 20 and over", "unknown"]),
                                  ("Years EHC plan in place", ["Less than a year", "1", "12 or more"]),
                                  ("Sex", ["Female", "Male", "Unknown"]),
                                  ("Ethnicity", ["White - White British", "Asian - Pakistani", "Unclassified"])]:
                for label in labels:
                    part = {c: int(rng.binomial(v, 0.3)) for c, v in all_leaves.items()}
                    rows.append(dict(g, breakdown_topic=topic, breakdown=label, **totals_from_leaves(part)))
    df = pd.DataFrame(rows)
    # national and regional rows: sums of the authorities above (the reader leaves them out)
    la = df[df["breakdown_topic"].isin(["All EHC plans", "Sex"])].copy()
    agg, nat = [], []
    for (period, region, topic, label), grp in la.groupby(["time_period", "region_name", "breakdown_topic", "breakdown"]):
        leaf = {c: int(pd.to_numeric(grp[c], errors="coerce").fillna(0).sum()) for c in LEAVES}
        agg.append(dict(geo(period, "Academic year", "Regional", region), breakdown_topic=topic, breakdown=label,
                        **totals_from_leaves(leaf)))
    for (period, topic, label), grp in la.groupby(["time_period", "breakdown_topic", "breakdown"]):
        leaf = {c: int(pd.to_numeric(grp[c], errors="coerce").fillna(0).sum()) for c in LEAVES}
        nat.append(dict(geo(period, "Academic year", "National"), breakdown_topic=topic, breakdown=label,
                        **totals_from_leaves(leaf)))
    df = pd.concat([pd.DataFrame(nat), pd.DataFrame(agg), df], ignore_index=True)
    return df[GEO_COLS + VALUE_COLS], leaves_2025


NEED_BY_PLACEMENT = {  # invented need mix: (special-school mix, mainstream mix, other mix)
    "special": [0.35, 0.02, 0.06, 0.005, 0.03, 0.04, 0.04, 0.14, 0.06, 0.2, 0.01, 0.01, 0.015],
    "mainstream": [0.3, 0.03, 0.08, 0.005, 0.03, 0.04, 0.005, 0.17, 0.25, 0.02, 0.05, 0.015, 0.005],
    "other": [0.25, 0.02, 0.1, 0.01, 0.05, 0.05, 0.02, 0.3, 0.06, 0.06, 0.05, 0.01, 0.02],
}


def needs(rng: np.random.Generator, leaves_2025: dict) -> pd.DataFrame:
    rows = []
    for name, region, old, codes, _ in LAS:
        if 2025 not in codes:
            continue
        g = geo("202425", "Academic year", "Local authority", region, codes[2025], old, name)
        matrix = {}
        for label, col in PLACEMENTS:
            if col is None:
                continue
            mix = NEED_BY_PLACEMENT["special" if col.startswith("special") else
                                    "mainstream" if col.startswith("mainstream") else "other"]
            p = np.array(mix) / sum(mix)
            matrix[label] = dict(zip(NEED_COLS, rng.multinomial(leaves_2025[name][col], p).tolist()))
        for label, head in SUBTOTAL_OF.items():
            parts = [lab for lab, col in PLACEMENTS if col is not None and lab.startswith(head + " - ")]
            matrix[label] = {n: sum(matrix[p][n] for p in parts) for n in NEED_COLS}
        all_row = {n: sum(matrix[lab][n] for lab, col in PLACEMENTS if col is not None) for n in NEED_COLS}

        def values(by_need: dict) -> dict:
            total = sum(by_need.values())
            out = {"ehc_plans": total, **by_need}
            out.update({pc: round(100 * by_need[n] / total, 1) if total else "z" for n, pc in zip(NEED_COLS, NEED_PC)})
            return out
        rows.append(dict(g, breakdown_topic="All EHC plans", breakdown="All EHC plans", **values(all_row)))
        for label, _ in PLACEMENTS:
            v = values(matrix[label])
            if name == "Surrey":
                v = {k: "x" for k in v}  # characteristics not available for this authority
            if name == "Cumberland" and label == "Mainstream - academy (SEN unit)":
                v["number_hi"], v["hi_pc"] = "x", "x"
            rows.append(dict(g, breakdown_topic="Type of placement", breakdown=label, **v))
        for topic, label in [("Child or young persons age", "age 10"), ("Sex", "Female"), ("Sex", "Male")]:
            v = values({n: int(rng.binomial(all_row[n], 0.4)) for n in NEED_COLS})
            rows.append(dict(g, breakdown_topic=topic, breakdown=label, **v))
    df = pd.DataFrame(rows)
    nat = df[df["breakdown_topic"] == "All EHC plans"]
    tot = {c: int(pd.to_numeric(nat[c]).sum()) for c in ["ehc_plans", *NEED_COLS]}
    tot.update({pc: round(100 * tot[n] / tot["ehc_plans"], 1) for n, pc in zip(NEED_COLS, NEED_PC)})
    national = dict(geo("202425", "Academic year", "National"), breakdown_topic="All EHC plans",
                    breakdown="All EHC plans", **tot)
    df = pd.concat([pd.DataFrame([national]), df], ignore_index=True)
    return df[GEO_COLS + ["ehc_plans", *NEED_COLS, *NEED_PC]]


def newplans(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    cols = ["new_ehc_plans" if c == "ehcplans" else c for c in VALUE_COLS]
    for name, region, old, _, size in LAS:
        for year, code in NEW_PLANS_CODES[name].items():
            g = geo(str(year), "Calendar year", "Local authority", region, code, old, name)
            w = np.exp(-0.5 * ((np.arange(19) + 2 - 7) / 4.0) ** 2) + 0.02
            n_age = rng.multinomial(int(size * 0.12), w / w.sum())
            per_age = {lab: dict(zip(LEAVES, rng.multinomial(n, placement_probs(2 + i)).tolist()))
                       for i, (lab, n) in enumerate(zip(AGE_STARTED, n_age))}
            all_row = totals_from_leaves({c: sum(per_age[a][c] for a in AGE_STARTED) for c in LEAVES})
            all_row["new_ehc_plans"] = all_row.pop("ehcplans")
            rows.append(dict(g, breakdown_topic="New EHC plans", breakdown="New EHC plans", **all_row))
            for lab in AGE_STARTED:
                r = totals_from_leaves(per_age[lab])
                r["new_ehc_plans"] = r.pop("ehcplans")
                if name == "Surrey" and year == 2024 and lab == "age 20 and over":
                    r = {k: "x" for k in r}
                rows.append(dict(g, breakdown_topic="Age when plan started", breakdown=lab, **r))
            for lab in ["Female", "Male", "Unknown"]:
                r = totals_from_leaves({c: int(rng.binomial(v, 0.3)) for c, v in all_row.items() if c in LEAVES})
                r["new_ehc_plans"] = r.pop("ehcplans")
                rows.append(dict(g, breakdown_topic="Sex", breakdown=lab, **r))
    return pd.DataFrame(rows)[GEO_COLS + cols]


def requests() -> pd.DataFrame:
    """A file of the release that is not an EHC plans table (the reader must leave it out)."""
    g = geo("2024", "Calendar year", "Local authority", "North East", "E08000037", "390", "Gateshead")
    return pd.DataFrame([dict(g, breakdown_topic="All requests for an EHC needs assessment",
                              breakdown="All requests for an EHC needs assessment", requests_received_in_year=412,
                              requests_decided_to_assess=301, requests_decided_not_to_assess=88,
                              requests_withdrawn=9, requests_decision_not_made=14)])


def main() -> None:
    rng = np.random.default_rng(20250612)
    OUT.mkdir(parents=True, exist_ok=True)
    case, leaves_2025 = caseload(rng)
    case.to_csv(OUT / "caseload.csv", index=False)
    needs(rng, leaves_2025).to_csv(OUT / "sen_needs_all_plans.csv", index=False)
    newplans(rng).to_csv(OUT / "newplans.csv", index=False)
    requests().to_csv(OUT / "requests.csv", index=False)


if __name__ == "__main__":
    main()

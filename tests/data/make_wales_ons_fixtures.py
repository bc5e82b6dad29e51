"""Write the StatsWales and ONS test fixtures: real layouts, invented numbers.

Run from the repository root: ``python tests/data/make_wales_ons_fixtures.py``. Output is
deterministic (fixed seed). The numbers are invented; only the layouts follow the
publishers' downloads (see docs/public_data.md for which parts of each layout are documented
and which are inferred). The "true" counts behind the rounded StatsWales cells are written
too (``*_truth.csv``), so tests can check rounding and totals against them.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SW = HERE / "statswales"
ONS = HERE / "ons"

LAS = ["Isle of Anglesey", "Gwynedd", "Conwy", "Denbighshire", "Flintshire", "Wrexham", "Powys",
       "Ceredigion", "Pembrokeshire", "Carmarthenshire", "Swansea", "Neath Port Talbot", "Bridgend",
       "Vale of Glamorgan", "Cardiff", "Rhondda Cynon Taf", "Merthyr Tydfil", "Caerphilly", "Blaenau Gwent",
       "Torfaen", "Monmouthshire", "Newport"]
NORTH_WALES = LAS[:6]
PROVISIONS = ["Statemented", "School Action", "School Action Plus",
              "School maintained individual development plan",
              "Local authority maintained individual development plan"]
YEARS = [2019, 2020, 2021, 2022, 2023, 2024, 2025]  # census years of 2018/19 .. 2024/25


def label(y: int) -> str:
    return f"{y - 1}/{str(y)[2:]}"


def round5(x: float) -> int:
    return int(5 * np.floor(x / 5 + 0.5))


def publish(true: int, exists: bool) -> str:
    """A published cell: '.' not applicable, '*' for 1-4, else rounded to 5 with a thousands comma."""
    if not exists:
        return "."
    if 0 < true < 5:
        return "*"
    return f"{round5(true):,}"


def provision_truth(rng: np.random.Generator) -> dict:
    """True pupils by (LA, plan type, year): statutory demand grows; statements move to IDPs."""
    truth = {}
    stmt_left = {2019: 1.0, 2020: 1.0, 2021: 1.0, 2022: 0.85, 2023: 0.55, 2024: 0.25, 2025: 0.04}
    for i, la in enumerate(LAS):
        size = rng.uniform(0.4, 2.5)
        base_stat = 600 * size
        base_sa, base_sap = 1900 * size, 1100 * size
        for y in YEARS:
            t = y - 2019
            demand = base_stat * 1.03 ** t * rng.uniform(0.98, 1.02)
            stmt = demand * stmt_left[y] * 0.9 if y >= 2022 else demand
            la_idp = demand - stmt if y >= 2022 else 0.0
            sa = base_sa * stmt_left[y] * rng.uniform(0.97, 1.03)
            sap = base_sap * stmt_left[y] * rng.uniform(0.97, 1.03)
            sch_idp = (base_sa + base_sap) * (1 - stmt_left[y]) * 0.6 if y >= 2022 else 0.0
            vals = [stmt, sa, sap, sch_idp, la_idp]
            for p, v in zip(PROVISIONS, vals):
                truth[(la, p, y)] = int(round(v))
    # small cells that StatsWales would show as '*'
    truth[("Ceredigion", PROVISIONS[4], 2022)] = 3
    truth[("Merthyr Tydfil", PROVISIONS[4], 2022)] = 2
    return truth


def write_provision(truth: dict) -> None:
    exists = {p: (lambda y, p=p: y >= 2022 if "individual development plan" in p else True) for p in PROVISIONS}
    rows = []
    for area in LAS + ["North Wales", "Wales"]:
        members = [area] if area in LAS else NORTH_WALES if area == "North Wales" else LAS
        for j, p in enumerate(PROVISIONS + ["All Provisions"]):
            cells = []
            for y in YEARS:
                if p == "All Provisions":
                    tot = sum(truth[(m, q, y)] for m in members for q in PROVISIONS)
                    cells.append(f"{round5(tot):,}")
                else:
                    tot = sum(truth[(m, p, y)] for m in members)
                    cells.append(publish(tot, exists[p](y)))
            rows.append([area if j == 0 else "", p] + cells)
    rows[rows.index(next(r for r in rows if r[0] == "Powys")) + 2][2 + YEARS.index(2021)] = ".."  # not available
    with open(SW / "aln_provision_by_la.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(["Pupils with additional learning or special educational needs by local authority, region and "
                    "type of provision"])
        w.writerow(["Measure: Number of pupils. Test fixture: StatsWales download layout, invented numbers"])
        w.writerow([])
        w.writerow(["Local authority", "Provision"] + [label(y) + (" (r)" if y == 2023 else "") for y in YEARS])
        w.writerows(rows)
    with open(SW / "aln_provision_truth.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["year", "area", "provision", "pupils"])
        for (la, p, y), v in sorted(truth.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1])):
            w.writerow([y, la, p, v])


def write_provision_one_year(truth: dict, year: int = 2024) -> None:
    with open(SW / "aln_provision_one_year.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_MINIMAL)
        w.writerow(["Pupils with additional learning or special educational needs by local authority and type "
                    "of provision"])
        w.writerow([f"Year: {label(year)}"])
        w.writerow(["Test fixture: StatsWales download layout, invented numbers"])
        w.writerow(["Local authority"] + PROVISIONS)
        for la in LAS + ["Wales"]:
            members = [la] if la in LAS else LAS
            w.writerow([la] + [publish(sum(truth[(m, p, year)] for m in members), True) for p in PROVISIONS])


def write_provision_new_service(truth: dict) -> None:
    """The new StatsWales service's tidy download: counts and percentages, shorthand beside values."""
    las = ["Cardiff", "Ceredigion", "Powys"]
    rng = np.random.default_rng(7)
    with open(SW / "aln_provision_new_service.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_MINIMAL)
        w.writerow(["Data values", "Data description", "Year", "Local Authority", "Provision"])
        for y in (2022, 2023, 2024, 2025):
            for area in las + ["Wales"]:
                members = [area] if area != "Wales" else LAS
                for p in PROVISIONS + ["All Provisions"]:
                    if p == "All Provisions":
                        v = sum(truth[(m, q, y)] for m in members for q in PROVISIONS)
                    else:
                        v = sum(truth[(m, p, y)] for m in members)
                    cell = "[c]" if 0 < v < 5 else f"{round5(v):,}"
                    if (p == "All Provisions" or area == "Wales") and cell != "[c]":
                        cell += " [t]"
                    w.writerow([cell, "Number of pupils", label(y), area, p])
                    w.writerow([f"{rng.uniform(0.1, 9):.1f}", "Percentage of pupils", label(y), area, p])


NEEDS = ["Moderate learning difficulties", "General learning difficulties", "Severe learning difficulties",
         "Profound & multiple learning difficulties", "Dyslexia", "Dyscalculia", "Dyspraxia",
         "Attention Deficit Hyperactivity Disorder", "Autistic Spectrum Disorders",
         "Physical and medical difficulties", "Hearing impairment", "Visual impairment",
         "Multi-sensory impairment", "Speech, language and communication difficulties",
         "Behavioural, emotional and social difficulties"]


def write_needs(rng: np.random.Generator) -> None:
    """Reports of needs by LA, provision and type of need (census years 2017-2025)."""
    years = list(range(2017, 2026))
    provs = ["Statemented", "School Action Plus", "Local authority maintained individual development plan",
             "All Provisions"]
    rows = []
    for la in ["Bridgend", "Conwy", "Torfaen"]:
        first_la = True
        for p in provs:
            first_p = True
            truth = {}
            for n in NEEDS:
                for y in years:
                    if p == "All Provisions":
                        continue
                    live = y >= 2022 if "individual development plan" in p else True
                    truth[(n, y)] = int(rng.poisson(rng.uniform(1, 160))) if live else None
            for n in NEEDS + ["All needs"]:
                cells = []
                for y in years:
                    if p == "All Provisions":
                        cells.append(f"{round5(rng.uniform(200, 900)):,}" if n == "All needs"
                                     else f"{round5(rng.uniform(5, 300)):,}")
                        continue
                    if n == "All needs":
                        vals = [truth[(m, y)] for m in NEEDS]
                        cells.append("." if vals[0] is None else f"{round5(sum(vals)):,}")
                        continue
                    cells.append(publish(truth[(n, y)] or 0, truth[(n, y)] is not None))
                rows.append([la if first_la else "", p if first_p else "", n] + cells)
                first_la = first_p = False
    with open(SW / "aln_needs_by_la_provision.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(["Reports of additional learning or special educational needs by local authority, provision "
                    "and type of need"])
        w.writerow(["The number of times each ALN or SEN type was reported. Test fixture: invented numbers"])
        w.writerow([])
        w.writerow(["Local Authority", "Provision", "Type of need"] + [label(y) for y in years])
        w.writerows(rows)


# --- ONS -------------------------------------------------------------------------------------------

AGE_LABELS = [str(a) for a in range(90)] + ["90 and over"]


def _cohorts(rng: np.random.Generator, first: int, last: int, base: float) -> np.ndarray:
    """(age 0..90+, year) populations that age one year a year, with births and some migration."""
    years = np.arange(first, last + 1)
    pop = np.zeros((91, len(years)))
    pop[:, 0] = base * np.exp(-np.arange(91) / 70.0) * rng.uniform(0.9, 1.1, 91)
    for t in range(1, len(years)):
        pop[0, t] = pop[0, t - 1] * rng.uniform(0.97, 1.02)
        pop[1:90, t] = pop[0:89, t - 1] * rng.uniform(0.99, 1.015, 89)
        pop[90, t] = pop[90, t - 1] * 0.85 + pop[89, t - 1]
    return pop


def write_snpp(rng: np.random.Generator) -> None:
    areas = [("E06000047", "County Durham", 5200.0), ("E07000143", "Breckland", 1400.0),
             ("E10000020", "Norfolk", 9100.0)]
    # 2018-based: persons file, 2018..2043
    with open(ONS / "2018 SNPP Population persons.csv", "w", newline="", encoding="utf-8") as f:
        f.write(",".join(f'"{h}"' for h in ["AREA_CODE", "AREA_NAME", "COMPONENT", "SEX", "AGE_GROUP"]
                         + [str(y) for y in range(2018, 2044)]) + "\n")
        for code, name, base in areas:
            pop = _cohorts(rng, 2018, 2043, base)
            for a, lab in enumerate(AGE_LABELS):
                f.write(",".join([code, name, "Population", "persons", lab] + [f"{v:.3f}" for v in pop[a]]) + "\n")
            f.write(",".join([code, name, "Population", "persons", "All ages"]
                             + [f"{v:.3f}" for v in pop.sum(axis=0)]) + "\n")
    # 2022-based: males and females files, 2022..2047
    for sex, share in (("males", 0.512), ("females", 0.488)):
        with open(ONS / f"2022 SNPP Population {sex}.csv", "w", newline="", encoding="utf-8") as f:
            f.write(",".join(f'"{h}"' for h in ["AREA_CODE", "AREA_NAME", "COMPONENT", "SEX", "AGE_GROUP"]
                             + [str(y) for y in range(2022, 2048)]) + "\n")
            sub = np.random.default_rng(22)  # same cohorts for both sexes, scaled
            for code, name, base in areas[:2]:
                pop = _cohorts(sub, 2022, 2047, base) * share
                for a, lab in enumerate(AGE_LABELS):
                    f.write(",".join([code, name, "Population", sex, lab] + [f"{v:.3f}" for v in pop[a]]) + "\n")
                f.write(",".join([code, name, "Population", sex, "All ages"]
                                 + [f"{v:.3f}" for v in pop.sum(axis=0)]) + "\n")


def write_wales_projection(rng: np.random.Generator) -> None:
    """StatsWales 'Population projections by local authority and year' export (2018-based)."""
    years = list(range(2018, 2044))
    with open(ONS / "wales_la_projections_2018.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(["Population projections by local authority and year"])
        w.writerow(["Variant: Principal projection. Test fixture: StatsWales download layout, invented numbers"])
        w.writerow([])
        w.writerow(["Area", "Gender", "Age"] + [str(y) for y in years])
        for area, base in (("Cardiff", 5200.0), ("Powys", 1300.0)):
            males = np.rint(_cohorts(rng, 2018, 2043, base * 0.51))
            females = np.rint(_cohorts(rng, 2018, 2043, base * 0.49))
            for g, (gender, pop) in enumerate((("Persons", males + females), ("Males", males), ("Females", females))):
                ages = [("All Ages", pop.sum(axis=0))] + [(f"Age {a}", pop[a]) for a in range(90)] + \
                    [("Age 90+", pop[90])]
                for k, (lab, vals) in enumerate(ages):
                    w.writerow([area if g == 0 and k == 0 else "", gender if k == 0 else "", lab]
                               + [f"{int(v):,}" for v in vals])


def main() -> None:
    SW.mkdir(exist_ok=True)
    ONS.mkdir(exist_ok=True)
    rng = np.random.default_rng(2024)
    truth = provision_truth(rng)
    write_provision(truth)
    write_provision_one_year(truth)
    write_provision_new_service(truth)
    write_needs(np.random.default_rng(17))
    write_snpp(np.random.default_rng(18))
    write_wales_projection(np.random.default_rng(30))


if __name__ == "__main__":
    main()

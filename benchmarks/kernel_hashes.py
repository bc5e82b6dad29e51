"""Fingerprints of the cohort simulation's draws: is a kernel change bit-for-bit neutral?

Run ``.venv/bin/python benchmarks/kernel_hashes.py`` before and after a change to
:mod:`senforecast.models.cohort.kernel` or :mod:`senforecast.models.cohort.sim` that should
not change any number, and compare the printed SHA-256 digests (of the draws and every flow,
with their shapes and dtypes). Runs with fixed seeds: the bundled demo (bayes and witan
modes) and the witan.send demo (witan and bayes modes), each as the baseline and under a
scenario with rate changes, redirects (one with joiners and stayers, one into a new base) and
a closure. The digests are a record, not a test: a change that is *meant* to change the draws
changes them.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # this checkout's senforecast, not an installed one
    sys.path.insert(0, str(ROOT))

import senforecast
from senforecast import ProvisionChange, RateChange, Redirect, Scenario, SettingClosure
from senforecast.datasets.demo import load_demo
from senforecast.io.witan import load_witan_demo
from senforecast.models.cohort.model import CohortModel

DEMO_SCENARIO = Scenario(
    "demo mix",
    rate_changes=(RateChange("leaver", 1.3, setting="MS-BRY"), RateChange("mover", 0.5, need="ASD"),
                  RateChange("joiner", 1.2, need="ASD", from_year=2027)),
    redirects=(Redirect(("MS-ABE", "MS-BRY"), "MS-CAE", share=0.3, include_joiners=True,
                        include_stayers=True),
               Redirect("OLA-SS", "SS-TYN", share=0.5, from_year=2027)),
    closures=(SettingClosure("RB-BRY-S", 2028),))

WITAN_SCENARIO = Scenario(
    "witan mix",
    rate_changes=(RateChange("leaver", 2.0, setting="B", from_year=2018, to_year=2018),
                  RateChange("mover", 0.0, setting="A"), RateChange("joiner", 2.0, need="Y")),
    redirects=(Redirect("S", "NB", share=1.0, from_year=2018),
               Redirect(("A", "B"), "J", share=0.5, include_joiners=True, include_stayers=True)),
    closures=(SettingClosure("F", from_year=2019),),
    provision_changes=(ProvisionChange("NB", 30, 2018, kind="resource_base", designation="*",
                                       min_ncy=11, max_ncy=19),))


def digest(projection) -> str:
    """SHA-256 of the draws and flows (names, shapes, dtypes and bytes)."""
    h = hashlib.sha256()
    for name, arr in [("draws", projection.draws), *sorted(projection.flows.items())]:
        arr = np.ascontiguousarray(arr)
        h.update(f"{name}{arr.shape}{arr.dtype}".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def runs(draws: int):
    """(label, projection) for every case, in a fixed order."""
    demo, witan = load_demo(), load_witan_demo()
    for data, name, sc, years in ((demo, "demo", DEMO_SCENARIO, 6), (witan, "witan demo", WITAN_SCENARIO, 4)):
        for mode in ("bayes", "witan"):
            model = CohortModel(mode=mode).fit(data)
            for scenario in (None, sc):
                p = model.project(years=years, n_draws=draws, seed=7, scenario=scenario)
                yield f"{name} mode={mode} {'baseline' if scenario is None else scenario.name}", p
    p = CohortModel().fit(demo).project(years=6, n_draws=draws, seed=7, scenario=DEMO_SCENARIO, flows=False)
    yield "demo mode=bayes demo mix flows=False", p


def main(argv: list[str] | None = None) -> dict[str, str]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--draws", type=int, default=300)
    args = ap.parse_args(argv)
    print("senforecast from", Path(senforecast.__file__).parent)
    out = {}
    for label, p in runs(args.draws):
        out[label] = digest(p)
        print(f"{label:<40} {p.draws.shape} total {int(p.draws.sum(dtype=np.int64)):>10}  {out[label]}", flush=True)
    print("all:", hashlib.sha256("".join(out.values()).encode()).hexdigest())
    return out


if __name__ == "__main__":
    main()

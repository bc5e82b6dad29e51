"""Run every benchmark and print its figures: ``.venv/bin/python -m benchmarks [--quick]``.

Runs :mod:`benchmarks.bench_scale` (reading, transitions, fitting, projection, naive-loop
ratio, gap analysis, national run; arguments are passed on, see ``--help``) and then the
other benchmark scripts in this folder (``bench_*.py``) with their default sizes unless
``--quick`` or ``--only`` is given. Record the results in ``benchmarks/README.md``.
"""
from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))


def main(argv: list[str]) -> None:
    from benchmarks import bench_scale

    print("== bench_scale.py", flush=True)
    bench_scale.main(argv)
    if "--quick" in argv or any(a.startswith("--only") for a in argv):
        return
    for script in sorted(HERE.glob("bench_*.py")):
        if script.name == "bench_scale.py":
            continue
        print(f"== {script.name}", flush=True)
        saved = sys.argv
        sys.argv = [str(script)]
        try:
            runpy.run_path(str(script), run_name="__main__")
        except SystemExit:
            pass
        except Exception as exc:  # one broken benchmark should not hide the others' figures
            print(f"{script.name} failed: {type(exc).__name__}: {exc}")
        finally:
            sys.argv = saved


if __name__ == "__main__":
    main(sys.argv[1:])

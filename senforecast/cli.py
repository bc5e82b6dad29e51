"""Command line: ``senforecast demo --out DIR``."""
from __future__ import annotations

import argparse
import sys

from .errors import SenForecastError


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``senforecast`` command."""
    parser = argparse.ArgumentParser(prog="senforecast", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the pipeline on the bundled demo authority")
    demo.add_argument("--out", default="demo-output", help="output folder")
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            from . import datasets

            data = datasets.load_demo()
            print(data.summary())
    except SenForecastError as exc:
        print(f"senforecast: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

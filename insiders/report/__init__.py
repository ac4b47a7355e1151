"""The Insiders report: one self-contained HTML page that answers marketing's
questions from the marts of a built DuckDB file.

    python -m insiders.report --database insiders.duckdb --output output/report.html --csv-link insiders.csv

Every number comes from a mart (marts.py reads them); the sections (sections.py,
one list) only format them. Every chart is Plotly; plotly.js is inlined once, so
the page opens offline.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from insiders.report.page import build_page, render

__all__ = ["build_page", "main", "render"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, required=True, help="the built DuckDB file (opened read-only)")
    parser.add_argument("--output", type=Path, default=Path("output/report.html"))
    parser.add_argument("--csv-link", default="insiders.csv", help="where the page links the Insiders CSV")
    args = parser.parse_args(argv)
    path = render(args.database, args.output, args.csv_link)
    print(f"{path} ({path.stat().st_size / 1e6:.1f} MB)")

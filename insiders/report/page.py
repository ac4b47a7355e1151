"""The page: its sections and navigation from the one list of sections, written atomically."""

from __future__ import annotations

import os
from pathlib import Path
from string import Template

import plotly.offline

from insiders.report.formatting import day_label, section
from insiders.report.marts import Marts, load
from insiders.report.sections import SECTIONS

PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Insiders report</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1180px; padding: 0 24px 48px;
         color: #1e293b; line-height: 1.5; }
  header { border-bottom: 3px solid #c2410c; margin-bottom: 8px; }
  nav a { margin-right: 12px; white-space: nowrap; }
  section { border-top: 1px solid #e2e8f0; padding-top: 8px; margin-top: 24px; }
  h2 { color: #9a3412; }
  .key { font-weight: 700; }
  table.data { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
  table.data th, table.data td { border-bottom: 1px solid #e2e8f0; padding: 4px 10px; text-align: left; }
  table.data th { background: #f8fafc; }
  table.data .num { text-align: right; font-variant-numeric: tabular-nums; }
  .columns { display: flex; gap: 32px; flex-wrap: wrap; }
  .ok { color: #15803d; font-weight: 700; } .ko { color: #b91c1c; font-weight: 700; } .na { color: #64748b; }
  figure.chart { margin: 8px 0; }
  ul.actions li { margin-bottom: 8px; }
</style>
<script>$plotlyjs</script>
</head>
<body data-figures="$figures">
<header><h1>Insiders: the loyalty program's customers</h1>
<p>Data as of $as_of_date. Built from the marts of the dbt project.</p>
<nav>$nav</nav></header>
$body
</body>
</html>
""")


def build_page(marts: Marts, csv_link: str) -> str:
    body = "\n".join(section(s.anchor, s.title, s.render(marts, csv_link)) for s in SECTIONS)
    nav = "".join(f'<a href="#{s.anchor}">{s.label}</a>' for s in SECTIONS)
    return PAGE.substitute(plotlyjs=plotly.offline.get_plotlyjs(), figures=body.count('<figure class="chart">'),
                           as_of_date=day_label(marts.summary.as_of_date), nav=nav, body=body)


def render(database: Path, output: Path, csv_link: str) -> Path:
    """Writes the report of the marts in `database` to `output`; returns its path."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: a reader never opens half a page, and a failure keeps the last one.
    partial = output.with_name(output.name + ".partial")
    partial.write_text(build_page(load(Path(database)), csv_link), encoding="utf-8")
    os.replace(partial, output)
    return output

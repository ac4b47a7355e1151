"""Numbers for people, and the HTML pieces of the page."""

from __future__ import annotations

import html
import math
import re

import pandas as pd
import plotly.graph_objects as go

INSIDERS_COLOR, OTHERS_COLOR, GUESTS_COLOR = "#c2410c", "#64748b", "#cbd5e1"
PLOT_CONFIG = {"displaylogo": False, "responsive": True}


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def money(value, decimals: int = 0) -> str:
    """£1,234 (a minus sign before the pound for negatives)."""
    if missing(value):
        return "n/a"
    sign = "-" if float(value) < 0 else ""
    return f"{sign}£{abs(float(value)):,.{decimals}f}"


def number(value, decimals: int = 0) -> str:
    return "n/a" if missing(value) else f"{float(value):,.{decimals}f}"


def percent(share) -> str:
    """A share (0.123) as a percentage with one decimal (12.3%)."""
    return "n/a" if missing(share) else f"{float(share) * 100:.1f}%"


def formatted(value, kind: str) -> str:
    return {"money": money, "number": lambda v: number(v, 1), "decimal": lambda v: number(v, 3),
            "percent": percent}[kind](value)


def month_label(month) -> str:
    return pd.Timestamp(month).strftime("%b %Y")


def day_label(day) -> str:
    return "n/a" if missing(day) or pd.isna(day) else pd.Timestamp(day).strftime("%d %b %Y")


def tagged(testid: str, text: str) -> str:
    """A key number the browser test reads back and compares with the marts."""
    return f'<span class="key" data-testid="{testid}">{html.escape(text)}</span>'


def verdict(ok) -> str:
    if missing(ok):
        return '<span class="na">no goal</span>'
    return '<span class="ok">met</span>' if ok else '<span class="ko">not met</span>'


def numeric(cell: str) -> bool:
    """A number, an amount, a percentage or a ratio (tags aside): aligned right."""
    text = re.sub(r"<[^>]+>", "", cell)
    return text == "n/a" or (re.fullmatch(r"-?£?[\d,.]+[%×]?", text) is not None)


def table(rows: list[list], headers: list[str], testid: str | None = None, raw: bool = False) -> str:
    """A plain HTML table; cells are escaped unless raw (already HTML). Columns of
    numbers are aligned right."""
    cells = [[str(v) if raw else html.escape(str(v)) for v in row] for row in rows]
    align = [' class="num"' if cells and all(numeric(row[i]) for row in cells) else "" for i in range(len(headers))]
    head = "".join(f"<th{a}>{html.escape(h)}</th>" for h, a in zip(headers, align))
    body = "".join("<tr>" + "".join(f"<td{a}>{v}</td>" for v, a in zip(row, align)) + "</tr>" for row in cells)
    attribute = f' data-testid="{testid}"' if testid else ""
    return f'<table class="data"{attribute}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def chart(figure: go.Figure, height: int = 420) -> str:
    """The figure's div and script, without plotly.js (the page loads it once)."""
    figure.update_layout(height=height, template="plotly_white", margin=dict(l=60, r=20, t=60, b=50))
    return '<figure class="chart">' + figure.to_html(full_html=False, include_plotlyjs=False,
                                                      config=PLOT_CONFIG) + "</figure>"


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{body}</section>'


def paragraph(text: str) -> str:
    """Text with key numbers already marked up: the caller escapes its inputs."""
    return f"<p>{text}</p>"

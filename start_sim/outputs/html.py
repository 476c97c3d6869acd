"""The pieces every HTML report of the package is made of: one style sheet, escaped text,
tables and figures embedded as base64 PNG, so that a page opens in a browser with no network."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from start_sim.core.version import __version__
from start_sim.outputs.formatting import fmt
from start_sim.outputs.labels import kpi_label, plain

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1000px;
padding:1.5em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
h3{font-size:1.05em}
table{border-collapse:collapse;margin:.6em 0;font-size:.85em;width:100%}
th,td{border:1px solid #ddd;padding:.25em .4em;vertical-align:top;text-align:left;overflow-wrap:break-word}
th{background:#f3f3f3;font-weight:600;overflow-wrap:normal;hyphens:auto}
td.n{text-align:right;overflow-wrap:normal}td.def{font-size:.92em;color:#444}
.ci{color:#555;font-size:.88em;white-space:nowrap}
figure{margin:1.2em 0}figure img,img{max-width:100%;height:auto;box-sizing:border-box;border:1px solid #eee}figcaption{font-size:.88em;color:#555}
.meta{color:#555}pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.8em;white-space:pre-wrap;
overflow-wrap:anywhere}details summary{cursor:pointer}.small{font-size:.85em;color:#555}
.bottom-line{background:#f3f7fb;border-left:4px solid #2b6cb0;padding:.2em 1em .4em;margin:1em 0}
.bottom-line h2{border:0;margin-top:.4em}.bottom-line li{margin:.25em 0}
.notice{background:#fff8e1;border:1px solid #e8d9a8;padding:.6em 1em}
"""
PRINT_CSS = """body{max-width:none;padding:0;font-size:9.5pt}table{font-size:8.5pt}h2,h3{break-after:avoid}
tr,figure,.bottom-line{break-inside:avoid}thead{display:table-header-group}details{display:none}
a{color:inherit;text-decoration:none}figure img{max-height:230mm}"""
"""Print rules (A4 or Letter, 12 mm margins): the full width, smaller type, no page break inside a row
or figure, table headers repeated on each page, folded details left out."""
PAGE_MARGIN_MM = 12
STYLE = f"{CSS}@page{{margin:{PAGE_MARGIN_MM}mm}}\n@media print{{{PRINT_CSS}}}\n"


def escape(text: Any) -> str:
    """``text`` as HTML text."""
    return html.escape(str(text))


def table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 1,
          definition_from: int | None = None) -> str:
    """A table of HTML cells: columns from ``numeric_from`` on are right-aligned numbers, those from
    ``definition_from`` on wrapped left-aligned text (definitions, sources)."""
    def td(j: int, c: str) -> str:
        if definition_from is not None and j >= definition_from:
            return f"<td class=def>{c}</td>"
        return f"<td class=n>{c}</td>" if j >= numeric_from else f"<td>{c}</td>"

    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(td(j, c) for j, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def notice(text: str) -> str:
    """A boxed notice, in place of a figure or table with nothing to show."""
    return f"<p class=notice>{escape(text)}</p>"


def cell(value: Any) -> str:
    """One value of a data frame as an HTML cell: numbers by :func:`fmt`, booleans yes / **no**."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "<b>no</b>"
    if isinstance(value, str):
        return escape(plain(value))
    return fmt(value)


def frame_table(df: pd.DataFrame, columns: Sequence[str], labels: Mapping[str, str] | None = None) -> str:
    """The ``columns`` of ``df`` as a table headed by ``labels`` (or the registry's words for each
    column), text in words (:func:`~start_sim.outputs.labels.plain`), text columns left-aligned."""
    labels = labels or {}
    text = [j for j, c in enumerate(columns) if df[c].map(lambda v: isinstance(v, str)).any()] if len(df) else []
    first_number = next((j for j in range(len(columns)) if j not in text), len(columns))
    rows = [[cell(r[c]) for c in columns] for _, r in df.iterrows()]
    return table([escape(labels.get(c) or kpi_label(c)) for c in columns], rows, numeric_from=first_number)


def png_bytes(fig: Figure, tight: bool = False) -> bytes:
    """A figure as PNG bytes (the figure is closed); ``tight`` trims the margins."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight" if tight else None)
    finally:
        plt.close(fig)
    return buf.getvalue()


def data_uri(png: bytes) -> str:
    """PNG bytes as a ``data:`` URI for an ``<img src>``."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def figure_html(stem: str, png: bytes, caption: str, named: bool = True) -> str:
    """A captioned figure with its PNG embedded; with ``named`` the caption names the PNG file beside the page."""
    name = f"<b>{stem}.png</b>: " if named else ""
    return (f'<figure id="fig-{stem}"><img src="{data_uri(png)}" alt="{escape(caption)}">'
            f"<figcaption>{name}{escape(caption)}</figcaption></figure>")


def page(title: str, body: str) -> str:
    """A whole HTML page: the style sheet, ``body`` and the version that wrote it."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>'
            f"<body>\n{body}\n<p class=small>Written by start-sim {escape(__version__)}.</p></body></html>\n")

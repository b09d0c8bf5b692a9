"""The self-contained HTML report (Jinja2, autoescape on, inline CSS/JS, plots as PNG data URIs).

Safety rules: every dataset or model string reaches the page either through an autoescaped
``{{ }}`` expression (whose output additionally has ``{``/``}`` as entities, so no client-side
template engine can read it) or inside the explorer's JSON, where :func:`explorer.script_json`
escapes ``< > & { }``. The page's script writes that data with ``textContent`` only. Markdown
tables from the stats renderers are converted with markdown-it with raw HTML disabled.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from leser_bench.report import plots, tables
from leser_bench.report.explorer import ExplorerConfig, explorer_config, explorer_data, script_json
from leser_bench.report.inputs import ReportInputs

TEMPLATES = Path(__file__).parent / "templates"


def _braces(html: str) -> str:
    return html.replace("{", "&#123;").replace("}", "&#125;")


def _finalize(value: Any) -> Any:
    """Applied to every ``{{ }}`` output: escape (unless already markup) and neutralise braces."""
    if isinstance(value, Markup):
        return value
    return Markup(_braces(str(escape("" if value is None else value))))  # noqa: S704 - escaped just now


@lru_cache(maxsize=1)
def environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined  # noqa: PLC0415

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      finalize=_finalize, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = tables.fmt
    env.filters["code"] = code_spans
    return env


_CODE = re.compile(r"`([^`]+)`")


def code_spans(text: Any) -> Markup:
    """Escape ``text``, then show its Markdown `code` spans as <code> (for notes shared with the .md)."""
    escaped = _braces(str(escape("" if text is None else text)))
    return Markup(_CODE.sub(r"<code>\1</code>", escaped))  # noqa: S704 - escaped before the tags are added


def static(name: str) -> Markup:
    """A static asset of ours (CSS, JS) inlined verbatim: it is code we ship, not data."""
    return Markup((TEMPLATES / name).read_text(encoding="utf-8"))  # noqa: S704 - our own file


def markdown_html(text: str) -> Markup:
    """A Markdown table from the stats renderers as HTML; raw HTML in the input is escaped."""
    from markdown_it import MarkdownIt  # noqa: PLC0415

    rendered = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
    return Markup(_braces(rendered))  # noqa: S704 - markdown-it escaped every text node


def report_context(inputs: ReportInputs, explorer: ExplorerConfig | None = None) -> dict[str, Any]:
    from leser_bench.stats.render import abtest_markdown, significance_markdown  # noqa: PLC0415

    explorer = explorer or explorer_config(inputs.config)
    stats_table = inputs.stats_vs_baseline()
    ab = inputs.abtest if inputs.abtest is not None and not inputs.abtest.empty else None
    return {
        "info": inputs.info, "baseline": inputs.baseline, "summary": tables.summary_rows(inputs),
        "leaderboard": tables.leaderboard(inputs), "sections": tables.expansion_sections(inputs),
        "main_set_note": inputs.main_set_note(), "full_set_note": inputs.full_set_note(),
        "full_board": (tables.board_view(inputs.full_board) if inputs.full_board is not None
                       and not inputs.full_board.empty else None),
        "significance": markdown_html(significance_markdown(inputs.stats)) if stats_table is not None else None,
        "abtest": markdown_html(abtest_markdown(ab)) if ab is not None else None,
        "pairs": (markdown_html(significance_markdown(inputs.pairs))
                  if inputs.pairs is not None and not inputs.pairs.empty else None),
        "plots": plots.all_plots(inputs), "wins": tables.wins_and_losses(inputs),
        "training": tables.training_summary(inputs.training),
        "explorer_json": script_json(explorer_data(inputs, explorer)),
        "css": static("report.css"), "js": static("explorer.js"),
    }


def render_html(inputs: ReportInputs, explorer: ExplorerConfig | None = None) -> str:
    return environment().get_template("report.html.j2").render(**report_context(inputs, explorer))


def render_template(name: str, **context: Any) -> str:
    """Render another page of ours (the cross-run leaderboard) with the same environment and CSS."""
    return environment().get_template(name).render(css=static("report.css"), **context)

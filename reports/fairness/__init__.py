"""The fairness report as one self-contained HTML page (Jinja2 templates, autoescaped)."""

from reports.fairness.html import render_html

__all__ = ["render_html"]

"""Rendering of reports for people (HTML pages); metrics are computed in ``matcher.fairness``."""

from reports.fairness.html import render_html

__all__ = ["render_html"]

"""The one Jinja2 setup of the report pages: package templates, autoescape on, strict undefined.

Every report page (fairness, experiments) builds its environment here and only adds its own
filters, so escaping and strictness cannot drift between pages.
"""

from __future__ import annotations

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined


def template_environment(*packages: str) -> Environment:
    """An environment over the ``templates`` folder of each package, searched in order (a page
    may include another page's stylesheet by naming that package second)."""
    return Environment(
        loader=ChoiceLoader([PackageLoader(package, "templates") for package in packages]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


__all__ = ["Environment", "template_environment"]

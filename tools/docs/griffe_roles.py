"""Griffe extension for the documentation build: Sphinx roles in docstrings become links.

The docstrings use numpydoc layout with Sphinx roles (``:func:`bayesmeta.load```), which
mkdocstrings renders as Markdown and would print literally. This extension rewrites each role
into an *optional* autorefs cross-reference: a link where the target is on the site (the public
API pages), plain code where it is not (internal modules), so a reference to an undocumented
internal never fails the strict build. Loaded by ``mkdocs.yml`` (``extensions``).
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj):`(~?)([\w.]+)(\(\))?`")


def _target(obj: griffe.Object, name: str) -> str:
    """The full path of ``name`` as seen from ``obj``'s scope (itself if it cannot be resolved)."""
    if name.startswith("bayesmeta."):
        return name
    scope: Any = obj
    while scope is not None:
        try:
            return scope.resolve(name)
        except (griffe.NameResolutionError, AttributeError):
            scope = scope.parent
    return name


def rewrite(obj: griffe.Object, text: str) -> str:
    """``text`` with every Sphinx role replaced by an optional cross-reference."""

    def replace(match: re.Match[str]) -> str:
        tilde, name, call = match.group(1), match.group(2), match.group(3) or ""
        shown = name.rsplit(".", 1)[-1] if tilde else name
        target = html.escape(_target(obj, name), quote=True)
        return f'<autoref identifier="{target}" optional><code>{shown}{call}</code></autoref>'

    return ROLE.sub(replace, text)


class SphinxRoles(griffe.Extension):
    """Rewrite the roles of every docstring of the package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        self._walk(pkg, set())

    def _walk(self, obj: griffe.Object, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj, obj.docstring.value)
        for member in obj.members.values():
            if not member.is_alias:
                self._walk(member, seen)

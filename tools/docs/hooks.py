"""MkDocs hooks for the documentation build (``mkdocs.yml``: ``hooks``).

MkDocs checks and rewrites the links of the Markdown it converts, but not of Markdown that a
code block prints at build time (markdown-exec output): a link ``[x](page.md)`` there reaches
the HTML unchanged and is broken on the site. This hook finds such links in every built page
and logs a warning, which ``mkdocs build --strict`` turns into a failure.
"""

from __future__ import annotations

import logging
import re
from typing import Any

log = logging.getLogger("mkdocs.plugins.bayesmeta")

MARKDOWN_LINK = re.compile(r'href="(?![a-z]+:|//)([^"#]*\.md)(#[^"]*)?"')


def on_post_page(output: str, page: Any, **kwargs: Any) -> str:
    """Warn about links to ``.md`` files left in the HTML of ``page``."""
    for match in MARKDOWN_LINK.finditer(output):
        log.warning(
            "%s: link to %s was not converted (a link printed by an executed code block?); "
            "write it in the page's Markdown instead",
            page.file.src_path,
            match.group(1),
        )
    return output

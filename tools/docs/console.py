"""Helpers for the code blocks the documentation build executes (markdown-exec).

A page loads them in a hidden block with ``runpy.run_path("tools/docs/console.py")`` (the build
runs from the repository root) and prints what they return: markdown-exec captures the ``print``
of each block, so the helpers return Markdown instead of printing it. ``shell`` runs a
``bayesmeta`` command in-process in a scratch folder and gives it with its output as a console
block, failing the build if the exit code is not the one expected; ``figure`` embeds an image
that a command wrote there, ``embed`` a matplotlib figure made in the page's code (as SVG,
through ``bayesmeta.plots.save``).
"""

from __future__ import annotations

import atexit
import base64
import io
import os
import shlex
import shutil
import tempfile
from pathlib import Path

from typer.testing import CliRunner

from bayesmeta.cli import app

WORK = Path(tempfile.mkdtemp(prefix="bayesmeta-docs-"))
atexit.register(shutil.rmtree, WORK, ignore_errors=True)
WIDTH = "100"  # columns of the terminal the report is laid out for
MIME = {".svg": "image/svg+xml", ".png": "image/png"}


def run(command: str, expect: int = 0) -> str:
    """Run ``bayesmeta ...`` in the scratch folder; its standard output (and standard error,
    where a failing command writes its one-line message, when ``expect`` is not 0)."""
    args = shlex.split(command)
    assert args[0] == "bayesmeta", command
    here = os.getcwd()
    os.chdir(WORK)
    try:
        out = CliRunner().invoke(app, args[1:], env={"COLUMNS": WIDTH})
    finally:
        os.chdir(here)
    assert out.exit_code == expect, (command, out.exit_code, out.output, out.exception)
    return (out.stdout if expect == 0 else out.output).rstrip()


def shell(command: str, expect: int = 0, tail: int | None = None, start: str = "") -> str:
    """``command`` and its output as a Markdown console block: all of it, or only the
    last ``tail`` lines, or the lines from the first that contains ``start`` (after a line
    saying that the rest was left out)."""
    text = run(command, expect)
    lines = text.splitlines()
    if start:
        first = next(i for i, line in enumerate(lines) if start in line)
        lines = ["[... report blocks left out ...]", *lines[first:]]
    elif tail is not None:
        lines = ["[... report blocks left out ...]", *lines[-tail:]]
    text = "\n".join(lines)
    return f"```console\n$ {command}\n{text}\n```"


def figure(name: str, alt: str) -> str:
    """An ``<img>`` with the file ``name`` from the scratch folder inlined."""
    path = WORK / name
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{alt}" src="data:{MIME[path.suffix]};base64,{data}">'


def write(name: str, text: str) -> Path:
    """Write a file into the scratch folder (input for a command)."""
    path = WORK / name
    path.write_text(text)
    return path


def embed(figure: object, alt: str) -> str:
    """An ``<img>`` with ``figure`` (a matplotlib Figure) inlined as SVG."""
    from bayesmeta import plots

    buffer = io.BytesIO()
    plots.save(figure, buffer, "svg")
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="{alt}" src="data:image/svg+xml;base64,{data}">'

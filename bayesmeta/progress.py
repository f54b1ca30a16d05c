"""Progress bars on stderr for long work: sampling, refits, the steps of ``classic``.

Off by default: a library call draws nothing. The command line turns them on for the duration
of a command (:func:`shown`) unless ``--quiet`` is given, and then only when stderr is a
terminal. A bar appears once its work has run for :data:`DELAY` seconds, so quick fits print
nothing extra, and disappears when the work ends. rich is imported only when a bar appears.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

DELAY = 1.0
"""Seconds of work before a bar appears."""

_SHOWN: ContextVar[bool] = ContextVar("bayesmeta_progress_shown", default=False)
_display: _Display | None = None  # the one rich Progress of this process, while work runs


@contextmanager
def shown(enabled: bool = True) -> Iterator[None]:
    """Show progress bars inside the block if ``enabled`` and stderr is a terminal."""
    token = _SHOWN.set(bool(enabled) and _is_terminal())
    try:
        yield
    finally:
        _SHOWN.reset(token)


def _is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # closed or replaced stderr
        return False


def active() -> bool:
    """Whether bars are shown here."""
    return _SHOWN.get()


class _Display:
    """One rich ``Progress`` on stderr shared by nested bars, started on the first bar due."""

    def __init__(self) -> None:
        self.progress: Any = None
        self.users = 0
        self.lock = threading.Lock()

    def start(self) -> Any:
        with self.lock:
            if self.progress is None:
                from rich.console import Console
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    TextColumn,
                    TimeRemainingColumn,
                )

                self.progress = Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("{task.fields[note]}"),
                    TimeRemainingColumn(),
                    console=Console(stderr=True),
                    transient=True,
                )
                self.progress.start()
            return self.progress

    def stop(self) -> None:
        with self.lock:
            if self.progress is not None:
                self.progress.stop()
                self.progress = None


class Bar:
    """One task of the display: ``total`` steps, shown once :data:`DELAY` seconds passed.

    :meth:`update` may be called from any thread; :meth:`refresh` (called from the thread that
    waits for the work) makes the bar appear when it is due.
    """

    def __init__(self, description: str, total: int, unit: str = "") -> None:
        self.description = description
        self.total = total
        self.unit = unit
        self.completed = 0
        self.note = ""
        self.started = time.monotonic()
        self.task: Any = None
        self.lock = threading.Lock()

    def update(self, completed: int, note: str = "", total: int | None = None) -> None:
        """Set how many steps are done (of ``total``, if it changed) and the text beside."""
        with self.lock:
            self.completed, self.note = completed, note
            self.total = self.total if total is None else total
            if self.task is not None and _display is not None and _display.progress is not None:
                _display.progress.update(
                    self.task, completed=completed, total=self.total, note=note
                )

    def advance(self, note: str = "") -> None:
        """One more step done."""
        self.update(self.completed + 1, note)
        self.refresh()

    def refresh(self) -> None:
        """Show the bar if its work has run :data:`DELAY` seconds."""
        if self.task is not None or _display is None:
            return
        if time.monotonic() - self.started < DELAY:
            return
        progress = _display.start()
        with self.lock:
            self.task = progress.add_task(
                self.description, total=self.total, completed=self.completed, note=self.note
            )

    def close(self) -> None:
        if self.task is not None and _display is not None and _display.progress is not None:
            _display.progress.remove_task(self.task)
        self.task = None


@contextmanager
def bar(description: str, total: int, unit: str = "") -> Iterator[Bar | None]:
    """A :class:`Bar` for the work inside the block, or None when bars are not shown."""
    global _display
    if not active():
        yield None
        return
    if _display is None:
        _display = _Display()
    display = _display
    display.users += 1
    item = Bar(description, total, unit)
    try:
        yield item
    finally:
        item.close()
        display.users -= 1
        if display.users == 0:
            display.stop()
            _display = None


class ChainsBar:
    """A sampling bar: draws done over all chains (tuning included), divergences so far."""

    def __init__(self, bar: Bar) -> None:
        self.bar = bar

    def chains(self, progress: Sequence[Any]) -> None:
        """Take nutpie's per-chain progress (called from nutpie's thread)."""
        done = sum(p.finished for p in progress)
        total = sum(p.total for p in progress)
        divergences = sum(p.divergences for p in progress)
        tuning = any(p.tuning for p in progress)
        phase = "tuning" if tuning else "drawing"
        note = f"{len(progress)} chains, {divergences} divergences, {phase}"
        self.bar.update(done, note, total=total)

    def refresh(self) -> None:
        self.bar.refresh()


@contextmanager
def sampling(label: str, chains: int) -> Iterator[ChainsBar | None]:
    """The bar of one NUTS run of ``chains`` chains, or None when bars are not shown."""
    with bar(label, total=0) as item:
        yield ChainsBar(item) if item is not None else None

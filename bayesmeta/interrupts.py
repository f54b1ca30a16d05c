"""Ctrl-C and SIGTERM under the command line: stop the work, one line, exit 130 or 143.

:func:`install` makes SIGINT and SIGTERM raise :class:`Interrupted` (a ``KeyboardInterrupt``)
in the main thread, so SIGTERM unwinds like Ctrl-C: ``finally`` blocks run, temporary files are
removed, nutpie's chains and batch workers are stopped. :func:`stopped_cleanly` wraps the
whole command line (imports included): whatever the command, an interrupt ends with one line
on stderr and exit code 128 + the signal number (130, 143). Nothing here imports more than
the standard library, so it is in place before the heavy imports start.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM"}
_received: int | None = None


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _handler(signum: int, frame: FrameType | None) -> None:
    global _received
    _received = signum
    raise Interrupted(signum)


def install() -> None:
    """Raise :class:`Interrupted` on SIGINT and SIGTERM (main thread only, as Python allows).

    A signal this process was started ignoring (``nohup``, a background job of a script)
    stays ignored, as Python itself leaves it.
    """
    global _default_unraisable
    for signum in SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _handler)
    if sys.unraisablehook is not _unraisable:
        _default_unraisable = sys.unraisablehook
        sys.unraisablehook = _unraisable


_default_unraisable = sys.unraisablehook


def _unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """Say nothing of an :class:`Interrupted` raised where Python cannot raise it (a weakref
    callback or ``__del__`` running when the signal came): the signal is recorded, and
    :func:`stopped_cleanly` ends the command with its one line; anything else is reported as
    Python reports it."""
    if not isinstance(unraisable.exc_value, Interrupted):
        _default_unraisable(unraisable)


def received() -> int | None:
    """The signal that interrupted this process, if one did."""
    return _received


def exit_code(signum: int) -> int:
    """The shell's code for a command stopped by ``signum``: 130 for SIGINT, 143 for SIGTERM."""
    return 128 + int(signum)


def message(signum: int) -> str:
    return f"interrupted by {SIGNALS.get(signum, f'signal {signum}')}: stopped, no output written"


@contextmanager
def stopped_cleanly() -> Iterator[None]:
    """Turn an interrupt anywhere inside into one line on stderr and its exit code.

    Once a signal has arrived, however the block then ends is its consequence: Typer's own
    exit 130, an ``ImportError`` from an extension module whose import the interrupt broke, or
    even a normal end after some library swallowed the ``KeyboardInterrupt`` all end as the
    interrupt (the command's outputs are then not written either, see
    :func:`bayesmeta.io.output.outputs_together`).
    """
    try:
        yield
    except BaseException as exc:
        if _received is not None:
            _stop(_received)
        if isinstance(exc, KeyboardInterrupt):
            _stop(getattr(exc, "signum", signal.SIGINT))
        _ignore()  # the command has ended: a signal now changes nothing
        raise
    if _received is not None:
        _stop(_received)
    _ignore()


def _ignore() -> None:
    for signum in SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def _stop(signum: int) -> None:
    _ignore()  # a second Ctrl-C while stopping must not print a traceback
    with contextlib.suppress(OSError, ValueError):  # stderr closed
        print(message(signum), file=sys.stderr, flush=True)
    raise SystemExit(exit_code(signum)) from None

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
    for signum in SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _handler)


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

    An interrupt a framework already turned into an exit (Typer exits 130 on
    ``KeyboardInterrupt``) is recognised by the signal recorded here.
    """
    try:
        yield
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", _received or signal.SIGINT)
        _stop(signum)
    except SystemExit as exc:
        if _received is not None and exc.code in (exit_code(signal.SIGINT), exit_code(_received)):
            _stop(_received)
        raise


def _stop(signum: int) -> None:
    for ignored in SIGNALS:  # a second Ctrl-C while stopping must not print a traceback
        signal.signal(ignored, signal.SIG_IGN)
    with contextlib.suppress(OSError, ValueError):  # stderr closed
        print(message(signum), file=sys.stderr, flush=True)
    raise SystemExit(exit_code(signum)) from None

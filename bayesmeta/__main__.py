"""``python -m bayesmeta`` and the ``bayesmeta`` script: the command line, interrupt-safe.

:func:`main` sets up Ctrl-C and SIGTERM handling (:mod:`bayesmeta.interrupts`) before it
imports the command line, so an interrupt at any moment, during the imports too, stops with one
line and exit code 130 (143 for SIGTERM).
"""


def main() -> None:
    """Run the ``bayesmeta`` command line and end the process with its exit code.

    When the command is done (its outputs written and closed, its workers stopped), the
    process ends at once with ``os._exit`` after flushing stdout and stderr, skipping the
    interpreter's teardown of numpy, pandas, pyarrow and the rest: about 0.1 s of every
    command, and a window in which a late Ctrl-C found Python's default handlers back.
    """
    from bayesmeta import interrupts

    interrupts.install()
    code: object = 0
    try:
        with interrupts.stopped_cleanly():
            from bayesmeta.cli import app

            app()
    except SystemExit as exc:
        code = exc.code
    _exit_now(code)


def _exit_now(code: object) -> None:
    """Flush stdout and stderr and end the process with ``code`` (as ``sys.exit`` reads it)."""
    import os
    import sys

    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream
            code = code or 1
    os._exit(code)


if __name__ == "__main__":
    main()

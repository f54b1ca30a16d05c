"""``python -m bayesmeta`` and the ``bayesmeta`` script: the command line, interrupt-safe.

:func:`main` sets up Ctrl-C and SIGTERM handling (:mod:`bayesmeta.interrupts`) before it
imports the command line, so an interrupt at any moment, during the imports too, stops with one
line and exit code 130 (143 for SIGTERM).
"""


def main() -> None:
    """Run the ``bayesmeta`` command line."""
    from bayesmeta import interrupts

    interrupts.install()
    with interrupts.stopped_cleanly():
        from bayesmeta.cli import app

        app()


if __name__ == "__main__":
    main()

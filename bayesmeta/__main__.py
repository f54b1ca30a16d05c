"""``python -m bayesmeta``: the same command line as the ``bayesmeta`` script."""

from bayesmeta.cli import app

app()

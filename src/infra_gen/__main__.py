"""``python -m infra_gen``: the command line, :func:`infra_gen.cli.run`.

The package's first lines hold Ctrl-C back until ``run`` handles it (see there).
"""

from .cli import run

run()

"""``python -m riskplan``: the same as the ``riskplan`` command."""

from riskplan.cli import main

main()

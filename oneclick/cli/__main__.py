"""``python -m oneclick.cli`` is the ``oneclick`` command."""

from oneclick.cli.main import main

main()

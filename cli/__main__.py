"""``python -m cli`` runs the ``matcher`` command line."""

from cli.main import main

main()

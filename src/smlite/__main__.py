"""``python -m smlite`` runs the command-line interface."""

from smlite.cli import main

main()

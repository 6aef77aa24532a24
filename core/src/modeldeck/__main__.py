"""`python -m modeldeck` runs the CLI."""

from modeldeck.cli import main

main()

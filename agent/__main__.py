"""`python -m agent` is `ml-intern`."""

from agent.cli.app import main

main()

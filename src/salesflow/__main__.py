"""``python -m salesflow`` runs the command line (as ``salesflow``), e.g. under ``-X importtime``."""

from salesflow.cli import main

main()

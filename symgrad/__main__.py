"""`python -m symgrad`: the command line (see symgrad/cli.py)."""

from .cli import main

raise SystemExit(main())

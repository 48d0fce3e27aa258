"""`python -m app.cli`: the rocket2 command."""

from app.cli import main

raise SystemExit(main())

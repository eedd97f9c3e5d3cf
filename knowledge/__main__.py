"""``python -m knowledge``: the maintainers' command line."""

from knowledge.cli import main

raise SystemExit(main())

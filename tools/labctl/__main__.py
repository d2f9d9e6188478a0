"""Entry point: python3 -m labctl (tools/lab sets the path)."""

from __future__ import annotations

import sys

from labctl.cli import main

sys.exit(main())

"""``python -m benchmarks.year [--quick]``: see scenario.py."""

from __future__ import annotations

import sys

from benchmarks.year.scenario import main

sys.exit(main())

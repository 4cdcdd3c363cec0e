"""``python -m benchmarks.shell``: see __init__.py."""

from __future__ import annotations

import sys

from benchmarks.shell import main

sys.exit(main())

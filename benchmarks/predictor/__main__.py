"""``python -m benchmarks.predictor``: see the package's docstring."""

from __future__ import annotations

import sys

from benchmarks.predictor import main

sys.exit(main())

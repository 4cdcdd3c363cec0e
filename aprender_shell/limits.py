"""The limits and names every layer agrees on: one value each, imported, never written again.

Imports nothing: the cold ``suggest`` path and the stdlib-only relay's callers use it. The shell
scripts get the values they need from ``aprender-shell init`` (filled into their ``@init`` lines).
"""

from __future__ import annotations

# The shells with an integration, in the order every list of them is shown.
SHELLS = ("zsh", "bash", "fish")

# How many suggestions a query asks for unless it says, and the most it may ask for.
DEFAULT_K = 5
MAX_K = 100

# The longest command the model learns, and the longest typed line that gets a suggestion:
# commands longer than this are pasted scripts, never typed again whole.
MAX_COMMAND_CHARS = 2000

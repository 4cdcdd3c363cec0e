"""The limits and names every layer agrees on: one value each, imported, never written again.

Imports nothing: the cold ``suggest`` path and the stdlib-only relay's callers use it. The shell
scripts get the values they need from ``aprender-shell init`` (filled into their ``@init`` lines).
"""

from __future__ import annotations

# The shells with an integration, in the order every list of them is shown.
SHELLS = ("zsh", "bash", "fish")
# Exit statuses of a run ended by the user or a pipe (SIGINT, SIGKILL, SIGPIPE, SIGTERM): they
# say nothing of the command, so they count as neither a success nor a failure.
INTERRUPTED = frozenset({130, 137, 141, 143})

# How many suggestions a query asks for unless it says, and the most it may ask for.
DEFAULT_K = 5
MAX_K = 100

# The longest command the model learns, and the longest typed line that gets a suggestion:
# commands longer than this are pasted scripts, never typed again whole.
MAX_COMMAND_CHARS = 2000

# Environment variables that say a coding agent or a script runs the shell, as VARIABLE=name
# (VARIABLE=* : the variable's value is the name), first match wins. The shells record such
# commands as the agent's, never suggested unless asked for; APRENDER_SHELL_AGENT_VARS replaces
# the list. AI_AGENT and AGENT are the agents' shared conventions (Aider, Amp, Goose, opencode
# and newer Claude Code set one); the others are each agent's own marker.
AGENT_VARIABLES = (
    "AI_AGENT=* AGENT=* CLAUDECODE=claude-code CURSOR_AGENT=cursor CODEX_SANDBOX=codex "
    "CODEX_THREAD_ID=codex GEMINI_CLI=gemini-cli COPILOT_CLI=copilot-cli OPENCODE=opencode "
    "AUGMENT_AGENT=augment QWEN_CODE=qwen-code ANTIGRAVITY_AGENT=antigravity"
)

"""Path arguments checked against the shell's working directory, as fish's suggestions are."""

from __future__ import annotations

import os

from aprender_shell.model.query.arguments import ArgumentKinds


class PathCheck:
    """Checks path arguments against one working directory, a stat per path at most.

    Like fish, a suggestion whose path argument names nothing there is not offered; which
    argument of which command takes an existing path is learned (``ArgumentKinds``).
    """

    # Past this many stats in one query, the rest are offered unchecked: a keystroke stays cheap.
    MAX_CHECKS = 12

    def __init__(self, cwd: str, kinds: ArgumentKinds) -> None:
        self.cwd = cwd if os.path.isabs(cwd) and os.path.isdir(cwd) else None
        self.kinds = kinds
        self.seen: dict[str, bool] = {}

    def plausible(self, text: str) -> bool:
        """False only for a path-taking command whose path argument does not exist."""
        if self.cwd is None or len(self.seen) >= self.MAX_CHECKS:
            return True
        words = text.split()
        at = self.kinds.checked_argument(words)
        if at < 0:
            return True
        argument = words[at]
        if argument.startswith("-") or argument[0] in "'\"$" or any(c in argument for c in "*?["):
            return True  # an option, a quoted or expanded word, a glob: not ours to judge
        found = self.seen.get(argument)
        if found is None:
            target = os.path.join(self.cwd, os.path.expanduser(argument))
            found = self.seen[argument] = os.path.lexists(target)
        return found

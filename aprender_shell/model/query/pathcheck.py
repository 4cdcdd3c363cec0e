"""Path arguments checked against the shell's working directory, as fish's suggestions are."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable

from aprender_shell.model.query.arguments import ANY_PATH, FILE, FOLDER, ArgumentKinds


class PathCheck:
    """Checks path arguments against one working directory, a stat per path at most.

    Like fish, a suggestion whose path argument names nothing there is not offered, nor
    ``cd`` to a file or to the folder the shell is in; which argument of which command takes
    an existing path is learned (``ArgumentKinds``). The looking is bounded by time, not by
    a count: past ``BUDGET`` seconds of one query (a slow network folder, hundreds of
    missing files) the paths not yet looked at are not offered, since nothing unchecked is.
    """

    # Seconds one query may spend on stats; a local stat takes microseconds, so only a slow
    # folder ever reaches it, and a keystroke then costs this much more at most (plus the
    # one stat under way).
    BUDGET = 0.004
    # Ranked suggestions looked at beyond the k wanted before the whole ranking is: the
    # paths rejected are mostly among the first few.
    SPARE = 12

    def __init__(
        self,
        cwd: str,
        kinds: ArgumentKinds,
        budget: float = BUDGET,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cwd: str | None = None
        self._here: os.stat_result | None = None
        if os.path.isabs(cwd):
            try:
                here = os.stat(cwd)
            except (OSError, ValueError):
                here = None
            if here is not None and stat.S_ISDIR(here.st_mode):
                self.cwd, self._here = cwd, here
        self.kinds = kinds
        self.seen: dict[tuple[str, int], bool] = {}
        self.looked = 0
        self._budget = budget
        self._clock = clock
        self._deadline: float | None = None

    def plausible(self, text: str) -> bool:
        """False for a path-taking command whose path argument names nothing fitting here,
        or that was not looked at before the budget ran out."""
        if self.cwd is None:
            return True
        words = text.split()
        at, sort = self.kinds.checked_path(words)
        if at < 0:
            return True
        argument = words[at]
        if argument.startswith("-") or argument[0] in "'\"$" or any(c in argument for c in "*?["):
            return True  # an option, a quoted or expanded word, a glob: not ours to judge
        found = self.seen.get((argument, sort))
        if found is None:
            if self._deadline is None:
                self._deadline = self._clock() + self._budget
            elif self._clock() > self._deadline:
                return False  # not looked at: not offered
            found = self.seen[(argument, sort)] = self._names(argument, sort)
        return found

    def _names(self, argument: str, sort: int) -> bool:
        """Whether ``argument`` names, from the working directory, a path of ``sort``."""
        assert self.cwd is not None and self._here is not None
        self.looked += 1
        target = os.path.join(self.cwd, os.path.expanduser(argument))
        try:
            # One stat for a path that is not there, the common case (a link is followed).
            found = os.lstat(target)
            if stat.S_ISLNK(found.st_mode) and sort != ANY_PATH:
                found = os.stat(target)
        except (OSError, ValueError):
            return False
        if sort == FOLDER:
            return stat.S_ISDIR(found.st_mode) and not os.path.samestat(found, self._here)
        if sort == FILE:
            return not stat.S_ISDIR(found.st_mode)
        return True

"""What a history looks like in the figures measured on real people's histories (issue #18):
about three quarters of commands typed before by the same user, about 5% run again at once,
some failing (not found, usage errors, failed builds and tests), folders changing, and a
few habitual lines making up much of it (there, the most frequent line was the next command
14.9% of the time).

``python -m benchmarks.sessions --facts`` prints them for the generated users.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.sessions.simulator import SessionCommand

NOT_FOUND = (126, 127)
USAGE = (2, 129)


@dataclass(frozen=True)
class Facts:
    """Shares of a history's commands, each in [0, 1]."""

    commands: int
    typed_before: float  # the same line ran earlier in this history
    repeats: float  # the same line as the command just before
    failures: float  # a non-zero exit status
    not_found: float  # 126 or 127: a typo in the name, mostly
    usage_errors: float  # 2 or 129: a wrong option or subcommand
    folder_changes: float  # run in another folder than the command before
    top_line: float  # the line run most often (the "most frequent" baseline's whole guess)

    def line(self) -> str:
        return (f"typed before {self.typed_before:.1%}, run again at once {self.repeats:.1%}, "
                f"failed {self.failures:.1%} (not found {self.not_found:.1%}, usage "
                f"{self.usage_errors:.1%}), folder changed {self.folder_changes:.1%}, "
                f"the most run line {self.top_line:.1%}")


def history_facts(commands: Sequence[SessionCommand]) -> Facts:
    """The facts of one history, in order."""
    count = len(commands) or 1
    seen: set[str] = set()
    before = repeats = failures = not_found = usage = moves = 0
    previous: SessionCommand | None = None
    runs: Counter[str] = Counter(item.command for item in commands)
    for item in commands:
        before += item.command in seen
        seen.add(item.command)
        failures += item.exit_status != 0
        not_found += item.exit_status in NOT_FOUND
        usage += item.exit_status in USAGE
        if previous is not None:
            repeats += item.command == previous.command
            moves += item.cwd != previous.cwd
        previous = item
    top = runs.most_common(1)[0][1] if runs else 0
    return Facts(len(commands), before / count, repeats / count, failures / count,
                 not_found / count, usage / count, moves / count, top / count)


def mean_facts(every: Sequence[Facts]) -> Facts:
    """The unweighted mean over histories."""
    n = len(every) or 1
    return Facts(
        sum(f.commands for f in every),
        sum(f.typed_before for f in every) / n,
        sum(f.repeats for f in every) / n,
        sum(f.failures for f in every) / n,
        sum(f.not_found for f in every) / n,
        sum(f.usage_errors for f in every) / n,
        sum(f.folder_changes for f in every) / n,
        sum(f.top_line for f in every) / n,
    )

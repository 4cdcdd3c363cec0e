"""A query's candidate features, built in one place: the predictor and the tuning replay both
fill a ``FeatureBuilder``, and ``scoring.history_scores`` combines what it built.

A candidate's statistics (its decayed counts and last use, however the caller keeps them) and
the query's context (what followed the previous command, the working directory, the shell)
become ``scoring.Features``: the frequencies normalised by the total weight, the age, the
sequence signals, the candidate's template among those that followed the previous command,
its share of the folder's commands and of its uses in this shell.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aprender_shell.history.tokens import command_name
from aprender_shell.model import scoring

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    import re

# Which of the previous command's successor templates a command has (None: none of them).
TemplateOf = Callable[[str], "tuple[str, ...] | None"]


class FeatureBuilder:
    """The features of one query's candidates, added one candidate at a time."""

    __slots__ = (
        "features", "_clock", "_inv_short", "_inv_long", "_count", "_transitions", "_last",
        "_templates", "_template_of", "_groups", "_kept", "_folder", "_folder_total",
        "_shell_share", "_repeat", "_pair_count", "_pair_transitions", "_host_share",
        "_names", "_name_groups",
    )

    def __init__(
        self,
        clock: int,
        count: int = 0,
        transitions: Mapping[str, int] | None = None,
        last: str | None = None,
        templates: Mapping[tuple[str, ...], int] | None = None,
        template_of: TemplateOf | None = None,
        folder: Mapping[str, int] | None = None,
        shell_share: Callable[[str], float | None] | None = None,
        repeat: str | None = None,
        pair_count: int = 0,
        pair_transitions: Mapping[str, int] | None = None,
        host_share: Callable[[str], float | None] | None = None,
        names: Mapping[str, float] | None = None,
        name_evidence: int = 0,
    ) -> None:
        """``clock``: commands learned so far. What followed the previous command: ``count``
        (how often it ran), its ``transitions``, the ``last`` command that followed it, and
        how often each template followed (``templates``, with ``template_of`` telling a
        candidate's). ``folder``: how often each command ran in the working directory;
        ``shell_share``: a command's share of its uses in the current shell (None: unknown);
        ``repeat``: the command just run (scored by the user's repeat rate). What followed
        the two previous commands in a row: ``pair_count`` (how often the pair ran) and its
        ``pair_transitions``; a candidate's successor share backs off from the pair's to the
        previous command's by how often the pair was seen (``scoring.PAIR_HALF_EVIDENCE``).
        ``host_share``: a command's share of uses on this host (other devices sync theirs).
        ``names``: each name's share of what followed lines of the previous command's name,
        seen ``name_evidence`` times (``query.successors.Names``)."""
        self.features = scoring.Features()
        self._clock = clock
        w_short = scoring.total_weight(clock, scoring.TAU_SHORT)
        w_long = scoring.total_weight(clock, scoring.TAU_LONG)
        self._inv_short = 1.0 / w_short if w_short > 0 else 0.0
        self._inv_long = 1.0 / w_long if w_long > 0 else 0.0
        self._count = count
        self._pair_count = pair_count if pair_transitions else 0
        self._pair_transitions = pair_transitions or {}
        self.features.evidence = max(count, self._pair_count)
        self._transitions = transitions or {}
        self._last = last
        self._kept = sum(templates.values()) if templates else 0
        self._templates = templates if self._kept else None
        self._template_of = template_of if self._kept else None
        self._groups: dict[tuple[str, ...], int] = {}
        self._folder_total = sum(folder.values()) if folder else 0
        self._folder = folder if self._folder_total else None
        if self._folder is not None:
            self.features.cwd_share = []
        self._shell_share = shell_share
        if shell_share is not None:
            self.features.shell_share = []
        self._repeat = repeat
        self._host_share = host_share
        if host_share is not None:
            self.features.host_share = []
        self._names = names if names and name_evidence > 0 else None
        self._name_groups: dict[str, int] = {}
        if self._names is not None:
            self.features.name_share = []
            self.features.name_evidence = name_evidence

    def add(self, text: str, short_weight: float, long_weight: float, last: int) -> None:
        """Candidate ``text``, run with these decayed weights, last at position ``last`` of
        the clock (-1: never)."""
        features = self.features
        features.short.append(short_weight * self._inv_short)
        features.long.append(long_weight * self._inv_long)
        features.age.append(self._clock - 1 - last if last >= 0 else -1)
        successor = self._transitions.get(text, 0) / self._count if self._count else 0.0
        if self._pair_count:
            pair = self._pair_count
            lam = pair / (pair + scoring.PAIR_HALF_EVIDENCE)
            successor = lam * self._pair_transitions.get(text, 0) / pair + (1.0 - lam) * successor
        features.successor.append(successor)
        features.followed.append(1.0 if self._count and text == self._last else 0.0)
        group = -1
        if self._template_of is not None:
            key = self._template_of(text)
            if key is not None and self._templates is not None:
                group = self._groups.get(key, -1)
                if group < 0:
                    group = self._groups[key] = len(self._groups)
                    features.group_weight.append(self._templates[key] / self._kept)
        features.group.append(group)
        self._add_context(text)

    def add_never_run(self, text: str) -> None:
        """Candidate ``text`` that was never run (only a reused argument proposes it)."""
        features = self.features
        features.short.append(0.0)
        features.long.append(0.0)
        features.age.append(-1)
        features.successor.append(0.0)
        features.followed.append(0.0)
        features.group.append(-1)
        self._add_context(text)

    def _add_context(self, text: str) -> None:
        features = self.features
        if text == self._repeat:
            features.repeat = len(features.short) - 1
        if features.cwd_share is not None and self._folder is not None:
            features.cwd_share.append(self._folder.get(text, 0) / self._folder_total)
        if features.shell_share is not None and self._shell_share is not None:
            features.shell_share.append(self._shell_share(text))
        if features.host_share is not None and self._host_share is not None:
            features.host_share.append(self._host_share(text))
        if features.name_share is not None and self._names is not None:
            name = command_name(text)
            groups = self._name_groups
            group = groups.get(name)
            if group is None:
                group = groups[name] = len(groups)
            features.name_group.append(group)
            features.name_share.append(self._names.get(name, 0.0))


def add_names(
    features: scoring.Features, texts: list[str], names: Mapping[str, float], evidence: int
) -> None:
    """Give features built without names (the tuning replay's) the names signal of ``texts``,
    as ``FeatureBuilder`` would have."""
    if not names or evidence <= 0:
        return
    features.name_share, features.name_group, features.name_evidence = [], [], evidence
    seen: dict[str, int] = {}
    for text in texts:
        name = command_name(text)
        features.name_group.append(seen.setdefault(name, len(seen)))
        features.name_share.append(names.get(name, 0.0))


# Syntax one shell has and another lacks: a command using it is not offered in the other.
_ZSH_ONLY = ("${(", "**/", "setopt ", "autoload ", "bindkey ", "zle ", "print -P")
_BASH_ONLY = ("shopt ", "declare -", "complete -F", "bind -x")
_POSIX_ONLY = ("; then", "; do", "; fi", "$((", "[[ ", "${", "=(")
_LACKS = {"zsh": _BASH_ONLY, "bash": _ZSH_ONLY, "fish": _ZSH_ONLY + _BASH_ONLY + _POSIX_ONLY}
_foreign: dict[str, re.Pattern[str]] = {}


def _foreign_syntax(shell: str) -> re.Pattern[str] | None:
    """The syntax ``shell`` lacks as one search per candidate and keystroke; compiled when a
    shell first asks, not at import (a cold ``suggest`` names no shell)."""
    pattern = _foreign.get(shell)
    if pattern is None and shell in _LACKS:
        import re  # not at import: a cold suggest imports no re

        pattern = _foreign[shell] = re.compile("|".join(map(re.escape, _LACKS[shell])))
    return pattern


def shell_share(
    recorded_share: Callable[[str, str], float | None], shell: str
) -> Callable[[str], float | None]:
    """A command's share of its recorded uses run in ``shell`` (``recorded_share``); else 0
    for syntax that shell lacks, None (unknown) for the rest."""
    foreign = _foreign_syntax(shell)

    def share(text: str) -> float | None:
        found = recorded_share(text, shell)
        if found is None and foreign is not None and foreign.search(text):
            return 0.0
        return found

    return share

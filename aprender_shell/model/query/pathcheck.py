"""Path arguments checked against the shell's working directory, as fish's suggestions are.

A suggestion is offered only if every path it names is there (fish's
``all_paths_are_valid``): each argument of each simple command that goes where its head
takes only paths (``ArgumentKinds``: ``vim a.txt b.txt``, ``cat -n notes.md``,
``git add src/``), an option's value written ``--output=build/out.pdf`` where that head's
options take paths, and each redirection (``< input.txt``, ``> logs/out.txt``). Words are
read as the shell reads them: quotes and backslashes honoured (``vim "my notes.md"``), a
leading ``~`` expanded, relative to the folder the shell is in, or to the folder a ``cd``
earlier on the line moved to. What only the shell can say (``$HOME/x``, a glob, a command
substitution) is not judged, nor are the paths a command creates (``mkdir``, ``touch``,
and what follows them on the line); what is written to (a copy's destination, an option's
value, ``> out.txt``) needs only the folder it goes into.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterator, Sequence

from aprender_shell.history.tokens import tokenize
from aprender_shell.model.query.arguments import (
    ANY_PATH,
    BARE,
    FILE,
    FOLDER,
    HOST,
    PATH,
    POSITIONS,
    SLASHED,
    ArgumentKinds,
    creates_paths,
    path_sort,
    plain_program,
    shape,
    simple_commands,
)

# A folder to put something in, which may be the one the shell is in (a copy's destination,
# a redirection's file).
INTO = 3
# Heads whose last path argument is where the others go: only its folder need be there
# (or, written with a trailing slash, the folder it names).
_DESTINATIONS = frozenset({"cp", "mv", "install", "rsync", "scp"})
# Heads that move the shell: what follows on the line is read from where they go.
_MOVES = frozenset({"cd", "pushd"})
# Characters only the shell can expand: the word is not ours to judge.
_EXPANDS = frozenset("$`*?[{")
# Suggestions whose paths are kept read (``ArgumentKinds.paths_named``), at most.
MAX_READ = 256
# What a redirection does with the word it names.
_READS, _WRITES, _NO_FILE = 0, 1, 2


def unquoted(word: str) -> str | None:
    """``word`` as the shell passes it to the command (quotes and backslashes removed), or
    None when only the shell can say (a variable, a command substitution, a glob, a brace
    or an open quote)."""
    if "'" not in word and '"' not in word and "\\" not in word:
        return None if not _EXPANDS.isdisjoint(word) else word
    out: list[str] = []
    quote = ""
    position, length = 0, len(word)
    while position < length:
        char = word[position]
        if quote == "'":
            if char == "'":
                quote = ""
            else:
                out.append(char)
        elif char == "\\" and position + 1 < length and (
            not quote or word[position + 1] in '"\\$`'
        ):
            position += 1
            out.append(word[position])
        elif quote:
            if char == '"':
                quote = ""
            elif char in "$`":
                return None
            else:
                out.append(char)
        elif char in "'\"":
            quote = char
        elif char in _EXPANDS:
            return None
        else:
            out.append(char)
        position += 1
    return None if quote else "".join(out)


def _redirection(token: str) -> tuple[str, int] | None:
    """For a redirection word (``>``, ``2>>logs/x``, ``<in.txt``, ``&>out``, ``<<EOF``): what
    follows its operator (``""``: the next word) and what it does with it (``_READS``,
    ``_WRITES``, ``_NO_FILE``: a here-document, a descriptor); None for any other word."""
    at = 0
    while at < len(token) and token[at].isdigit():
        at += 1
    if token.startswith("&>", at):
        at += 1
    if at >= len(token) or token[at] not in "<>":
        return None
    operator = at
    while at < len(token) and token[at] in "<>|":
        at += 1
    rest = token[at:]
    if token.startswith("<<", operator) or rest[:1] in ("&", "("):
        return rest, _NO_FILE
    return rest, _READS if token[operator] == "<" else _WRITES


def path_arguments(kinds: ArgumentKinds, tokens: Sequence[str]) -> Iterator[tuple[str, int]]:
    """Each path ``tokens`` (a command line) names that must be there, relative to the
    shell's folder (or absolute), and what it must name (``ANY_PATH``, ``FOLDER``, ``FILE``,
    ``INTO``). It stops where the line leaves for a folder it cannot follow (``cd -``,
    ``cd $X``) or makes paths (``mkdir build && cd build``): the rest is the shell's to say."""
    base: str | None = ""
    for start, end in simple_commands(tokens):
        if base is None:
            return
        head, first = kinds.head(tokens, start, end)
        program = head.split(" ", 1)[0]
        if program != head and (program in _DESTINATIONS or plain_program(program)):
            head, first = program, first - 1  # the history paired it with an argument
        words: list[tuple[str, str | None]] = []  # the arguments: as written, as passed
        pending: int | None = None  # what the redirection before this word does with it
        for token in tokens[first if head else start : end]:
            if pending is not None:
                word = unquoted(token)
                if pending != _NO_FILE and word is not None:
                    yield _redirected(base, token, word, pending)
                pending = None
                continue
            redirection = _redirection(token)
            if redirection is None:
                words.append((token, unquoted(token)))
                continue
            rest, does = redirection
            if not rest:
                pending = does
            elif does != _NO_FILE and (word := unquoted(rest)) is not None:
                yield _redirected(base, rest, word, does)
        if not head or creates_paths(head):
            base = None if head else base
            continue
        checked = _checked(kinds.masks(head), words, path_sort(head), head in _DESTINATIONS)
        if head in _DESTINATIONS and len(checked) > 1:
            raw, word, _ = checked.pop()
            if word:
                yield _resolve(base, raw, _folder_of(word), INTO)
        for raw, word, sort in checked:
            if word:
                yield _resolve(base, raw, word, sort)
        if head in _MOVES:
            # cd alone, cd -, cd $X: where the rest runs is the shell's to say
            moved = len(checked) == 1 and checked[0][1]
            base = _resolve(base, *checked[0][:2], FOLDER)[0] if moved else None


def _checked(
    masks: Sequence[int], words: Sequence[tuple[str, str | None]], sort: int, remote: bool
) -> list[tuple[str, str, int]]:
    """The arguments among ``words``, each as written, as passed (``""``: not ours to
    judge) and what it must name, numbered as ``arguments_in`` numbers them; ``remote``:
    the head copies, so ``host:path`` names a file elsewhere."""
    checked: list[tuple[str, str, int]] = []
    position, optioned = 0, False
    for raw, word in words:
        if raw.startswith("-"):
            # An option moves what follows to the later position, as it may be its value.
            position, optioned = max(position, POSITIONS - 1), True
            name, equals, value = raw.partition("=")
            if equals and name.startswith("--") and (masks[POSITIONS - 1] or masks[0]) == PATH:
                # An output (--output=build/x.pdf) or an input: its folder is there either way.
                word = unquoted(value)
                if word is not None and shape(word) in (PATH, SLASHED) and not remote:
                    checked.append((value, _folder_of(word), INTO))
            continue
        kind = shape(word) if word is not None else BARE
        if not kind:
            continue  # a number: no argument
        position += 1
        taken = masks[min(position, POSITIONS) - 1] or masks[0]
        # A bare word after an option may be that option's value (grep -r TODO src).
        spelled = kind in (PATH, SLASHED) or (kind != HOST and not optioned)
        if word is None or taken != PATH or not spelled or (remote and _remote(word)):
            checked.append((raw, "", sort))  # not ours to judge, yet a copy's last word
        else:
            checked.append((raw, word, sort))
    return checked


def _remote(word: str) -> bool:
    """Whether ``word`` is spelled ``host:path`` (``scp``, ``rsync``)."""
    return ":" in word.split("/", 1)[0]


def _redirected(base: str, raw: str, word: str, does: int) -> tuple[str, int]:
    """A redirection's file: read, it must be there; written, the folder it goes in."""
    if does == _READS:
        return _resolve(base, raw, word, ANY_PATH)
    return _resolve(base, raw, os.path.dirname(word) or ".", INTO)


def _folder_of(destination: str) -> str:
    """The folder what is written to ``destination`` goes in: itself when written as one."""
    return destination if destination.endswith("/") else os.path.dirname(destination) or "."


def _resolve(base: str, raw: str, word: str, sort: int) -> tuple[str, int]:
    # A tilde expands only where it starts the word unquoted, as the shells do.
    return os.path.join(base, os.path.expanduser(word) if raw[:1] == "~" else word), sort


class PathCheck:
    """Checks the path arguments of suggestions against one working directory, a stat per
    path at most.

    Like fish, a suggestion any of whose paths names nothing there is not offered, nor
    ``cd`` to a file or to the folder the shell is in (``path_arguments`` says which words
    are paths). The looking is bounded by time, not by a count: past ``BUDGET`` seconds of
    stats in one query (a slow network folder, hundreds of missing files) a suggestion with
    a path not yet looked at is not offered, as fish drops a suggestion whose check was cancelled
    (``all_paths_are_valid`` answers false): a ghost naming a file that is gone is the
    accident the check is there to prevent, and a slow folder must not let it through.
    """

    # Seconds one query may spend in stats; a local stat takes microseconds, so only a slow
    # folder ever reaches it, and a keystroke then costs this much more at most (plus the
    # one stat under way). Reading the suggestions is not counted: a busy machine does not
    # make paths that are there go unoffered.
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
        self._spent = 0.0  # seconds spent in stats this query

    def plausible(self, text: str) -> bool:
        """False for a suggestion one of whose paths names nothing fitting here, or was not
        looked at before the budget ran out."""
        if self.cwd is None:
            return True
        # A keystroke ranks mostly what the one before did: each text is read once.
        paths = self.kinds.paths_named.get(text)
        if paths is None:
            if len(self.kinds.paths_named) >= MAX_READ:
                self.kinds.paths_named.clear()
            paths = self.kinds.paths_named[text] = tuple(
                path_arguments(self.kinds, tokenize(text))
            )
        for relative, sort in paths:
            path = (os.path.join(self.cwd, relative), sort)
            found = self.seen.get(path)
            if found is None:
                if self._spent > self._budget:
                    return False  # not looked at: not offered
                started = self._clock()
                found = self.seen[path] = self._names(*path)
                self._spent += self._clock() - started
            if not found:
                return False
        return True

    def _names(self, target: str, sort: int) -> bool:
        """Whether ``target`` names a path of ``sort``."""
        assert self._here is not None
        self.looked += 1
        try:
            # One stat for a path that is not there, the common case (a link is followed).
            found = os.lstat(target)
            if stat.S_ISLNK(found.st_mode) and sort != ANY_PATH:
                found = os.stat(target)
        except (OSError, ValueError):
            return False
        if sort == FOLDER:
            return stat.S_ISDIR(found.st_mode) and not os.path.samestat(found, self._here)
        if sort == INTO:
            return stat.S_ISDIR(found.st_mode)
        if sort == FILE:
            return not stat.S_ISDIR(found.st_mode)
        return True

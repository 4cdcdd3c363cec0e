"""Argument kinds: which positions of which commands take paths, hosts, names or plain words.

A command's *head* is its program (``vim``, ``ssh``) or, for a program that takes
subcommands, the program and its subcommand (``git add``, ``kubectl logs``); its arguments
are the words after the head that are not options, numbered 1, 2 and 3; later ones, and
every one after an option (whose value it may be: ``ssh -i key.pem host``), count as the
third, so that the first two stay what the command itself takes. Each argument is one of
four kinds:

- ``PATH``: a file or folder (``app.py``, ``src/``, ``~/notes``, ``.``, ``../x``); a bare word
  in a position that mostly takes paths (``cd src``) is one too;
- ``HOST``: ``user@host``, a URL, an IP address, a dotted name that is no file
  (``db.internal.example.com``);
- ``NAME``: a name the program's own subcommands share, which the history shows in two
  positions or more of the same program (a branch created by ``git checkout -b`` and pushed
  by ``git push origin``; a pod both described and logged);
- ``WORD``: any other bare word (``use-context``, ``redis-0`` seen only after ``kubectl logs``).

``training.argument_kinds.learn`` counts, at ``train``, how often each position of the most
used heads took each kind; the counts (scaled to a byte each, ``MAX_HEADS`` heads) are stored
in the model's index, and the predictor adds what is recorded later (``ArgumentKinds.learn``):
what the journal holds when a model is opened, then each recorded command. A query then
asks, in a dict lookup or two, whether a recent command's argument is of a kind the typed
position takes (``ArgumentKinds.target`` and ``fits``), and which arguments of a suggestion
must name an existing path (``pathcheck``: those where the head takes only paths), and of
what sort (``path_sort``: ``cd`` takes a folder, ``less`` a file). Heads the history has not
shown use a prior: the editors, pagers and file tools take paths, ``ssh``/``ping``/``dig``...
hosts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from aprender_shell.history.spellings import has_extension, is_ipv4, is_subcommand
from aprender_shell.history.tokens import OPERATORS, tokenize
from aprender_shell.model.store.layout import (
    COUNTS,
    HOST,
    KINDS,
    MAX_HEAD_CHARS,
    MAX_HEADS,
    MAX_KIND_COUNT,
    NAME,
    PATH,
    POSITIONS,
    SLOT_SIZE,
    WORD,
)

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from typing import TypeVar

    _Record = TypeVar("_Record", bound=Mapping[str, object])


# Heads first seen after training that the predictor learns, beyond the trained ones.
MAX_LEARNED_HEADS = 64
_REPLAY_CACHE = 4096  # at most this many commands and words kept by a replay (learning)
# A kind is taken by a position when at least this share of its arguments had it.
KIND_SHARE = 0.15
# Prior sightings given to a head of the built-in lists: a few of the user's own outweigh them.
PRIOR_COUNT = 2
# Values followed per position while training, to find the names shared across positions.
VALUES_PER_SLOT = 1024

_PRIOR_PATHS = (
    "cd", "pushd", "vim", "vi", "nvim", "nano", "emacs", "code", "less", "more", "cat",
    "source", "git add", "ls", "rm", "cp", "mv", "mkdir", "touch", "head", "tail", "chmod",
    "bat", "open", "xdg-open",
)
_PRIOR_HOSTS = (
    "ssh", "mosh", "ping", "ping6", "dig", "host", "nslookup", "traceroute", "telnet", "whois",
)
# Heads whose path argument is usually one they create: never checked against the folder.
_CREATES = frozenset({"mkdir", "touch", "git clone", "git init", "ln"})
# What a checked path must name: anything there, a folder other than the current one (as
# fish offers ``cd``), or something that is no folder (a pager shows no folder).
ANY_PATH, FOLDER, FILE = 0, 1, 2
_FOLDERS = frozenset({"cd", "pushd"})
_FILES = frozenset({"less", "more", "cat", "head", "tail", "bat", "source", "."})
# Programs that name the same things (units, containers, clusters): one, for argument reuse.
_KIN = {"journalctl": "systemctl", "docker-compose": "docker", "kubectx": "kubectl",
        "kubens": "kubectl"}
# Words before the program that do not make the head.
_PREFIX_WORDS = frozenset({"sudo", "command", "builtin", "exec", "nohup", "time"})

# Last labels that make a dotted word a file, not a domain.
_FILE_SUFFIXES = frozenset(
    "gz bz2 xz zst zip tar tgz js mjs ts tsx jsx py pyc json yaml yml toml txt md rst log csv "
    "tsv conf cfg ini sh bash zsh fish rs go c h cc cpp hpp java kt rb php html htm css scss "
    "lock sql pem key crt pub png jpg jpeg gif svg pdf mp4 mp3 wav iso img deb rpm whl so o a "
    "env bak tmp xml proto tf tfvars lua vim el ipynb".split()
)
_NOT_AN_ARGUMENT = (0, "")
_UNKNOWN = (0,) * POSITIONS

# A word's shape when it alone cannot say: slashed (``feature/login``, ``src/lib``) may be a
# path or a name; bare (``redis-0``, ``src``) a word, a name or, where paths go, a path.
SLASHED, BARE = 16, 32


def shape(token: str) -> int:
    """The kinds ``token`` may be by its spelling alone (0: an option, number, quote,
    expansion or operator, which no kind describes)."""
    if not token:
        return 0
    first = token[0]
    if first in "-'\"$`<>|&;()" or token.isdigit() or token in OPERATORS:
        return 0
    if ">" in token or "<" in token:
        return 0  # a redirection
    if "://" in token:
        return HOST
    at = token.find("@")
    if 0 < at < len(token) - 1 and "/" not in token[:at]:
        return HOST
    if first in "/~.":
        return PATH
    if token.endswith("/") or first == "*" or "*" in token:
        return PATH
    if is_ipv4(token):
        return HOST
    slash = token.rfind("/")
    last = token[slash + 1 :]
    if "." in last and has_extension(last):
        suffix = last.rsplit(".", 1)[1].lower()
        if suffix.isdigit():
            return SLASHED if slash >= 0 else BARE  # a version, not a file
        if slash >= 0 or suffix in _FILE_SUFFIXES:
            return PATH
        # db.example.com is a host; example.com may be either
        return HOST if last.count(".") >= 2 else PATH | HOST
    return SLASHED if slash >= 0 else BARE


def arguments_in(
    tokens: Sequence[str], first: int, end: int, shape_of: Callable[[str], int] = shape
) -> Iterator[tuple[int, int, int]]:
    """Each token of ``tokens[first:end]``: its index, the argument number it ends at (see
    ``POSITIONS``: an option moves what follows to the later slot, as it may be its value) and
    its shape (0: not an argument)."""
    position = 0
    for index in range(first, end):
        token = tokens[index]
        kinds = shape_of(token)
        if kinds:
            position += 1
        elif token.startswith("-"):
            position = max(position, POSITIONS - 1)
        yield index, position, kinds


def head_start(tokens: Sequence[str], start: int, end: int) -> int:
    """Where the program of the simple command ``tokens[start:end]`` is (``end``: none)."""
    while start < end:
        token = tokens[start]
        name, equals, _ = token.partition("=")
        if not (equals and name.isidentifier()) and token not in _PREFIX_WORDS:
            return start
        start += 1
    return end


def simple_commands(tokens: Sequence[str]) -> Iterable[tuple[int, int]]:
    """``(start, end)`` of each simple command in ``tokens`` (operators separate them)."""
    start = 0
    for position, token in enumerate(tokens):
        if token in OPERATORS:
            if position > start:
                yield start, position
            start = position + 1
    if start < len(tokens):
        yield start, len(tokens)


def same_program(used: str, typed: str) -> bool:
    """Whether ``used`` is the program ``typed``, or it mistyped (``igt`` for ``git``: one
    letter changed, added, dropped or two swapped), so that its arguments come back with it."""
    used, typed = _KIN.get(used, used), _KIN.get(typed, typed)
    if used == typed:
        return True
    if min(len(used), len(typed)) < 3 or abs(len(used) - len(typed)) > 1:
        return False
    first = 0
    while first < min(len(used), len(typed)) and used[first] == typed[first]:
        first += 1
    a, b = used[first:], typed[first:]
    return (
        a[1:] == b[1:]  # changed
        or a[1:] == b  # added
        or a == b[1:]  # dropped
        or (len(a) >= 2 and a[1] + a[0] + a[2:] == b)  # swapped
    )


def program_ok(program: str) -> bool:
    return bool(program) and program[0] not in "'\"$`<>(" and len(program) <= MAX_HEAD_CHARS


def _slot_masks(counts: Sequence[int], prior: Sequence[int] | None) -> tuple[int, ...]:
    """The kinds each position takes (0: never seen, anything goes)."""
    masks = []
    for slot in range(POSITIONS):
        base = slot * SLOT_SIZE
        path, host, name, word = counts[base : base + SLOT_SIZE]
        if prior is not None:
            path, host = path + prior[base], host + prior[base + 1]
        # Where paths are what is definitely seen, the bare words there are file names too.
        if path and path >= host + name:
            path, word = path + word, 0
        total = path + host + name + word
        mask = 0
        if total:
            for kind, count in zip(KINDS, (path, host, name, word)):
                if count and count >= KIND_SHARE * total:
                    mask |= kind
        masks.append(mask)
    return tuple(masks)


def _prior_counts() -> dict[str, tuple[int, ...]]:
    prior: dict[str, tuple[int, ...]] = {}
    for heads, kind in ((_PRIOR_PATHS, 0), (_PRIOR_HOSTS, 1)):
        for head in heads:
            counts = [0] * COUNTS
            counts[kind] = PRIOR_COUNT
            prior[head] = tuple(counts)
    return prior


_PRIOR = _prior_counts()


class ArgumentKinds:
    """The argument kinds of each head: trained counts, then what is recorded (bounded)."""

    def __init__(self, trained: Mapping[str, Sequence[int]] | None = None) -> None:
        self._counts: dict[str, bytearray] = {
            head: bytearray(counts) for head, counts in (trained or {}).items()
        }
        self._trained = len(self._counts)
        # Programs whose heads include a subcommand: new subcommands of theirs are heads too.
        self._with_subcommands = {head.split(" ", 1)[0] for head in self._counts if " " in head}
        self._masks: dict[str, tuple[int, ...]] = {}
        # The kinds of the arguments of the recent commands, by command text.
        self._arguments: dict[str, list[tuple[int, str]]] = {}
        # The paths each suggestion names, by text, as ``pathcheck`` read them by these kinds.
        self.paths_named: dict[str, tuple[tuple[str, int], ...]] = {}
        self._last_target: tuple[tuple[str, ...], tuple[int, str]] = ((), (0, ""))

    def __len__(self) -> int:
        return len(self._counts)

    # Queries ---------------------------------------------------------------------------

    def masks(self, head: str) -> tuple[int, ...]:
        """The kinds each argument position of ``head`` takes (all 0: nothing known)."""
        found = self._masks.get(head)
        if found is None:
            counts = self._counts.get(head)
            prior = _PRIOR.get(head)
            if counts is None and prior is None:
                return _UNKNOWN  # not kept: what is typed must not grow this cache
            found = self._masks[head] = _slot_masks(counts or bytes(COUNTS), prior)
        return found

    def _head(self, tokens: Sequence[str], start: int, end: int) -> tuple[str, int]:
        """The head of the simple command ``tokens[start:end]`` and where its arguments start
        (``""`` when it has none): program and subcommand when that pair is known."""
        start = head_start(tokens, start, end)
        if start >= end or not program_ok(tokens[start]):
            return "", end
        program = tokens[start]
        if start + 1 < end:
            pair = program + " " + tokens[start + 1]
            if pair in self._counts or pair in _PRIOR:
                return pair, start + 2
        return program, start + 1

    def slot(self, words: Sequence[str]) -> int:
        """The kinds the word after ``words`` (the typed tokens) takes (0: anything)."""
        return self.target(words)[0]

    def target(self, words: Sequence[str]) -> tuple[int, str]:
        """The kinds the word after ``words`` takes (0: anything), and the program."""
        # Typing a word asks the same question at each keystroke.
        key = tuple(words)
        if key == self._last_target[0]:
            return self._last_target[1]
        found = self._target(words)
        self._last_target = (key, found)
        return found

    def _target(self, words: Sequence[str]) -> tuple[int, str]:
        start = 0
        for position in range(len(words) - 1, -1, -1):
            if words[position] in OPERATORS:
                start = position + 1
                break
        head, first = self._head(words, start, len(words))
        if not head:
            return 0, ""
        # The argument number the typed words end at (it never decreases: the last is the most).
        position = max((at for _, at, _ in arguments_in(words, first, len(words))), default=0)
        masks = self.masks(head)
        # A later position the history never filled takes what the first one does.
        taken = masks[min(position + 1, POSITIONS) - 1] or masks[0]
        return taken, head

    @staticmethod
    def fits(wanted: tuple[int, str], used: tuple[int, str], own: bool = True) -> bool:
        """Whether an argument ``used`` as returned by ``argument_kinds`` may go where
        ``target`` says: of a kind taken there; a word known to be a name (a pod, not
        ``fix/x``, which may be a path too) only in its own program's commands, and a plain
        word (``use-context``) only after the same program and subcommand. One given to
        another program (not ``own``: ``reuse.reused_arguments``) only if it was a path or a
        host and goes where those go (a path, where nothing is known)."""
        kinds, head = used
        if not own:
            return kinds in (PATH, HOST, PATH | HOST) and bool(kinds & (wanted[0] or PATH))
        if not kinds:
            return True
        program, _, subcommand = head.partition(" ")
        wanted_program, _, wanted_subcommand = wanted[1].partition(" ")
        own = same_program(program, wanted_program)
        if kinds == WORD and not (own and subcommand == wanted_subcommand):
            return False
        if not wanted[0]:
            return True
        return bool(kinds & wanted[0]) and (kinds != NAME or own)

    def argument_kinds(self, text: str, tokens: Sequence[str]) -> list[tuple[int, str]]:
        """The kinds each token of the command ``text`` was used as (0: not an argument),
        judged by its spelling and by what its position took in the history, and the
        head (program, and subcommand when known) it was given to."""
        found = self._arguments.get(text)
        if found is not None and len(found) == len(tokens):
            return found
        found = [_NOT_AN_ARGUMENT] * len(tokens)
        for start, end in simple_commands(tokens):
            head, first = self._head(tokens, start, end)
            if not head:
                continue
            masks = self.masks(head)
            for index, position, kinds in arguments_in(tokens, first, end):
                if not kinds:
                    continue
                taken = masks[min(position, POSITIONS) - 1] or masks[0]
                if kinds == SLASHED:
                    # Its position cannot tell: a path there today, a branch there tomorrow
                    # (the mistyped "igt checkout -b fix/x" is run again as git's).
                    kinds = PATH | NAME
                elif kinds == BARE:
                    # From a position never seen: a word or a name, nothing that speaks
                    # for a path or a host.
                    kinds = taken or NAME | WORD
                found[index] = (kinds, head)
        if len(self._arguments) >= 4 * MAX_LEARNED_HEADS:
            self._arguments.clear()
        self._arguments[text] = found
        return found

    def head(self, tokens: Sequence[str], start: int, end: int) -> tuple[str, int]:
        """The head of the simple command ``tokens[start:end]`` and where its arguments start
        (``""``: none), as the table knows heads (``PathCheck`` reads suggestions by it)."""
        return self._head(tokens, start, end)

    # Learning --------------------------------------------------------------------------

    def learn(self, command: str, tokens: Sequence[str] | None = None,
              shape_of: Callable[[str], int] = shape) -> None:
        """Count the arguments of ``command`` (``tokens``: its tokens, when known), run after
        training (bounded: new heads stop being added past ``MAX_LEARNED_HEADS``)."""
        changed = False
        if tokens is None:
            tokens = tokenize(command)
        for start, end in simple_commands(tokens):
            head, first = self._head(tokens, start, end)
            if not head:
                continue
            if (
                " " not in head
                and head in self._with_subcommands
                and first < end
                and is_subcommand(tokens[first])
            ):
                head, first = head + " " + tokens[first], first + 1
            counts = self._counts.get(head)
            if counts is None:
                if len(self._counts) >= self._trained + MAX_LEARNED_HEADS:
                    continue
                counts = self._counts[head] = bytearray(COUNTS)
            for _, position, kinds in arguments_in(tokens, first, end, shape_of):
                if not kinds:
                    continue
                base = (min(position, POSITIONS) - 1) * SLOT_SIZE
                for offset, kind in enumerate(KINDS):
                    if kinds & kind or (kind == PATH and kinds == SLASHED) or (
                        kind == WORD and kinds == BARE
                    ):
                        _add(counts, base + offset, 1)
            before = self._masks.pop(head, None)
            # Only readings already made can read differently: a replay before any query (a
            # cold suggest's) compares nothing, and the masks are built when first asked for.
            if not changed and (self._arguments or self.paths_named or self._last_target[0]):
                changed = before != self.masks(head)
        if changed:
            # What the recent commands' arguments were taken for may read differently now.
            self._arguments.clear()
            self.paths_named.clear()
            self._last_target = ((), (0, ""))

    def learning(self, commands: Iterable[_Record]) -> Iterator[_Record]:
        """Journal records passed through unchanged, each command learned on the way (each
        tokenized, each word's shape read, once: a journal's commands repeat)."""
        tokens_of: dict[str, list[str]] = {}
        shapes: dict[str, int] = {}

        def shape_of(token: str) -> int:
            found = shapes.get(token)
            if found is None:
                found = shape(token)
                if len(shapes) < _REPLAY_CACHE:
                    shapes[token] = found
            return found

        for record in commands:
            command = record.get("c")
            if isinstance(command, str):
                tokens = tokens_of.get(command)
                if tokens is None:
                    tokens = tokenize(command)
                    if len(tokens_of) < _REPLAY_CACHE:
                        tokens_of[command] = tokens
                self.learn(command, tokens, shape_of)
            yield record


def names_a_file(token: str) -> bool:
    """Whether ``token`` is spelled as a file (``data/x.csv``), which no ``cd`` takes."""
    last = token.rsplit("/", 1)[-1]
    return "." in last and last.rsplit(".", 1)[1].lower() in _FILE_SUFFIXES


def takes_folders(program: str) -> bool:
    return program in _FOLDERS


def creates_paths(head: str) -> bool:
    """Whether ``head`` makes the paths it is given (``mkdir``), so none is checked."""
    return head in _CREATES


def plain_program(program: str) -> bool:
    """Whether ``program`` is a file tool that takes no subcommand (``mkdir``, ``vim``), so a
    head the history paired with its first argument (``mkdir out``) is still that program."""
    return program in _PRIOR_PATHS or program in _CREATES


def path_sort(head: str) -> int:
    """What each path argument of ``head`` must name: ``FOLDER``, ``FILE`` or ``ANY_PATH``."""
    return FOLDER if head in _FOLDERS else FILE if head in _FILES else ANY_PATH


def _add(counts: bytearray, at: int, amount: int) -> None:
    """Add to one count; past a byte, halve every count, keeping their ratios."""
    value = counts[at] + amount
    if value > MAX_KIND_COUNT:
        for index in range(len(counts)):
            counts[index] //= 2
        value = counts[at] + amount
    counts[at] = min(value, MAX_KIND_COUNT)


__all__ = [
    "ANY_PATH",
    "FILE",
    "FOLDER",
    "HOST",
    "KINDS",
    "MAX_KIND_COUNT",
    "MAX_HEADS",
    "MAX_HEAD_CHARS",
    "COUNTS",
    "NAME",
    "PATH",
    "POSITIONS",
    "WORD",
    "ArgumentKinds",
    "creates_paths",
    "names_a_file",
    "path_sort",
    "plain_program",
    "same_program",
    "takes_folders",
    "shape",
]

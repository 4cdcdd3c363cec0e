"""Argument reuse: completions of a typed command made of the arguments of the last commands.

New commands often reuse what the last few used: the file just edited is added to git, the
branch just created is pushed, a mistyped command is run again corrected. One home for the
rule, so the predictor (which serves it) and the self-tuning replay (which weighs it) agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from aprender_shell.history.tokens import OPERATORS, split_prefix
from aprender_shell.model import scoring
from aprender_shell.model.query.arguments import (
    HOST,
    PATH,
    WORD,
    ArgumentKinds,
    head_start,
    names_a_file,
    same_program,
    shape,
    takes_folders,
)
from aprender_shell.model.store.layout import END

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from aprender_shell.model.learned.overlay import Overlay
    from aprender_shell.model.query.continuations import NgramModel

# Paths every folder has: that another program was given one says nothing about this one.
_EVERYWHERE = frozenset({".", "..", "./", "../", "~", "~/", "/"})


def reusable(token: str) -> bool:
    """Whether an argument of a recent command may be proposed again in a new one."""
    return not (token.isalpha() or token.isdigit() or token[0] in "'\"" or token in OPERATORS)


def travels(token: str) -> bool:
    """Whether an argument may be offered to another program than the one it was given to:
    a file or a host by its spelling alone (``src/app.py``, ``db.example.com``), not a word,
    a name (``webapp:dev``, ``api``) or a folder every command can name (``.``)."""
    return shape(token) in (PATH, HOST, PATH | HOST) and token not in _EVERYWHERE


def program_of(tokens: Sequence[str], position: int) -> str:
    """The program of the simple command ``tokens[position]`` belongs to (``""``: none yet)."""
    start = position
    while start > 0 and tokens[start - 1] not in OPERATORS:
        start -= 1
    at = head_start(tokens, start, position)
    return tokens[at] if at < position else ""


def reused_arguments(
    prefix: str,
    recent_tokens: Iterable[Sequence[str]],
    fits: Callable[[int, int, bool], bool] | None = None,
    kept_out: list[int] | None = None,
) -> dict[str, list[int]]:
    """Each completion of ``prefix`` from a recent command's arguments, with the ages (0: the
    last command) of the commands it came from; empty before the first word is finished.

    The word being typed is completed with an argument of a recent command and whatever
    followed it there, up to the end of its simple command. Arguments made of letters or
    digits only are skipped, and options unless they followed the same word: they are mostly
    subcommands, flags and counts (``status``, ``-m``, ``3``), which the history and the
    n-grams know in their place. Quoted strings (messages, code) and operators are never
    reused. An argument given to another program (not *own*: ``same_program``) is never
    one every folder has (``less .`` from ``docker build -t webapp:dev .``), and comes without
    the options that followed it there. ``recent_tokens`` holds each recent command's tokens,
    most recent first. ``fits(age, position, own)``, when given, says whether that argument
    is of a kind the typed words take (``ArgumentKinds``: from another program only a path
    or a host, as ``build`` of ``mkdir build`` for ``cd``, never ``webapp:dev`` for ``vim``);
    the ages of the commands whose argument it keeps out are appended to ``kept_out``.
    Without it (the tuning replay, which has no kinds), no kind is judged.
    """
    words, partial = split_prefix(prefix)
    if not words or partial.startswith(("'", '"')):
        return {}
    program = program_of(words, len(words))
    folders = takes_folders(program)
    found: dict[str, list[int]] = {}
    for age, tokens in enumerate(recent_tokens):
        for position in range(1, len(tokens)):
            token = tokens[position]
            if not token.startswith(partial) or not reusable(token):
                continue
            own = same_program(program_of(tokens, position), program)
            if (not own and token in _EVERYWHERE) or (folders and names_a_file(token)):
                continue
            if token[0] != "-" or tokens[position - 1] == words[-1]:
                if fits is not None and not fits(age, position, own):
                    if kept_out is not None:
                        kept_out.append(age)
                    continue
                # From another program, only the files that follow come along: its options
                # are its own (``vim scripts/train.py``, without python's ``--epochs 20``).
                end = position + 1
                while end < len(tokens) and tokens[end] not in OPERATORS and (
                    own or travels(tokens[end])
                ):
                    end += 1
                rest = " ".join(tokens[position:end])
                found.setdefault(prefix + rest[len(partial) :], []).append(age)
    return found


def argument_share(options: Iterable[tuple[str, float]], plain_words: bool = False) -> float:
    """How much a context takes reusable arguments: the share of its next-token probabilities
    ``options`` that went to such arguments (1 when the context was never seen). With
    ``plain_words`` (where only paths, hosts or names go) a word of letters counts too."""
    total = taken = 0.0
    for token, probability in options:
        total += probability
        if token != END and (reusable(token) or (plain_words and token.isalpha())):
            taken += probability
    return taken / total if total > 0 else 1.0


def reused(
    prefix: str,
    weights: scoring.Weights,
    overlay: Overlay,
    kinds: ArgumentKinds,
    ngrams: NgramModel,
) -> dict[str, float]:
    """Commands made of the typed words and the arguments of a command run just before
    (``reused_arguments``); these share ``Weights.argument_reuse``, each in proportion to how
    recently its commands ran, as far as the typed words take arguments at all, and only
    where they take an argument of that kind (``ArgumentKinds``): a pod name is no file for
    ``vim``, a path no host for ``ssh``. The predictor's query asks here."""
    words = split_prefix(prefix)[0]
    wanted = kinds.target(words) if words else (0, "")
    recent_tokens = overlay.recent_tokens()
    kept_out: list[int] = []
    # recent_tokens() follows the recent commands, most recent first.
    commands = list(reversed(overlay.recent))

    def fits(age: int, position: int, own: bool) -> bool:
        used = kinds.argument_kinds(commands[age], recent_tokens[age])[position]
        return kinds.fits(wanted, used, own)

    found = reused_arguments(prefix, recent_tokens, fits, kept_out)
    if not found:
        return {}
    decay = scoring.decay
    tau = weights.argument_reuse_tau
    weights_of = {text: sum(decay(age, tau) for age in ages) for text, ages in found.items()}
    # As much as this context takes arguments at all: "vim " does, "git " takes subcommands.
    # Where the history shows only paths, hosts or names (``wanted``), a plain word that came
    # next was one too (``cd src``, ``git push origin main``), elsewhere mostly a subcommand.
    plain_words = bool(wanted[0]) and not wanted[0] & WORD
    share = argument_share(ngrams.after_words(words), plain_words=plain_words)
    # What a wrong kind kept out still counts in the total: it lends its share to no other.
    total = sum(weights_of.values()) + sum(decay(age, tau) for age in kept_out)
    return {text: share * w / total for text, w in weights_of.items()}

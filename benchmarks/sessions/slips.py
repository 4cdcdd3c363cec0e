"""How commands go wrong, with the exit status each kind gets from a real shell and tool.

- a slip in the command's name: ``gti status``, the shell answers 127 (not found);
- a slip in a subcommand: ``git stauts`` (git exits 1), ``cargo tset`` (101);
- a slip in an option: ``git add -As`` (git's usage errors exit 129), ``ls --al`` (2),
  ``docker compose up -d --biuld`` (docker's own errors exit 125);
- a run that fails on its own: tests (pytest 1, cargo 101), builds (make 2), containers
  (``docker compose up`` 125).

Each is followed by the intended command, as people retype it.
"""

from __future__ import annotations

import random

NOT_FOUND = 127
# What a tool exits with when its subcommand is unknown.
UNKNOWN_SUBCOMMAND = {"git": 1, "docker": 1, "kubectl": 1, "cargo": 101, "npm": 1, "go": 2,
                      "terraform": 127, "conda": 2, "gh": 1}
# What a tool exits with for an unknown option (most follow getopt's 2).
USAGE_ERROR = {"git": 129, "docker": 125, "kubectl": 1, "cargo": 1, "npm": 1}
BAD_USAGE = 2
# What a failed run exits with, by tool.
FAILED_RUN = {"make": 2, "cargo": 101, "docker": 125, "go": 1, "npm": 1, "npx": 1}
# Looked at again at once: states that change (status, listings, logs) and tests rerun.
RERUN = ("git status", "git diff", "ls", "ll", "docker ps", "kubectl get", "k get",
         "systemctl status", "sudo systemctl status", "df -h", "nvidia-smi", "make",
         "pytest", "cargo test", "go test", "npm test", "git pull", "git log", "terraform plan")


def misspell(rng: random.Random, word: str) -> str:
    """A slip of the fingers: two letters swapped, one lost or one doubled."""
    if len(word) < 2:
        return word
    at = rng.randrange(len(word) - 1)
    kind = rng.random()
    if kind < 0.5:
        return word[:at] + word[at + 1] + word[at] + word[at + 2:]
    if kind < 0.75:
        return word[:at] + word[at + 1:]
    return word[:at] + word[at] + word[at:]


def name_slip(rng: random.Random, command: str) -> str | None:
    """``command`` with its name misspelt (the shell: not found), if its name is a word."""
    word, space, rest = command.partition(" ")
    if len(word) < 2 or not word.isalpha():
        return None
    typo = misspell(rng, word)
    return None if typo == word else typo + space + rest


def subcommand_slip(rng: random.Random, command: str) -> tuple[str, int] | None:
    """``command`` with its subcommand misspelt, and the tool's exit status for that."""
    words = command.split(" ")
    if len(words) < 2 or words[0] not in UNKNOWN_SUBCOMMAND or not words[1].isalpha():
        return None
    typo = misspell(rng, words[1])
    if typo == words[1]:
        return None
    return " ".join([words[0], typo, *words[2:]]), UNKNOWN_SUBCOMMAND[words[0]]


def option_slip(rng: random.Random, command: str) -> tuple[str, int] | None:
    """``command`` with one option mangled (a letter too many, or misspelt), and the tool's
    usage-error status."""
    words = command.split(" ")
    options = [i for i, word in enumerate(words) if word.startswith("-") and len(word) > 1
               and word.lstrip("-").isalpha()]
    if not options:
        return None
    at = rng.choice(options)
    word = words[at]
    if word.startswith("--") and len(word) > 4:
        mangled = "--" + misspell(rng, word[2:])
    else:
        mangled = word + rng.choice("sxzq")
    if mangled == word:
        return None
    words[at] = mangled
    return " ".join(words), USAGE_ERROR.get(words[0], BAD_USAGE)


def slip(rng: random.Random, command: str) -> tuple[str, int] | None:
    """One way ``command`` could have gone wrong when typed, with its exit status; None
    when the chosen slip does not fit this command."""
    r = rng.random()
    if r < 0.35:
        found = option_slip(rng, command)
    elif r < 0.55:
        found = subcommand_slip(rng, command)
    else:
        found = None
    if found is not None:
        return found
    typo = name_slip(rng, command)
    return (typo, NOT_FOUND) if typo is not None else None


def failed_status(command: str) -> int:
    """What ``command`` exits with when the run itself fails (a test, a build, a container)."""
    return FAILED_RUN.get(command.split(" ", 1)[0], 1)


def rerun_chance(command: str, status: int) -> float:
    """How likely ``command`` is run again at once: a failure is retried, a state looked at
    again; anything else seldom."""
    if status:
        return 0.2
    if command.startswith(RERUN):
        return 0.12
    return 0.016

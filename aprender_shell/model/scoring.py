"""The one score that ranks every suggestion, and the constants it is tuned with.

A candidate command ``c`` typed after ``p`` (the previous command) scores::

    static(c)  = MU * short_weight(c) / W_short + (1 - MU) * long_weight(c) / W_long
    recent(c)  = (1 - RECENCY_WEIGHT) * static(c)
                 + RECENCY_WEIGHT * exp(-age_of_last_use(c) / TAU_RECENT) / W_recent
    context(c) = lam * transitions(p -> c) / count(p) + (1 - lam) * recent(c),
                 lam = CONTEXT_MAX * count(p) / (count(p) + KAPPA)

where the weights are occurrence counts decayed exponentially with the number of commands
run since (time constants ``TAU_SHORT`` and ``TAU_LONG``, in commands) and ``W_*`` are the
total weights, so ``static`` is a recency-weighted frequency. History candidates matching the
typed prefix share ``1 - novelty`` of the probability in proportion to ``context``; n-gram
continuations (commands never seen whole) share ``novelty``, the rate at which the history
introduces new commands. Once a word is typed, completions from the arguments of the last
commands add ``RECYCLE_SHARE`` more, and the three are scaled back to one distribution.
"""

from __future__ import annotations

import math

TAU_SHORT = 8.0
TAU_LONG = 3000.0
MU = 0.5
KAPPA = 1.0
# Even a well-known previous command leaves room for what was used recently.
CONTEXT_MAX = 0.3
NGRAM_BACKOFF = 0.4
# Share of the score given to what was run in the same working directory, when known.
CWD_WEIGHT = 0.3

# The most recently used match is a strong guess on its own (it is zsh-autosuggestions' whole
# strategy): the decayed weight of a command's last use alone, regardless of how often it was
# used, takes RECENCY_WEIGHT of its static score.
RECENCY_WEIGHT = 0.35
TAU_RECENT = 5.0

SUCCESSORS_KEPT = 12
# The last commands run are kept in order (the trained history's last ones in the index), up
# to this many and this long, for their arguments to be reused in new commands: completions
# built from them share RECYCLE_SHARE, weighted by recency with time constant RECYCLE_TAU.
RECENT_COMMANDS = 16
RECENT_COMMAND_CHARS = 200
RECYCLE_SHARE = 0.5
RECYCLE_TAU = 3.0
# How many best-ranked matches a query scores when a prefix matches many commands; the
# same number is stored for prefixes that span segments, so segmenting never changes answers.
RETRIEVED_CANDIDATES = 24
NGRAM_CONTINUATIONS = 12
MAX_COMMAND_CHARS = 2000


def decay(steps: float, tau: float) -> float:
    """The factor a weight loses over ``steps`` commands."""
    return math.exp(-steps / tau)


def total_weight(clock: float, tau: float) -> float:
    """Sum of the decayed weights of ``clock`` commands, the last of them just run."""
    if clock <= 0:
        return 0.0
    return (1.0 - math.exp(-clock / tau)) / (1.0 - math.exp(-1.0 / tau))


def static_score(short_weight: float, long_weight: float, w_short: float, w_long: float) -> float:
    """Recency-weighted frequency of a command, in [0, 1]."""
    short = short_weight / w_short if w_short > 0 else 0.0
    long_ = long_weight / w_long if w_long > 0 else 0.0
    return MU * short + (1.0 - MU) * long_


def context_weight(previous_count: int) -> float:
    """How much the previous command's successors count against the static score."""
    if previous_count <= 0:
        return 0.0
    return CONTEXT_MAX * previous_count / (previous_count + KAPPA)



def with_recency(static: float, age: int, w_recent: float) -> float:
    """``static`` mixed with how recently the command was last used, ``age`` commands ago."""
    if age < 0 or w_recent <= 0:
        return (1.0 - RECENCY_WEIGHT) * static
    return (1.0 - RECENCY_WEIGHT) * static + RECENCY_WEIGHT * decay(age, TAU_RECENT) / w_recent

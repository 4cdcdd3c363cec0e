"""The score's weights in words, for ``stats``: what counts and how much, without the names the
code gives them (``mu``, ``kappa``, ``tau_recent``)."""

from __future__ import annotations

from collections.abc import Sequence

from aprender_shell.model.scoring import DEFAULT_WEIGHTS, TAU_LONG, TAU_SHORT, Weights


def weights_in_words(
    pairs: Sequence[tuple[str, float]] | Sequence[Sequence[object]], tuned: bool, sample: bool
) -> list[str]:
    """``stats``' lines on how suggestions are scored. A model trained on the packaged sample
    says so wherever the words would otherwise speak of the user's history."""
    known = {str(item[0]): item[1] for item in pairs if len(item) == 2}
    w = Weights.from_mapping({
        name: value for name, value in known.items() if isinstance(value, (int, float))
    }) if known else DEFAULT_WEIGHTS
    whose = "the sample history's" if sample else "your"
    if tuned:
        how = f"chosen to save the most keystrokes on {whose} last commands"
    else:
        how = f"the defaults: {whose} history is too short to choose them"
    lines = [f"🎛  How suggestions are scored ({how}):"]
    lines.append(
        f"   What followed the command just run counts for up to {w.context_max:.0%} of a score, "
        f"the more the more often it was seen (half of that after {w.half_evidence:g}); "
        f"of it, {w.template:.0%} goes to the kind of command that followed (a `git commit -m` "
        f"whatever its message) and {w.last_follower:.0%} to what followed it last time."
    )
    lines.append(
        f"   The rest is how often a command is run ({w.short_share:.0%} over about the last "
        f"{TAU_SHORT:g} commands, {1 - w.short_share:.0%} over about the last {TAU_LONG:g}) and, "
        f"for {w.recency:.0%}, how lately: that fades over about {w.tau_recent:g} commands."
    )
    lines.append(
        f"   Commands run in this folder take {w.cwd:.0%}; one never run in this shell keeps "
        f"{1 - w.shell:.0%} of its score."
    )
    lines.append(
        f"   Words from the last commands reused in a new one weigh {w.argument_reuse:g} times "
        f"the rest, fading over about {w.argument_reuse_tau:g} commands; commands never seen "
        f"whole are offered as often as {whose} history brings new ones"
        + ("." if w.ngram == 1 else f" (times {w.ngram:g}).")
    )
    if w.repeat_rate != DEFAULT_WEIGHTS.repeat_rate or tuned:
        lines.append(
            f"   The command just run is offered again {w.repeat_rate:.1%} of the time: as often "
            f"as {whose} history ran a command twice in a row."
        )
    else:
        lines.append(f"   The command just run is offered again {w.repeat_rate:.0%} of the time.")
    return lines

"""What the suggestions saved the user, in words and a chart: the opening of ``stats``.

Read from the per-day sums the server keeps from the shells' feedback (learned/feedback.py):
suggestions shown, taken, keystrokes saved, and the share of commands run that were a
suggestion shown on their line, over the last 7 and 30 days, and one bar a day.
"""

from __future__ import annotations

from aprender_shell.model.learned.feedback import Feedback

BLOCKS = " ▁▂▃▄▅▆▇█"
ASCII_BLOCKS = " .:-=+*#%@"
CHART_DAYS = 30

__all__ = ["gains_lines"]


def gains_lines(
    feedback: Feedback, sample: bool, unicode: bool, now: float | None = None
) -> list[str]:
    """The lines ``stats`` opens with; ``sample`` when the model was trained on the packaged
    sample, ``unicode`` when the terminal takes block characters (else plain ASCII)."""
    whose = "the sample model's suggestions, not yet your history's" if sample else "your shells"
    lines = [f"💡 What it saved you (from {whose}):" if unicode else
             f"What it saved you (from {whose}):"]
    if feedback.problem is not None:
        return [*lines, f"   {feedback.problem}"]
    days = feedback.last_days(CHART_DAYS, now)
    week, month = _sums(days[-7:]), _sums(days)
    if not month["shown"] and not month["commands"]:
        return [*lines, "   Nothing yet: the shells report what you take as you use them."]
    lines.append(f"   {'':<22}{'last 7 days':>14}{'last 30 days':>16}")
    for label, name in (("Suggestions shown", "shown"), ("Accepted", "accepted"),
                        ("Keystrokes saved", "saved")):
        lines.append(f"   {label:<22}{week[name]:>14}{month[name]:>16}")
    lines.append(f"   {'Commands it got right':<22}{_share(week):>14}{_share(month):>16}")
    blocks = BLOCKS if unicode else ASCII_BLOCKS
    peak = max(sums["accepted"] for _, sums in days)
    bar = "".join(
        blocks[-1 if sums["accepted"] == peak else sums["accepted"] * (len(blocks) - 1) // peak]
        if peak else blocks[0]
        for _, sums in days
    )
    lines.append(f"   Accepted a day, {days[0][0]} to {days[-1][0]} (highest {peak}):")
    lines.append(f"   |{bar}|")
    return lines


def _sums(days: list[tuple[str, dict[str, int]]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for _, sums in days:
        for name, value in sums.items():
            total[name] = total.get(name, 0) + value
    return total


def _share(sums: dict[str, int]) -> str:
    if not sums["commands"]:
        return "-"
    commands = sums["commands"]
    return f"{min(sums['right'], commands) * 100 // commands}% of {commands}"

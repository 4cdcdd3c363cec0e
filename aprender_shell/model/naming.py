"""The names' parts of the score (``scoring.history_scores``, its module docstring's ``named``
and name first): what followed the previous command's *name* predicts the next name, and on
the empty line the name, surer than any one of its lines, picks the line ranked first.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from aprender_shell.model.scoring import Features, Parts, Weights


def scale_parts(parts: Parts, factor: float) -> None:
    """Every part of ``parts`` times ``factor`` (a mix that keeps ``factor`` of the score)."""
    for name, values in parts.items():
        parts[name] = [factor * v for v in values]


# How often lines of the previous command's name must have been followed for the next name's
# share to take half of ``Weights.names``.
NAME_HALF_EVIDENCE = 2.0


def named(
    values: list[float], features: Features, weights: Weights, parts: Parts | None = None
) -> list[float]:
    """``values`` mixed with ``p(name | previous name) x p(line | name)`` (``named``)."""
    shares, groups = features.name_share, features.name_group
    assert shares is not None
    totals: dict[int, float] = {}
    present: dict[int, float] = {}
    for value, group, share in zip(values, groups, shares):
        totals[group] = totals.get(group, 0.0) + value
        present[group] = share
    mass = sum(present.values())
    total = sum(values)
    if mass <= 0 or total <= 0:
        return values
    # a back-off: the name speaks as much as the line itself was seldom followed
    evidence, line = features.name_evidence, features.evidence
    half = max(weights.half_evidence, 0.5)
    beta = weights.names * evidence / (evidence + NAME_HALF_EVIDENCE) * half / (line + half)
    scale = total / mass
    named = [
        beta * scale * share * value / totals[group] if totals[group] > 0 else 0.0
        for value, group, share in zip(values, groups, shares)
    ]
    if parts is not None:
        scale_parts(parts, 1.0 - beta)
        parts["names"] = named
    return [(1.0 - beta) * value + extra for value, extra in zip(values, named)]


# How often the previous line (then its name's lines) must have been followed for what
# followed it to count half of the next name's chance, backing off to the name's lines
# (then to the candidates' own share of each name) for the rest.
NAME_TRUST_HALF = 2.0


def name_first(
    values: list[float], features: Features, weights: Weights, parts: Parts | None = None
) -> list[float]:
    """``values`` with the line of the most ``share + w.name_first * N(name)`` (module
    docstring) taking the best score, and the best line its score: the name's chance decides
    the first line where lines of a likely name are many, each a little likely."""
    shares, groups = features.name_share, features.name_group
    assert shares is not None
    totals: dict[int, float] = {}
    present: dict[int, float] = {}
    followed: dict[int, float] = {}  # what followed the previous line itself, by name
    for value, group, share, successor in zip(values, groups, shares, features.successor):
        totals[group] = totals.get(group, 0.0) + value
        present[group] = share
        followed[group] = followed.get(group, 0.0) + successor
    mass, total, seen = sum(present.values()), sum(values), sum(followed.values())
    if mass <= 0 or total <= 0:
        return values
    evidence = features.name_evidence
    trust = evidence / (evidence + NAME_TRUST_HALF)
    line = features.evidence if seen > 0 else 0
    own = line / (line + NAME_TRUST_HALF)
    chance = {
        group: own * followed[group] / max(seen, 1e-12) + (1.0 - own) * (
            trust * present[group] / mass + (1.0 - trust) * totals[group] / total)
        for group in totals
    }
    weight = weights.name_first
    first = max(range(len(values)),
                key=lambda i: values[i] / total + weight * chance[groups[i]])
    best = max(range(len(values)), key=values.__getitem__)
    if values[first] >= values[best]:
        return values
    traded = list(values)
    traded[first], traded[best] = values[best], values[first]
    if parts is not None:
        moved = parts.setdefault("name first", [0.0] * len(values))
        moved[first] += values[best] - values[first]
        moved[best] += values[first] - values[best]
    return traded

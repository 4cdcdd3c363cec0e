"""Commands never seen whole: the typed prefix extended token by token by the n-gram tables."""

from __future__ import annotations

from aprender_shell.history.tokens import split_prefix
from aprender_shell.model import scoring
from aprender_shell.model.store.layout import END, SEP, START
from aprender_shell.model.store.tables import Table

MAX_GENERATED_TOKENS = 8
# Next-token answers kept between queries (each a dozen tokens at most).
NEXT_TOKENS_KEPT = 16


class NgramModel:
    """The model's n-gram tables as a query reads them (order ``order``: contexts of up to
    ``order - 1`` tokens)."""

    def __init__(self, table: Table, order: int) -> None:
        self._table = table
        self.order = order
        self._cache: dict[tuple[str, ...], list[tuple[str, float]]] = {}

    def __len__(self) -> int:
        """How many segments the tables span (0: the model has no n-grams)."""
        return len(self._table)

    def after_words(self, words: list[str]) -> list[tuple[str, float]]:
        """Next-token probabilities after the words of a command line typed so far."""
        if not len(self._table):
            return []
        return self.next_tokens([START] * (self.order - 1) + words)

    def continuations(self, prefix: str, k: int) -> list[tuple[str, float]]:
        """Commands never seen whole: extend the prefix token by token with the n-gram model."""
        if not len(self._table):
            return []
        words, partial = split_prefix(prefix)
        context = [START] * (self.order - 1) + words
        first: list[tuple[str, float]] = []
        # When nothing the longest known context saw starts with the word being typed, what
        # shorter contexts saw may (backed off as usual).
        for width in range(self.order - 1, 0, -1):
            factor = scoring.NGRAM_BACKOFF ** (self.order - 1 - width)
            first = [
                (token, factor * p)
                for token, p in self.next_tokens(context[-width:])
                if token.startswith(partial) and not (partial and token == END)
            ]
            if first or not partial:
                break
        results = []
        for token, probability in first[:k]:
            if token == END:
                continue
            text = prefix + token[len(partial) :]
            tokens = context + [token]
            for _ in range(MAX_GENERATED_TOKENS):
                following = self.next_tokens(tokens)
                if not following:
                    break
                nxt, p = following[0]
                if nxt == END:
                    probability *= p
                    break
                probability *= p
                text += " " + nxt
                tokens.append(nxt)
            results.append((text, probability))
        return results

    def next_tokens(self, context: list[str]) -> list[tuple[str, float]]:
        """Next-token probabilities after ``context``, backing off to shorter contexts."""
        key = tuple(context[-(self.order - 1) :]) if self.order > 1 else ()
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        found = self._read_next_tokens(context)
        # The n-gram segments never change under a predictor, and successive keystrokes of a
        # word ask for the same contexts; a few answers are kept (the oldest goes first).
        if len(self._cache) >= NEXT_TOKENS_KEPT:
            del self._cache[next(iter(self._cache))]
        self._cache[key] = found
        return found

    def _read_next_tokens(self, context: list[str]) -> list[tuple[str, float]]:
        factor = 1.0
        for width in range(min(self.order - 1, len(context)), 0, -1):
            found = self._table.find(SEP.join(context[-width:]))
            if found is not None:
                view, index = found
                total, options = view.ngram(index)
                return [(token, factor * count / total) for token, count in options]
            factor *= scoring.NGRAM_BACKOFF
        return []

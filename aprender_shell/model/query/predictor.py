"""The paged command predictor: answers ``suggest`` from a model bundle within a memory limit.

Only the small ``index`` entry is decoded and kept; every query reads at most a few segments
through ``PagedBundle`` (the command segment holding the typed prefix, or the hot-prefix
segment when the prefix spans several; the previous command's segment for its successors;
n-gram segments when the command was never seen whole) and reads them in place, so the
memory held for the model is the paging cache, bounded by the limit, plus the index.
"""

from __future__ import annotations

import heapq
import os

from aprender_shell.bundle import BundleError, PagedBundle
from aprender_shell.errors import AprenderError, ChecksumError
from aprender_shell.fileio import identity_of, version
from aprender_shell.model import scoring
from aprender_shell.model.calibration import TOP, Calibration
from aprender_shell.model.learned.feedback import Feedback
from aprender_shell.model.learned.journal import Journal
from aprender_shell.model.learned.newest import FOLD_RECORDS, fold_bound, newest_records
from aprender_shell.model.learned.overlay import Overlay
from aprender_shell.model.learned.records import people_only, record_line, replay, without_commands
from aprender_shell.model.memory import MemoryLimit
from aprender_shell.model.query import reuse
from aprender_shell.model.query.arguments import ArgumentKinds
from aprender_shell.model.query.continuations import NgramModel
from aprender_shell.model.query.features import FeatureBuilder, shell_share
from aprender_shell.model.query.partial import CANDIDATES, with_partial
from aprender_shell.model.query.pathcheck import PathCheck
from aprender_shell.model.query.runs import Outcomes, RunContext, failing_kept, read_outcomes
from aprender_shell.model.query.successors import (
    NameFollowers,
    Names,
    Sequences,
    Successors,
    history_candidates,
)
from aprender_shell.model.store.index import ModelIndex
from aprender_shell.model.store.runs import RunCounts, RunTables
from aprender_shell.model.store.segments import CommandStats
from aprender_shell.model.store.tables import Table, check_fits, open_model_bundle, read_index
from aprender_shell.model.tuples import NamedTuple

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import Path

    from aprender_shell.model.query.stats import ModelStats

# At most this many of the commands learned since training join a query's candidates: the
# most recently used of those matching.
LEARNED_CANDIDATES = 48
# A model trained on the packaged sample gives way to the user's own commands: once any are
# recorded they rank above every suggestion of the sample, and after this many the sample's
# suggestions are no longer shown at all.
SAMPLE_GIVES_WAY_AFTER = 20


class Suggestion(NamedTuple):
    """A whole command line that starts with exactly what was typed, its score in [0, 1], and
    ``p``: the calibrated chance that it is the command run next (``model.calibration``)."""

    text: str
    score: float
    p: float = 0.0
    # the likely start of several lines, not a whole one (``model.query.partial``)
    partial: bool = False


class Predictor:
    """Suggests whole command lines from a paged model bundle; learns as commands are recorded.

    Not safe to share between threads: the server serialises requests; give each thread its
    own predictor otherwise.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        bundle: PagedBundle,
        index: ModelIndex,
        memory_limit: MemoryLimit | None = None,
        identity: tuple[int, int, int, int] | None = None,
        resident: bool = False,
        replay_limit: int | None = None,
    ) -> None:
        self.model_file = os.fspath(model_path)  # a str: no pathlib (nor re) when cold
        # The server replays up to its fold bound; a one-shot process only FOLD_RECORDS.
        self._full_replay = fold_bound(index.total_commands) if resident else FOLD_RECORDS
        self._replay_limit = min(replay_limit or self._full_replay, self._full_replay)
        self._bundle = bundle
        self._index = index
        # Taken before the bundle was opened (``open``): a model put in place in between then
        # reads as replaced and is reopened, never taken for the one open here.
        self._identity = identity if identity is not None else version(self.model_file)
        tables = index.tables
        self._commands = Table(bundle, tables["cmd"])
        self._hot = Table(bundle, tables["hot"])
        self._ngrams = NgramModel(Table(bundle, tables["ngram"]), index.ngram)
        self._trained_clock = index.total_commands
        self._novelty = index.novelty
        # What followed the previous commands (the last read kept), and pairs of them.
        self._sequences = Sequences()
        self._names = Names()  # what followed the previous command's name (query/successors.py)
        # The mixture this user's history chose at training (defaults when it had too little).
        self.weights = scoring.weights_from_index(index)
        self.calibration = Calibration.from_tuning(index.tuning)
        # What the exit statuses recorded since training say (``runs.Outcomes``).
        self._outcomes = Outcomes()
        self.memory_limit = MemoryLimit.choose(memory_limit, index.memory_limit)
        self._overlay = Overlay(self._trained_clock, self.memory_limit.learned)
        self._overlay.recent.extend(index.recent)
        self._journal = Journal(self.model_file, index.generation, self.model_replaced)
        self._arguments = ArgumentKinds(index.arguments)
        self._runs = RunContext(RunTables(bundle, index), self.memory_limit.size)
        self.feedback = Feedback.beside(self.model_file)
        self.replayed = 0
        self._replay(self._overlay)

    @property
    def model_path(self) -> Path:
        """The model file this predictor reads (``model_file`` as a ``Path``)."""
        from pathlib import Path
        return Path(self.model_file)

    @classmethod
    def open(
        cls,
        model_path: str | os.PathLike[str] | None = None,
        memory_limit: MemoryLimit | None = None,
        resident: bool = False,
        replay_limit: int | None = None,
    ) -> Predictor:
        """Open the model at ``model_path`` (default: the user's) within ``memory_limit``, else
        the limit it was trained for (``MemoryLimit.choose``). A ``resident`` process (the
        server) replays the journal up to its fold bound, any other the newest
        ``FOLD_RECORDS`` (learned/newest.py); ``replay_limit`` reads fewer
        (``replay_cut_short``)."""
        from aprender_shell.paths import model_file

        path = os.fspath(model_path) if model_path is not None else model_file()
        identity = version(path)
        # Learned commands count against the limit like segments: paging gets the rest.
        bundle = open_model_bundle(path, MemoryLimit.choose(memory_limit).paging)
        try:
            index = read_index(bundle, path)  # read, then evicted: the cache is empty again
            limit = MemoryLimit.choose(memory_limit, index.memory_limit)
            bundle.config = bundle.config.with_max_memory(limit.paging)
            check_fits(bundle, path, limit)
            return cls(path, bundle, index, limit, identity, resident, replay_limit)
        except ChecksumError as error:
            bundle.close()
            raise BundleError(f"{error}: retrain with 'aprender-shell train'") from error
        except BaseException:
            bundle.close()
            raise

    # Queries -----------------------------------------------------------------------------

    def suggest(
        self,
        prefix: str,
        k: int = 5,
        prev: Sequence[str] = (),
        cwd: str | None = None,
        shell: str | None = None,
        explained: dict[str, dict[str, float]] | None = None,
    ) -> list[Suggestion]:
        """The ``k`` most likely whole commands starting with ``prefix``, best first.

        ``cwd`` is the shell's working directory, ``shell`` its name (``zsh``, ``bash`` or
        ``fish``): commands run there and in that shell are preferred. ``explained``, when
        given, gets each candidate's score parts (``explain``).
        """
        if k <= 0 or len(prefix) > scoring.MAX_COMMAND_CHARS:
            return []
        try:
            if self._index.trained_on_sample:
                return self._give_way_to_own(
                    self._suggest(prefix, k + 24, prev, cwd, shell, explained), k
                )
            return self._suggest(prefix, k, prev, cwd, shell, explained)
        except ChecksumError as error:
            raise BundleError(f"{error}: retrain with 'aprender-shell train'") from error
        except BundleError:
            raise
        except (ValueError, IndexError, UnicodeDecodeError) as error:
            raise BundleError(
                f"model {self.model_path} is corrupt ({error}): retrain with 'aprender-shell train'"
            ) from error

    def shows(self, suggestions: Sequence[Suggestion]) -> bool:
        """Whether the shells show the best of these empty-line suggestions (its ``p`` reaches
        the level the user's own replay chose, ``Calibration.show_level``; a partial's, half)."""
        return bool(suggestions) and self.calibration.shows(suggestions[0].p,
                                                            suggestions[0].partial)

    def explain(
        self,
        prefix: str,
        k: int = 5,
        prev: Sequence[str] = (),
        cwd: str | None = None,
        shell: str | None = None,
    ) -> list[tuple[Suggestion, dict[str, float]]]:
        """``suggest``'s answer, each suggestion with its score's parts by name
        (``scoring.PARTS``; they sum to the score), computed by the same code."""
        explained: dict[str, dict[str, float]] = {}
        found = self.suggest(prefix, k, prev, cwd, shell, explained)
        return [(s, explained.get(s.text, {})) for s in found]

    def _suggest(
        self,
        prefix: str,
        k: int,
        prev: Sequence[str],
        cwd: str | None,
        shell: str | None,
        explained: dict[str, dict[str, float]] | None = None,
    ) -> list[Suggestion]:
        weights = self.weights
        candidates: dict[str, CommandStats | None] = dict(
            history_candidates(self._commands, self._hot, prefix)
        )
        previous = prev[-1] if prev else None
        sequence = Successors()
        if previous is not None:
            sequence = self._sequences.after(
                self._commands, self._overlay, self._bundle, prev, prefix, candidates
            )
        named = NameFollowers()
        if previous is not None and not prefix:
            named = self._names.after(self._commands, self._overlay, previous)
            for text, stats in named.candidates():
                candidates.setdefault(text, stats)
        for text in self._overlay.matching(prefix, LEARNED_CANDIDATES):
            candidates.setdefault(text, None)
        overlay = self._overlay
        clock = overlay.clock
        age = clock - self._trained_clock
        keep_short = scoring.decay(age, scoring.TAU_SHORT)
        keep_long = scoring.decay(age, scoring.TAU_LONG)
        templates = sequence.by_template() if sequence.count and weights.template else None
        builder = FeatureBuilder(
            clock,
            sequence.count,
            sequence.transitions,
            sequence.last,
            templates,
            scoring.template_among(templates, prefix) if templates else None,
            self._runs.folder(cwd, overlay) if cwd else None,
            shell_share(self._runs.shell_share(overlay), shell) if shell else None,
            # once a character is typed, the command just run matching it is likelier than
            # its unconditional repeat rate; its recency tells that (the tuning half agreed)
            None if prefix else previous,
            sequence.pair_count,
            sequence.pair_transitions,
            self._runs.host_share(overlay),
            named.shares(),
            named.total,
        )
        learned_stats = overlay.stats
        for text, stats in candidates.items():
            short = long_ = 0.0
            last = -1
            if stats is not None:
                short, long_ = stats.short_weight * keep_short, stats.long_weight * keep_long
                last = stats.last_position
            learned = learned_stats(text)
            if learned is not None:
                short, long_ = short + learned.short_weight, long_ + learned.long_weight
                last = max(last, learned.last_position)
            builder.add(text, short, long_, last)
        w_recent = scoring.total_weight(clock, weights.tau_recent)
        parts: scoring.Parts | None = {} if explained is not None else None
        values = scoring.history_scores(builder.features, weights, w_recent, parts)
        scored = dict(zip(candidates, values))
        continuations: list[tuple[str, float]] = []
        reused: dict[str, float] = {}
        if prefix.strip():
            continuations = self._ngrams.continuations(prefix, k)
            reused = reuse.reused(prefix, weights, self._overlay, self._arguments, self._ngrams)
        sources: dict[str, dict[str, float]] | None = {} if explained is not None else None
        combined = scoring.combine(scored, continuations, reused, self._novelty, weights, sources)
        # exit statuses drop usage errors and weigh failures; what the user takes gains, what
        # they skip loses (learned/feedback.py)
        weighed = self._outcomes.weigh(combined)
        results = self.feedback.weigh(weighed)
        if explained is not None and parts is not None and sources is not None:
            explained.update(scoring.attribute(list(candidates), values, parts, sources))
            scoring.attribute_factors(explained, combined, weighed, "exit")
            scoring.attribute_factors(explained, weighed, results, "feedback")
        paths = PathCheck(cwd, self._arguments) if cwd else None
        # One ranking of the best few serves the lines, p's reference and the partial ghost:
        # only many rejected paths (or a path check out of time) need the rest of it.
        wanted = max(k + PathCheck.SPARE, TOP, CANDIDATES)
        ranked = heapq.nsmallest(wanted, results.items(), key=_ranking)
        best = _best(ranked, k, paths)
        if len(best) < k and len(results) > wanted:
            best = _best(sorted(results.items(), key=_ranking), k, paths)
        # p reads a score against the best few's (``calibration.TOP``), as training measured it
        top = sum(value for _, value in ranked[:TOP]) if best else 0.0
        p, empty = self.calibration.p, not prefix
        found = [Suggestion(s.text, s.score, p(s.score / top, empty)) for s in best]
        if self._index.trained_on_sample or not top:  # the sample's starts are not the user's
            return found
        start = self.calibration.p_start
        return with_partial(prefix, results, lambda score: start(score / top, empty), found,
                            explained, paths.plausible if paths else None, ranked)

    def _give_way_to_own(self, found: list[Suggestion], k: int) -> list[Suggestion]:
        """The sample's suggestions below the user's own, and gone after enough of them."""
        recorded = self._overlay.clock - self._trained_clock
        if not recorded:
            return found[:k]
        own = [s for s in found if self._overlay.stats(s.text) is not None]
        if recorded >= SAMPLE_GIVES_WAY_AFTER:
            return own[:k]
        others = [s for s in found if self._overlay.stats(s.text) is None]
        if own:
            # Scaled, not dropped: their order among themselves stays, all below the user's.
            floor = own[-1].score / 2
            others = [Suggestion(s.text, s.score * floor) for s in others]
        return (own + others)[:k]

    # Learning ----------------------------------------------------------------------------

    def record(
        self,
        command: str,
        cwd: str | None = None,
        exit_status: int | None = None,
        prev: Sequence[str] = (),
        shell: str | None = None,
        agent: str | None = None,
    ) -> None:
        """Learn ``command`` now (run in ``shell`` when given). What the learning gate keeps out
        (a secret, a leading space, a ``history_filter`` match) is dropped, never stored, and
        never stored as context."""
        command = command.strip("\n")
        if not command.strip() or len(command) > scoring.MAX_COMMAND_CHARS:
            return
        from aprender_shell.history.privacy import default_gate

        gate = default_gate()
        if not gate.allows(command):
            return
        previous = prev[-1] if prev else None
        if previous is not None and not gate.allows(previous):
            previous = None
        # Written before it is learned (and before the caller acknowledges it): a command the
        # journal refused is neither learned nor acknowledged.
        record = record_line(command, cwd, exit_status, previous, shell, agent)
        self._journal.append(record)
        self.recorded += 1
        if people_only([record]):  # an agent's run is suggested only when asked for (README)
            self._overlay.learn(command, previous, cwd, shell, exit_status)
            self._outcomes.note(command, exit_status)
            before = prev[-2] if len(prev) >= 2 and gate.allows(prev[-2]) else None
            self._sequences.pairs.learn(before, previous, command)
            self._names.learn(previous, command)
            self._arguments.learn(command)

    def forget(self, matches: Callable[[str], bool]) -> int:
        """Drop the commands ``matches`` accepts from what was learned since training, in
        memory and in the journal; returns how many recorded commands went."""
        removed = self._journal.rewrite(*without_commands(matches))
        self._sequences = Sequences()
        self._names = Names()
        self.feedback.forget(matches)
        overlay = Overlay(self._trained_clock, self.memory_limit.learned)
        overlay.recent.extend(text for text in self._index.recent if not matches(text))
        self._arguments = ArgumentKinds(self._index.arguments)
        self._replay(overlay)
        self._overlay = overlay
        return removed

    def _replay(self, overlay: Overlay) -> None:
        """Learn the newest records of the journal up to this process's bound (learned/newest.py:
        the server folds what is past its bound into the model, so any open costs at most
        that bound)."""
        from aprender_shell.model.learned.records import agent_runs, agents_wanted

        if agents_wanted():  # agents' runs a fold put in the corpus (records.agent_runs)
            replay(overlay, self._arguments.learning(agent_runs(self._bundle, self._index,
                                                                self.model_file)))
        records, self.more_unfolded = newest_records(self._journal, self._replay_limit)
        # as of training; the journal goes on
        self._outcomes = read_outcomes(self._bundle, failing_kept(self.memory_limit.size))
        noted = self._sequences.pairs.noting(self._outcomes.noting(people_only(records)))
        self.replayed = replay(overlay, self._arguments.learning(noted))
        self.recorded = 0

    @property
    def replay_cut_short(self) -> bool:
        """Whether unfolded records this process would replay were left unread (opened with a
        smaller ``replay_limit``, as the server's first open: service/server.py)."""
        return self.more_unfolded and self._replay_limit < self._full_replay

    @property
    def unfolded(self) -> int:
        """Records in the journal (at least: past the bound only the newest were read)."""
        return self.replayed + self.recorded + (1 if self.more_unfolded else 0)

    def save(self) -> None:
        """Make what ``record`` appended durable (``fdatasync``); raises ``JournalError``."""
        self._journal.sync()
        self.feedback.save()

    def compact_journal(self) -> int:
        """Rewrite the journal without foreign or torn lines (the server does it at start);
        past the fold bound, the fold rewrites it instead (without reading it all here)."""
        return 0 if self.more_unfolded else self._journal.compact()

    @property
    def journal(self) -> Journal:
        return self._journal

    @property
    def dirty(self) -> bool:
        """True when records were appended, or feedback counted, and not yet saved."""
        return self._journal.unsynced or self.feedback.dirty

    def model_replaced(self) -> bool:
        """True when the model file was replaced (for example retrained) since it was opened."""
        return version(self.model_file) != self._identity

    def is_stale(self) -> bool:
        """True when the model file, or its journal, was replaced since they were read
        (retrained, updated, or records removed by ``forget``)."""
        if self.model_replaced():
            return True
        try:
            journal = identity_of(os.stat(self._journal.path))
        except OSError:
            journal = None
        return journal != self._journal.identity and journal is not None

    def close(self) -> None:
        self._journal.close()
        self._bundle.close()

    def __enter__(self) -> Predictor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stats(self) -> ModelStats:
        """The model's figures and this predictor's paging activity so far."""
        # Imported here: a query never needs it, and its NamedTuple costs a cold start 1 ms.
        from aprender_shell.model.query.stats import model_stats

        tables = len(self._commands) + len(self._hot) + len(self._ngrams) + self._runs.segments
        return model_stats(self, self._overlay, self._commands, self._ngrams.order, tables,
                           self._identity[2] if self._identity else 0,
                           self._overlay.clock - self._trained_clock)

    def knows(self, command: str) -> bool:
        """Whether ``command`` was learned, in training or since."""
        return self._overlay.stats(command) is not None or self._commands.find(command) is not None

    def run_counts(self, command: str) -> RunCounts | None:
        """How ``command``'s recorded runs went (shells, exits 0 and others), folded into the
        model and learned since (None: no shell or exit status was ever recorded for it)."""
        return self._runs.runs(command, self._overlay)

    @property
    def index(self) -> ModelIndex:
        return self._index

    @property
    def bundle(self) -> PagedBundle:
        return self._bundle


def _ranking(item: tuple[str, float]) -> tuple[float, str]:
    """Best score first, ties in the order of the text (answers never depend on dict order)."""
    return -item[1], item[0]


def _best(
    ranked: Iterable[tuple[str, float]], k: int, paths: PathCheck | None
) -> list[Suggestion]:
    """The first ``k`` positive suggestions of ``ranked`` whose paths are plausible."""
    best: list[Suggestion] = []
    for text, value in ranked:
        if value <= 0 or len(best) == k:
            break
        if paths is None or paths.plausible(text):
            best.append(Suggestion(text, min(1.0, value)))
    return best


__all__ = ["Predictor", "Suggestion", "AprenderError"]

"""A session: one predictor answering protocol requests, for the server and ``suggest --batch``.

The session opens the model on the first request that needs it, reopens it when it changes on
disk, saves what it learned, and answers every request line (either form, PROTOCOL.md) with
one answer line. What a request may hold is the protocol's (``service/protocol/``); what the
answer is, the session's.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Callable, Iterator

from aprender_shell.errors import AprenderError
from aprender_shell.fileio import FileVersion, version
from aprender_shell.limits import MAX_COMMAND_CHARS
from aprender_shell.service.descriptors import EXHAUSTED, out_of_descriptors_message
from aprender_shell.service.protocol import json_form, line_form, schema
from aprender_shell.service.protocol.json_form import error_line
from aprender_shell.service.protocol.schema import (
    MAX_LINE_BYTES,
    PROTOCOL_VERSION,
    RequestError,
)

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from typing import IO, Any

    from aprender_shell.model.query.predictor import Predictor, Suggestion
    from aprender_shell.service.protocol.json_form import Answer
    from aprender_shell.service.protocol.schema import RequestId

# Records are appended before they are acknowledged; this is how often they are also
# fdatasync'ed (journal.SYNC_INTERVAL): a power loss may lose the last second, a crash nothing.
SAVE_INTERVAL = 1.0

__all__ = ["SAVE_INTERVAL", "Session", "read_lines", "resident_bytes", "serve_stream"]


class Session:
    """Answers protocol requests with one predictor, opened on the first request that needs it.

    A missing or broken model gives an ``{"error": ...}`` answer per request (and is retried
    when the model file changes), never an exception. When the model file is replaced, what
    was learned is saved and the new model is opened.
    """

    def __init__(
        self,
        open_predictor: Callable[[], Predictor],
        *,
        model_path: os.PathLike[str] | str | None = None,
        save_interval: float = SAVE_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_predictor = open_predictor
        self._model_path = os.fspath(model_path) if model_path is not None else None
        self._save_interval = save_interval
        self._clock = clock
        self._predictor: Predictor | None = None
        self._open_error: str | None = None
        self._failed_identity: FileVersion | None = None
        self._last_save = clock()
        self.started = time.time()
        self.requests = 0
        self.errors = 0
        self.reloads = 0
        # The last failure to save (a record refused, a sync failed) and how many records
        # were refused: 'server status' shows them, 'server stop' exits non-zero.
        self.save_error: str | None = None
        self.unsaved = 0
        # Figures of whoever serves this session (the server's connections), for 'status'.
        self.status_extras: list[Callable[[], dict[str, Any]]] = []

    # Lifecycle ---------------------------------------------------------------------------

    def predictor(self) -> Predictor:
        """The open predictor, (re)opening it if needed; raises ``AprenderError`` if it cannot."""
        current = self._predictor
        if current is not None:
            if not current.is_stale():
                return current
            self._retire(current)
            self.reloads += 1
        # Reopening a broken bundle on every keystroke is wasted work: only retry once the
        # file changed (retrained, deleted, created).
        if (
            self._open_error is not None
            and self._model_path is not None
            and _identity(self._model_path) == self._failed_identity
        ):
            raise AprenderError(self._open_error)
        try:
            self._predictor = self._open_predictor()
        except Exception as error:
            message = str(error)
            if not isinstance(error, AprenderError):
                # A server must outlive a model it cannot read, whatever the reason.
                message = f"cannot open the model: {type(error).__name__}: {error}"
            self._open_error = message
            self._failed_identity = _identity(self._model_path) if self._model_path else None
            if isinstance(error, AprenderError):
                raise
            raise AprenderError(message) from error
        self._open_error = None
        self._last_save = self._clock()
        return self._predictor

    def reopen(self) -> Predictor:
        """Save what was learned, close the model and open it again (``predictor``)."""
        current = self._predictor
        if current is not None:
            self._retire(current)
        return self.predictor()

    def _retire(self, predictor: Predictor) -> None:
        self._predictor = None
        try:
            self._saving(lambda: _save(predictor))
        finally:
            predictor.close()

    def _saving(self, action: Callable[[], None]) -> None:
        """Run a save, remembering its failure for 'status' before letting it propagate."""
        try:
            action()
        except (AprenderError, OSError) as error:
            self.save_error = str(error)
            raise

    @property
    def dirty(self) -> bool:
        """True when commands were recorded and not yet saved."""
        return self._predictor is not None and self._predictor.dirty

    @property
    def loaded(self) -> bool:
        return self._predictor is not None

    def save(self) -> None:
        """Persist what was learned (a no-op when nothing was)."""
        # Stamped first: a failing disk is retried at the next interval, not on every request.
        self._last_save = self._clock()
        predictor = self._predictor
        if predictor is not None:
            self._saving(lambda: _save(predictor))

    def save_due_in(self) -> float | None:
        """Seconds until the periodic save is due (0 if overdue), or None when nothing to save."""
        if not self.dirty:
            return None
        return max(0.0, self._last_save + self._save_interval - self._clock())

    def save_if_due(self) -> None:
        due = self.save_due_in()
        if due is not None and due <= 0:
            self.save()

    def close(self) -> None:
        """Save what was learned and close the model."""
        predictor = self._predictor
        if predictor is not None:
            self._retire(predictor)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Requests ----------------------------------------------------------------------------

    def handle_line(self, line: str | bytes) -> str:
        """Answer one request line (JSON or the line form, trailing newline allowed) with one
        line in the same form (no newline), always encodable as UTF-8.

        Never raises: whatever one request makes go wrong is that request's error answer.
        """
        try:
            return self._answer_line(line)
        except Exception as error:  # noqa: BLE001 - one request must never end the session
            self.errors += 1
            return error_line(line, f"internal error: {type(error).__name__}: {error}")

    def handle_bytes(self, line: bytes) -> bytes:
        """As ``handle_line``, bytes in and UTF-8 bytes out (no newline)."""
        # handle_line already answers in valid UTF-8; "replace" only guards against a bug.
        return self.handle_line(line).encode("utf-8", "replace")

    def _answer_line(self, line: str | bytes) -> str:
        size = len(line) if isinstance(line, bytes) else len(line.encode("utf-8", "surrogatepass"))
        if size > MAX_LINE_BYTES + 2:
            self.requests += 1
            self.errors += 1
            return error_line(line, f"request line longer than {MAX_LINE_BYTES} bytes")
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError:
                return error_line(line, self._count_error("request is not valid UTF-8")["error"])
        elif schema.has_invalid_text(line):
            return error_line(line, self._count_error("request is not valid UTF-8")["error"])
        if line_form.is_line_form(line):
            return self._answer_line_form(line)
        return json_form.encode(self._answer_json(line))

    def _answer_line_form(self, line: str) -> str:
        request_id = line_form.request_id_of(line)
        try:
            request = line_form.parse(line)
        except line_form.LineFormError as error:
            return line_form.encode(self._count_error(str(error)), request_id)
        answer = self.handle(request)
        return line_form.encode(answer, request_id)

    def _answer_json(self, line: str) -> Answer:
        try:
            request = json_form.decode(line)
        except RequestError as error:
            return self._count_error(str(error))
        return self.handle(request)

    def _count_error(self, message: str) -> Answer:
        self.requests += 1
        self.errors += 1
        return {"error": message}

    def handle(self, request: Any) -> Answer:
        """Answer one decoded request; never raises for anything a client can send."""
        # Status probes (from 'server status', 'start', 'connect') are not the shells' requests.
        if not schema.is_status(request):
            self.requests += 1
        request_id: RequestId | None = None
        try:
            if isinstance(request, dict):
                request_id = schema.request_id(request)
            answer = self._dispatch(schema.parse(request))
        except RequestError as error:
            answer = {"error": str(error)}
        except AprenderError as error:
            answer = {"error": str(error)}
        except RecursionError:
            answer = {"error": "request is nested too deeply"}
        except OSError as error:
            answer = {"error": _os_error_message(error)}
        except Exception as error:  # noqa: BLE001 - one bad request must not end the session
            answer = {"error": f"internal error: {type(error).__name__}: {error}"}
        if "error" in answer:
            self.errors += 1
        if request_id is not None:
            answer["id"] = request_id
        return answer

    def _dispatch(self, request: schema.Request) -> Answer:
        if isinstance(request, schema.Suggest):
            return self._suggest(request)
        if isinstance(request, schema.Record):
            return self._record(request)
        if isinstance(request, schema.Forget):
            return self._forget(request)
        if isinstance(request, schema.Search):
            return self._search(request)
        if isinstance(request, schema.Feedback):
            return self._feedback(request)
        if isinstance(request, schema.Stats):
            return {"stats": self.predictor().stats().to_dict()}
        return {"status": self.status()}

    def _search(self, request: schema.Search) -> Answer:
        # Every past command the model keeps, ranked for Ctrl-R; a resident server reads the
        # model's corpus at its first search only, later ones cost the journal and the ranking.
        from aprender_shell.model.query.search import SearchFilters, ranked_commands

        filters = SearchFilters(request.folder, request.succeeded, request.host)
        commands = ranked_commands(
            self.predictor(), request.prev, request.cwd, request.shell, filters
        )
        return {"commands": commands}

    def _suggest(self, request: schema.Suggest) -> Answer:
        if request.k == 0 or len(request.prefix) > MAX_COMMAND_CHARS:
            return {"suggestions": []}
        predictor = self.predictor()
        suggestions = predictor.suggest(
            request.prefix, k=request.k, prev=request.prev, cwd=request.cwd, shell=request.shell
        )
        answer: Answer = {"suggestions": [_suggestion(s) for s in suggestions]}
        if not request.prefix:
            answer["show"] = predictor.shows(suggestions)
        return answer

    def _feedback(self, request: schema.Feedback) -> Answer:
        from aprender_shell.model.learned.feedback import LineFeedback

        predictor = self.predictor()
        line = LineFeedback(
            request.shown, request.saved, request.right, request.accepted, tuple(request.ignored)
        )
        predictor.feedback.note(line, predictor.knows)
        return {"ok": True}

    def _record(self, request: schema.Record) -> Answer:
        from aprender_shell.model.learned.journal import JournalError, StaleJournalError

        def record() -> None:
            self.predictor().record(
                request.command, cwd=request.cwd, exit_status=request.exit_status,
                prev=request.prev, shell=request.shell, agent=request.agent,
            )

        try:
            try:
                record()
            except StaleJournalError:
                # The model was retrained between our check and the write: reopen, retry once.
                record()
        except JournalError as error:
            self.save_error = str(error)
            self.unsaved += 1
            raise
        if request.agent is None:  # the share of commands it got right is of the user's own
            self.predictor().feedback.count_command()
        return {"ok": True}

    def _forget(self, request: schema.Forget) -> Answer:
        from aprender_shell.model.training.forget import command_matcher

        matches = command_matcher(request.pattern, request.match)
        return {"forgotten": self.predictor().forget(matches)}

    def status(self) -> dict[str, Any]:
        """This process and its model: what ``aprender-shell server status`` shows."""
        from aprender_shell.history.privacy import default_gate

        figures: dict[str, Any] = {
            "protocol": PROTOCOL_VERSION,
            "pid": os.getpid(),
            "started": self.started,
            "uptime": max(0.0, time.time() - self.started),
            "requests": self.requests,
            "errors": self.errors,
            "reloads": self.reloads,
            "model_path": self._model_path,
            "rss_bytes": resident_bytes(),
            "save_error": self.save_error,
            "unsaved_records": self.unsaved,
            "filter_problems": list(default_gate().current_problems()),
        }
        for extra in self.status_extras:
            figures.update(extra())
        try:
            stats = self.predictor().stats().to_dict()
        except AprenderError as error:
            figures["model_error"] = str(error)
        except Exception as error:  # noqa: BLE001 - a status probe must answer whatever the model
            figures["model_error"] = f"cannot read the model: {type(error).__name__}: {error}"
        else:
            figures["model_path"] = stats["model_path"]
            figures["stats"] = stats
        return figures


def serve_stream(session: Session, infile: IO[Any], outfile: IO[Any]) -> None:
    """Answer each line of ``infile`` with one line on ``outfile`` (flushed), until EOF; then save.

    Text streams with a binary ``buffer`` (``sys.stdin``/``sys.stdout``) are used as bytes, so
    invalid UTF-8 gets an error answer instead of ending the loop.
    """
    reader: IO[Any] = getattr(infile, "buffer", None) or infile
    writer: IO[Any] | None = getattr(outfile, "buffer", None)
    if writer is None and isinstance(outfile, (io.RawIOBase, io.BufferedIOBase)):
        writer = outfile
    try:
        for line in read_lines(reader):
            answer = session.handle_line(line)
            if writer is not None:
                writer.write(answer.encode("utf-8") + b"\n")
                writer.flush()
            else:
                outfile.write(answer + "\n")
                outfile.flush()
            # A failed periodic save is retried later, and reported by the final one.
            with contextlib.suppress(AprenderError, OSError):
                session.save_if_due()
    except BrokenPipeError:
        pass
    finally:
        session.close()


def read_lines(reader: IO[Any]) -> Iterator[str | bytes]:
    """Lines of ``reader``; an over-long line is cut short (and fails the size check), its
    rest read and dropped without being held in memory."""
    while True:
        line = reader.readline(MAX_LINE_BYTES + 3)
        if not line:
            return
        newline = b"\n" if isinstance(line, bytes) else "\n"
        if len(line) > MAX_LINE_BYTES + 2 and not line.endswith(newline):
            while True:
                rest = reader.readline(MAX_LINE_BYTES)
                if not rest or rest.endswith(newline):
                    break
        yield line


def resident_bytes() -> int | None:
    """This process's resident memory in bytes (Linux), else its peak, else None."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak if sys.platform == "darwin" else peak * 1024)
    except (ImportError, OSError):
        return None


def _os_error_message(error: OSError) -> str:
    # Its helpers are imported with this module: out of descriptors, an import would fail too.
    if error.errno in EXHAUSTED:
        return out_of_descriptors_message(error)
    return f"internal error: {type(error).__name__}: {error}"


def _save(predictor: Predictor) -> None:
    """Save what ``predictor`` learned, unless its model was deleted (uninstalled): a journal
    for a model that is gone would only be litter."""
    path = getattr(predictor, "model_path", None)
    if predictor.dirty and (path is None or os.path.exists(path)):
        predictor.save()


def _identity(path: str | None) -> FileVersion | None:
    return version(path) if path is not None else None


def _suggestion(found: Suggestion) -> Answer:
    """One suggestion as an answer carries it; a partial ghost (the likely start of several
    lines, ``model.query.partial``) says so with ``"partial": true`` (PROTOCOL.md)."""
    item: Answer = {"text": found.text, "score": round(found.score, 6), "p": round(found.p, 4)}
    if found.partial:
        item["partial"] = True
    return item

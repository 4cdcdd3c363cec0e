"""The JSON-lines protocol shared by ``suggest --batch`` and the resident server.

One JSON object per line in, one per line out::

    {"prefix": "git c", "k": 5, "prev": ["git add ."], "cwd": "/src"}
        -> {"suggestions": [{"text": "git commit -m fix", "score": 0.41}]}
    {"record": "git status", "cwd": "/src", "exit": 0, "prev": ["git add ."]}
        -> {"ok": true}
    {"stats": true}  -> {"stats": {...ModelStats...}}
    {"status": true} -> {"status": {"pid": ..., "requests": ..., ...}}
    {"forget": "git push -f", "match": "exact"} -> {"forgotten": 2}
        (match: exact, contains or regex; sent by 'aprender-shell forget')
    {"search": true, "prev": ["git add ."], "cwd": "/src", "shell": "zsh"}
        -> {"commands": ["git commit -m fix", "git push", ...]}
        (every past command the model keeps, ranked for Ctrl-R: ``search.py``)

A ``record`` whose command starts with a space, holds a secret or matches the user's
``history_filter`` is acknowledged and never learned nor journaled.

``suggest`` and ``record`` requests may name the ``"shell"`` (``zsh``, ``bash`` or ``fish``)
they come from. Shell scripts use the line form of the same two requests (``lines.py``).

Anything else answers ``{"error": "..."}`` and the conversation goes on. A request may carry an
``"id"`` (string or integer), echoed in its answer so a client can drop stale answers.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, Union

from aprender_shell.errors import AprenderError
from aprender_shell.service import lines
from aprender_shell.service.descriptors import EXHAUSTED, out_of_descriptors_message

if TYPE_CHECKING:
    from aprender_shell.model.query.predictor import Predictor

MAX_LINE_BYTES = 64 * 1024
MAX_K = 100
DEFAULT_K = 5
MAX_PREFIX_CHARS = 2000
# Only the most recent commands matter as context; a client sending thousands is trimmed.
MAX_PREV = 16
# Records are appended before they are acknowledged; this is how often they are also
# fdatasync'ed (journal.SYNC_INTERVAL): a power loss may lose the last second, a crash nothing.
SAVE_INTERVAL = 1.0
SHELLS = ("zsh", "bash", "fish")
MAX_ID_CHARS = 256
MAX_ID_INT = 2**63 - 1
# Enough of a line to read a line-form id from, when the rest of the line is not trusted.
_ID_PROBE = 2 * MAX_ID_CHARS + 16
_SURROGATE = re.compile("[\ud800-\udfff]")
_TERMINAL_CONTROL = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

Answer = dict[str, Any]
RequestId = Union[str, int]


class RequestError(ValueError):
    """A request that is not what the protocol allows; its message is sent back."""


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
        self._failed_identity: tuple[int, ...] | None = None
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
        elif _SURROGATE.search(line):
            return error_line(line, self._count_error("request is not valid UTF-8")["error"])
        if lines.is_line_form(line):
            return self._answer_line_form(line)
        return _encode(self._answer_json(line))

    def _answer_line_form(self, line: str) -> str:
        request_id = lines.request_id_of(line)
        try:
            request = lines.parse(line)
        except lines.LineFormError as error:
            return lines.encode(self._count_error(str(error)), request_id)
        answer = self.handle(request)
        return lines.encode(answer, request_id)

    def _answer_json(self, line: str) -> Answer:
        try:
            if not line.strip():
                return self._count_error("empty request: expected a JSON object")
            request = json.loads(line)
        except RecursionError:
            return self._count_error("request is nested too deeply")
        except ValueError as error:
            return self._count_error(f"request is not valid JSON ({_quote(str(error))})")
        return self.handle(request)

    def _count_error(self, message: str) -> Answer:
        self.requests += 1
        self.errors += 1
        return {"error": message}

    def handle(self, request: Any) -> Answer:
        """Answer one decoded request; never raises for anything a client can send."""
        # Status probes (from 'server status', 'start', 'connect') are not the shells' requests.
        if not (isinstance(request, dict) and "status" in request):
            self.requests += 1
        request_id: RequestId | None = None
        try:
            if not isinstance(request, dict):
                raise RequestError("request must be a JSON object")
            request_id = _request_id(request)
            answer = self._dispatch(request)
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

    def _dispatch(self, request: dict[str, Any]) -> Answer:
        kinds = [
            kind
            for kind in ("prefix", "record", "stats", "status", "forget", "search")
            if kind in request
        ]
        if not kinds:
            raise RequestError(
                "unknown request: expected a 'prefix', 'record', 'stats', 'status', 'forget' "
                "or 'search' key"
            )
        if len(kinds) > 1:
            together = " and ".join(repr(kind) for kind in kinds)
            raise RequestError(f"ambiguous request: {together} together")
        kind = kinds[0]
        if kind == "prefix":
            return self._suggest(request)
        if kind == "record":
            return self._record(request)
        if kind == "forget":
            return self._forget(request)
        if kind == "search":
            from aprender_shell.service.search import answer_search

            return answer_search(request, self.predictor)
        if kind == "stats":
            _check_flag(request, "stats")
            return {"stats": self.predictor().stats().to_dict()}
        _check_flag(request, "status")
        return {"status": self.status()}

    def _suggest(self, request: dict[str, Any]) -> Answer:
        prefix = request["prefix"]
        if not isinstance(prefix, str):
            raise RequestError("'prefix' must be a string")
        _check_text("prefix", prefix)
        k = request.get("k", DEFAULT_K)
        if k is None:
            k = DEFAULT_K
        if not _is_int(k) or k < 0:
            raise RequestError("'k' must be a non-negative integer")
        k = min(k, MAX_K)
        prev = _string_list(request, "prev")
        cwd = _optional_string(request, "cwd")
        shell = _shell(request)
        if k == 0 or len(prefix) > MAX_PREFIX_CHARS:
            return {"suggestions": []}
        suggestions = self.predictor().suggest(prefix, k=k, prev=prev, cwd=cwd, shell=shell)
        return {"suggestions": [{"text": s.text, "score": round(s.score, 6)} for s in suggestions]}

    def _record(self, request: dict[str, Any]) -> Answer:
        command = request["record"]
        if not isinstance(command, str):
            raise RequestError("'record' must be a string")
        _check_text("record", command)
        cwd = _optional_string(request, "cwd")
        exit_status = request.get("exit")
        if exit_status is not None and not (_is_int(exit_status) and abs(exit_status) < 2**31):
            raise RequestError("'exit' must be an integer")
        prev = _string_list(request, "prev")
        shell = _shell(request)
        from aprender_shell.model.learned.journal import JournalError, StaleJournalError

        try:
            try:
                self.predictor().record(
                    command, cwd=cwd, exit_status=exit_status, prev=prev, shell=shell
                )
            except StaleJournalError:
                # The model was retrained between our check and the write: reopen, retry once.
                self.predictor().record(
                    command, cwd=cwd, exit_status=exit_status, prev=prev, shell=shell
                )
        except JournalError as error:
            self.save_error = str(error)
            self.unsaved += 1
            raise
        return {"ok": True}

    def _forget(self, request: dict[str, Any]) -> Answer:
        from aprender_shell.model.training.forget import command_matcher

        pattern = request["forget"]
        if not isinstance(pattern, str):
            raise RequestError("'forget' must be a string")
        _check_text("forget", pattern)
        mode = _optional_string(request, "match") or "exact"
        matches = command_matcher(pattern, mode)
        return {"forgotten": self.predictor().forget(matches)}

    def status(self) -> dict[str, Any]:
        """This process and its model: what ``aprender-shell server status`` shows."""
        from aprender_shell.history.privacy import default_gate

        figures: dict[str, Any] = {
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


def _encode(answer: Answer) -> str:
    """``answer`` as one JSON line that encodes to UTF-8: text holding a lone surrogate (from a
    request, or a model that stores one) falls back to ``\\uXXXX`` escapes, which JSON allows."""
    text = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
    if _SURROGATE.search(text):
        return json.dumps(answer, separators=(",", ":"))
    if _TERMINAL_CONTROL.search(text):
        # JSON escapes C0 only; DEL, C1 and bidi controls could still drive a terminal that
        # shows the line. They only ever occur inside strings, where \uXXXX means the same.
        return _TERMINAL_CONTROL.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
    return text


def error_line(line: str | bytes, message: str) -> str:
    """An error answer to ``line`` in its own form (line form or JSON), with its id when one can
    be read without trusting the rest of the line; for requests that could not be handled."""
    raw = line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")
    if raw.startswith(lines.VERB_PREFIXES):
        request_id = lines.request_id_of(raw[:_ID_PROBE].decode("utf-8", "replace"))
        return lines.encode({"error": message}, request_id)
    return _encode({"error": message})


def _os_error_message(error: OSError) -> str:
    # Its helpers are imported with this module: out of descriptors, an import would fail too.
    if error.errno in EXHAUSTED:
        return out_of_descriptors_message(error)
    return f"internal error: {type(error).__name__}: {error}"


def _quote(text: str) -> str:
    # json's messages quote the input; a control character must not reach a terminal raw.
    return lines.escape(text)


def _request_id(request: dict[str, Any]) -> RequestId | None:
    value = request.get("id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RequestError("'id' must be a string or an integer")
    if isinstance(value, str):
        if len(value) > MAX_ID_CHARS:
            raise RequestError(f"'id' is longer than {MAX_ID_CHARS} characters")
        _check_text("id", value)
    elif not -MAX_ID_INT <= value <= MAX_ID_INT:
        raise RequestError("'id' must be an integer that fits in 64 bits")
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_flag(request: dict[str, Any], key: str) -> None:
    if request[key] is not True:
        raise RequestError(f"'{key}' must be true")


def _check_text(key: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise RequestError(f"'{key}' holds an invalid character (lone surrogate)") from None


def _optional_string(request: dict[str, Any], key: str) -> str | None:
    value = request.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RequestError(f"'{key}' must be a string")
    _check_text(key, value)
    return value


def _shell(request: dict[str, Any]) -> str | None:
    shell = _optional_string(request, "shell")
    if shell is not None and shell not in SHELLS:
        raise RequestError(f"'shell' must be one of {', '.join(SHELLS)}, not {shell[:20]!r}")
    return shell


def _string_list(request: dict[str, Any], key: str) -> Sequence[str]:
    value = request.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        raise RequestError(f"'{key}' must be a list of strings (most recent last)")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RequestError(f"'{key}' must be a list of strings (most recent last)")
    recent = value[-MAX_PREV:]
    for item in recent:
        _check_text(key, item)
    return recent


def _save(predictor: Predictor) -> None:
    """Save what ``predictor`` learned, unless its model was deleted (uninstalled): a journal
    for a model that is gone would only be litter."""
    path = getattr(predictor, "model_path", None)
    if predictor.dirty and (path is None or os.path.exists(path)):
        predictor.save()


def _identity(path: str | None) -> tuple[int, ...] | None:
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size, st.st_dev)

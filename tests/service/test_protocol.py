"""The JSON-lines protocol, without a server: exact answers, hostile input, model lifecycle."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aprender_shell.errors import BundleError
from aprender_shell.model.learned.feedback import Feedback
from aprender_shell.model.learned.journal import journal_path
from aprender_shell.model.query.predictor import Predictor, Suggestion
from aprender_shell.service.protocol.schema import MAX_LINE_BYTES
from aprender_shell.service.session import Session, serve_stream
from tests.service.conftest import texts, train


def test_an_empty_line_s_show_is_passed_on_in_both_forms() -> None:
    predictor = FakePredictor()
    session = Session(lambda: predictor)  # type: ignore[arg-type, return-value]
    assert session.handle({"prefix": ""})["show"] is True
    predictor.show = False
    assert session.handle({"prefix": ""})["show"] is False
    assert "show" not in session.handle({"prefix": "g"})
    assert session.handle_line("suggest\t7\t1\tzsh\t\t") == "quiet\t7\t-suggested"
    predictor.show = True
    assert session.handle_line("suggest\t7\t1\tzsh\t\t") == "suggestions\t7\t-suggested"


class FakePredictor:
    """Records how it was called; suggests ``prefix + "-suggested"``."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.recorded: list[tuple[Any, ...]] = []
        self.saves = 0
        self.closed = False
        self.stale = False
        self.fail_with: Exception | None = None
        self.shells: list[str | None] = []
        self.feedback = Feedback(Path("unused.feedback"))
        self.show = True  # what the predictor says of an empty line's answer

    def suggest(
        self,
        prefix: str,
        k: int = 5,
        prev: Sequence[str] = (),
        cwd: str | None = None,
        shell: str | None = None,
    ) -> list[Suggestion]:
        self.calls.append((prefix, k, list(prev), cwd))
        self.shells.append(shell)
        if self.fail_with is not None:
            raise self.fail_with
        return [Suggestion(prefix + "-suggested", 0.5, 0.4)][:k]

    def shows(self, suggestions: Sequence[Suggestion]) -> bool:
        return self.show

    def record(self, command: str, cwd: str | None = None, exit_status: int | None = None,
               prev: Sequence[str] = (), shell: str | None = None,
               agent: str | None = None) -> None:
        self.recorded.append((command, cwd, exit_status, list(prev)))
        self.shells.append(shell)

    @property
    def dirty(self) -> bool:
        return len(self.recorded) > 0 and self.saves == 0

    def save(self) -> None:
        self.saves += 1

    def is_stale(self) -> bool:
        return self.stale

    def close(self) -> None:
        self.closed = True

    def stats(self) -> Any:
        class Stats:
            def to_dict(self) -> dict[str, Any]:
                return {"model_path": "/fake", "hits": 1}

        return Stats()


class Opener:
    def __init__(self) -> None:
        self.opened: list[FakePredictor] = []

    def __call__(self) -> Any:
        predictor = FakePredictor()
        self.opened.append(predictor)
        return predictor

    @property
    def current(self) -> FakePredictor:
        return self.opened[-1]


@pytest.fixture
def opener() -> Opener:
    return Opener()


@pytest.fixture
def session(opener: Opener) -> Session:
    return Session(opener)


def ask(session: Session, request: Any) -> dict[str, Any]:
    line = request if isinstance(request, (str, bytes)) else json.dumps(request)
    answer = json.loads(session.handle_line(line))
    assert isinstance(answer, dict)
    return answer


def test_suggest_answers_with_text_and_score(session: Session, opener: Opener) -> None:
    answer = ask(session, {"prefix": "git c", "k": 3, "prev": ["git add ."], "cwd": "/src"})
    assert answer == {"suggestions": [{"text": "git c-suggested", "score": 0.5, "p": 0.4}]}
    assert opener.current.calls == [("git c", 3, ["git add ."], "/src")]


def test_k_prev_and_cwd_are_optional(session: Session, opener: Opener) -> None:
    ask(session, {"prefix": "ls"})
    ask(session, {"prefix": "ls", "k": None, "prev": None, "cwd": None})
    assert opener.current.calls == [("ls", 5, [], None)] * 2


def test_record_learns_and_answers_ok(session: Session, opener: Opener) -> None:
    answer = ask(session, {"record": "git status", "cwd": "/src", "exit": 1, "prev": ["ls"]})
    assert answer == {"ok": True}
    assert opener.current.recorded == [("git status", "/src", 1, ["ls"])]


def test_stats_answers_the_model_figures(session: Session) -> None:
    assert ask(session, {"stats": True}) == {"stats": {"model_path": "/fake", "hits": 1}}


def test_status_counts_requests_but_not_itself(session: Session) -> None:
    ask(session, {"prefix": "a"})
    ask(session, "not json")
    status = ask(session, {"status": True})["status"]
    assert status["requests"] == 2
    assert status["errors"] == 1
    assert status["stats"] == {"model_path": "/fake", "hits": 1}
    assert isinstance(status["pid"], int)


def test_the_id_of_a_request_is_echoed(session: Session) -> None:
    assert ask(session, {"prefix": "a", "id": 42})["id"] == 42
    assert ask(session, {"record": "a", "id": "x1"}) == {"ok": True, "id": "x1"}
    assert ask(session, {"prefix": 1, "id": 7}) == {"error": "'prefix' must be a string", "id": 7}


def test_the_model_is_opened_on_the_first_request_only(opener: Opener) -> None:
    session = Session(opener)
    assert opener.opened == []
    ask(session, {"prefix": "a"})
    ask(session, {"record": "b"})
    assert len(opener.opened) == 1


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        ({"prefix": 5}, "'prefix' must be a string"),
        ({"prefix": None}, "'prefix' must be a string"),
        ({"prefix": "a", "k": "5"}, "'k' must be a non-negative integer"),
        ({"prefix": "a", "k": 2.5}, "'k' must be a non-negative integer"),
        ({"prefix": "a", "k": True}, "'k' must be a non-negative integer"),
        ({"prefix": "a", "k": -1}, "'k' must be a non-negative integer"),
        ({"prefix": "a", "prev": "ls"}, "'prev' must be a list of strings (most recent last)"),
        ({"prefix": "a", "prev": ["ls", 3]}, "'prev' must be a list of strings (most recent last)"),
        ({"prefix": "a", "cwd": ["/"]}, "'cwd' must be a string"),
        ({"prefix": "\ud800"}, "'prefix' holds an invalid character (lone surrogate)"),
        ({"record": 1}, "'record' must be a string"),
        ({"record": "ls", "exit": "0"}, "'exit' must be an integer"),
        ({"record": "ls", "exit": False}, "'exit' must be an integer"),
        ({"stats": 1}, "'stats' must be true"),
        ({"search": 1}, "'search' must be true"),
        ({"search": True, "succeeded": "yes"}, "'succeeded' must be true or false"),
        ({"search": True, "folder": 3}, "'folder' must be a string"),
        ({"prefix": "a", "record": "b"}, "ambiguous request: 'prefix' and 'record' together"),
        ({"command": "ls"},
         "unknown request: expected a 'prefix', 'record', 'stats', 'status', 'forget', "
         "'search' or 'feedback' key"),
        ({"prefix": "a", "id": [1]}, "'id' must be a string or an integer"),
        ([1, 2], "request must be a JSON object"),
        ("ls", "request must be a JSON object"),
        (None, "request must be a JSON object"),
    ],
)
def test_malformed_requests_get_one_clear_error(
    session: Session, opener: Opener, request_: Any, error: str
) -> None:
    assert ask(session, json.dumps(request_)) == {"error": error}
    assert all(call[0] != "b" for predictor in opener.opened for call in predictor.calls)
    assert ask(session, {"prefix": "x"})["suggestions"]  # and the conversation goes on


@pytest.mark.parametrize(
    ("line", "start"),
    [
        ("", "empty request"),
        ("   \n", "empty request"),
        ("{not json", "request is not valid JSON"),
        ('{"prefix": "a"} trailing', "request is not valid JSON"),
        ('{"k": 1' + "0" * 5000 + "}", "request is not valid JSON"),
        (b'{"prefix": "\xff"}', "request is not valid UTF-8"),
        ("[" * 30_000 + "]" * 30_000, "request is nested too deeply"),
        ('{"prefix": "' + "a" * (MAX_LINE_BYTES + 10) + '"}', "request line longer than"),
    ],
    ids=["empty", "blank", "broken", "trailing", "huge-int", "bad-utf8", "deep", "too-long"],
)
def test_unreadable_lines_get_an_error_and_the_loop_goes_on(
    session: Session, line: str | bytes, start: str
) -> None:
    assert ask(session, line)["error"].startswith(start)
    assert ask(session, {"prefix": "x"})["suggestions"]


def test_a_huge_k_is_clamped_to_100(session: Session, opener: Opener) -> None:
    ask(session, {"prefix": "a", "k": 10**18})
    assert opener.current.calls[-1][1] == 100


def test_k_zero_and_overlong_prefixes_answer_nothing_without_asking_the_model(
    session: Session, opener: Opener
) -> None:
    assert ask(session, {"prefix": "a", "k": 0}) == {"suggestions": []}
    assert ask(session, {"prefix": "a" * 2001}) == {"suggestions": []}
    assert opener.opened == [] or opener.current.calls == []


def test_only_the_most_recent_previous_commands_are_passed_on(
    session: Session, opener: Opener
) -> None:
    prev = [f"cmd {n}" for n in range(1000)]
    ask(session, {"prefix": "a", "prev": prev})
    assert opener.current.calls[-1][2] == prev[-16:]


def test_a_missing_model_is_an_error_per_request_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "model.apbundle"
    session = Session(lambda: Predictor.open(path), model_path=path)
    first = ask(session, {"prefix": "git"})
    assert first == {"error": f"no model at {path}: run 'aprender-shell train' first"}
    assert ask(session, {"record": "ls"}) == first
    train(path)
    assert ask(session, {"prefix": "git c"})["suggestions"][0]["text"] == "git commit -m fix"


def test_a_corrupt_model_is_not_reopened_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "model.apbundle"
    path.write_bytes(b"not a bundle at all")
    attempts: list[int] = []

    def open_model() -> Predictor:
        attempts.append(1)
        return Predictor.open(path)

    session = Session(open_model, model_path=path)
    errors = {ask(session, {"prefix": "git"})["error"] for _ in range(5)}
    assert len(errors) == 1 and "retrain" in errors.pop()
    assert len(attempts) == 1
    train(path)
    assert ask(session, {"prefix": "git c"})["suggestions"]
    assert len(attempts) == 2


def test_an_unexpected_failure_to_open_is_reported_not_raised() -> None:
    def broken() -> Predictor:
        raise RuntimeError("disk on fire")

    session = Session(broken)
    assert ask(session, {"prefix": "a"}) == {
        "error": "cannot open the model: RuntimeError: disk on fire"
    }


def test_errors_from_the_model_are_answers(session: Session, opener: Opener) -> None:
    ask(session, {"prefix": "a"})
    opener.current.fail_with = BundleError("model is corrupt: retrain")
    assert ask(session, {"prefix": "a"}) == {"error": "model is corrupt: retrain"}
    opener.current.fail_with = KeyError("bug")
    assert ask(session, {"prefix": "a"}) == {"error": "internal error: KeyError: 'bug'"}
    opener.current.fail_with = None
    assert ask(session, {"prefix": "a"})["suggestions"]


def test_a_stale_model_is_saved_closed_and_reopened(session: Session, opener: Opener) -> None:
    ask(session, {"record": "git status"})
    old = opener.current
    old.stale = True
    ask(session, {"prefix": "git"})
    assert len(opener.opened) == 2
    assert old.saves == 1 and old.closed
    assert opener.current.calls == [("git", 5, [], None)]
    assert ask(session, {"status": True})["status"]["reloads"] == 1


def test_close_saves_what_was_learned(session: Session, opener: Opener) -> None:
    ask(session, {"record": "git status"})
    session.close()
    assert opener.current.saves == 1 and opener.current.closed


def test_periodic_save_is_due_only_when_dirty() -> None:
    now = [100.0]
    opener = Opener()
    session = Session(opener, save_interval=30, clock=lambda: now[0])
    ask(session, {"prefix": "a"})
    assert session.save_due_in() is None
    ask(session, {"record": "ls"})
    assert session.save_due_in() == 30
    now[0] += 31
    assert session.save_due_in() == 0
    session.save_if_due()
    assert opener.current.saves == 1
    assert session.save_due_in() is None


def test_serve_stream_answers_each_line_and_saves_at_eof(session: Session, opener: Opener) -> None:
    lines = [
        json.dumps({"prefix": "git c"}),
        "garbage",
        json.dumps({"record": "make"}),
        "",
        json.dumps({"prefix": "m", "id": 3}),
    ]
    out = io.StringIO()
    serve_stream(session, io.StringIO("\n".join(lines) + "\n"), out)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [sorted(answer) for answer in answers] == [
        ["suggestions"], ["error"], ["ok"], ["error"], ["id", "suggestions"]
    ]
    assert opener.current.saves == 1 and opener.current.closed


def test_serve_stream_reads_bytes_and_survives_an_endless_line(session: Session) -> None:
    huge = b'{"prefix": "' + b"x" * (5 * MAX_LINE_BYTES) + b'"}\n'
    data = huge + b'{"prefix": "\xff"}\n' + b'{"prefix": "ok"}\n'
    out = io.BytesIO()
    serve_stream(session, io.BytesIO(data), out)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(answers) == 3
    assert answers[0]["error"].startswith("request line longer than")
    assert answers[1]["error"] == "request is not valid UTF-8"
    assert answers[2] == {"suggestions": [{"text": "ok-suggested", "score": 0.5, "p": 0.4}]}


def test_record_then_suggest_without_retraining(model: Path) -> None:
    session = Session(lambda: Predictor.open(model), model_path=model)
    assert "kubectl get pods -n web" not in [
        s["text"] for s in ask(session, {"prefix": "kubectl g"})["suggestions"]
    ]
    recorded = ask(session, {"record": "kubectl get pods -n web", "cwd": "/k8s", "exit": 0})
    assert recorded == {"ok": True}
    answer = ask(session, {"prefix": "kubectl g"})
    assert answer["suggestions"][0]["text"] == "kubectl get pods -n web"
    session.close()
    reopened = Session(lambda: Predictor.open(model), model_path=model)
    assert texts(ask(reopened, {"prefix": "kubectl g"}))[0] == "kubectl get pods -n web"


def test_forget_drops_learned_commands_in_memory_and_in_the_journal(model: Path) -> None:
    session = Session(lambda: Predictor.open(model), model_path=model)
    for command in ("kubectl get pods -n web", "kubectl get pods -n web", "kubectl get nodes"):
        assert ask(session, {"record": command}) == {"ok": True}
    session.save()
    assert ask(session, {"forget": "pods -n web", "match": "contains"}) == {"forgotten": 2}
    assert texts(ask(session, {"prefix": "kubectl g"})) == ["kubectl get nodes"]
    session.close()
    assert b"pods" not in journal_path(model).read_bytes()


@pytest.mark.parametrize(
    ("request_", "message"),
    [({"forget": 5}, "'forget' must be a string"),
     ({"forget": "(x", "match": "regex"}, "not a regular expression"),
     ({"forget": "x", "match": "fuzzy"}, "match mode"),
     ({"forget": "", "match": "exact"}, "empty")],
)
def test_bad_forget_requests_get_one_clear_error(
    model: Path, request_: dict[str, Any], message: str
) -> None:
    session = Session(lambda: Predictor.open(model), model_path=model)
    assert message in ask(session, request_)["error"]


def test_missing_model_in_serve_stream_gives_one_error_line_each(tmp_path: Path) -> None:
    path = tmp_path / "absent.apbundle"
    out = io.StringIO()
    serve_stream(Session(lambda: Predictor.open(path)), io.StringIO('{"prefix": "a"}\n' * 3), out)
    assert out.getvalue().splitlines() == [
        json.dumps({"error": f"no model at {path}: run 'aprender-shell train' first"},
                   separators=(",", ":"))
    ] * 3


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["prefix", "k", "prev", "cwd", "record", "exit", "stats",
                                       "status", "id", "x"]), children, max_size=5),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_gets_exactly_one_kind_of_answer(request_: Any) -> None:
    session = Session(Opener())
    answer = json.loads(session.handle_line(json.dumps(request_)))
    kinds = set(answer) - {"id", "show"}  # "show" goes with "suggestions" (empty prefix)
    assert len(kinds) == 1
    assert kinds <= {"suggestions", "ok", "stats", "status", "error"}
    assert "show" not in answer or "suggestions" in answer
    if "error" in answer:
        assert isinstance(answer["error"], str) and "\n" not in answer["error"]


def test_learning_for_a_deleted_model_is_not_saved(model: Path) -> None:
    session = Session(lambda: Predictor.open(model), model_path=model)
    assert ask(session, {"prefix": "brew"})["suggestions"] == []
    model.unlink()  # 'aprender-shell uninstall' removed it
    assert ask(session, {"record": "brew upgrade"})["error"].startswith("no model at")
    session.close()
    assert not journal_path(model).exists()


def test_a_retrained_model_gets_what_was_learned_saved_first(model: Path) -> None:
    session = Session(lambda: Predictor.open(model), model_path=model)
    ask(session, {"record": "brew upgrade"})
    train(model, ["cargo test"] * 5)
    assert texts(ask(session, {"prefix": "car"})) == ["cargo test"]
    assert "brew upgrade" in journal_path(model).read_text()
    assert ask(session, {"status": True})["status"]["reloads"] == 1


# The line form, for shell scripts ------------------------------------------------------------


def test_line_form_suggest_answers_tab_separated(session: Session, opener: Opener) -> None:
    answer = session.handle_line("suggest\t7\t3\tzsh\t/src\tgit c\tls\tgit add .\n")
    assert answer == "suggestions\t7\tgit c-suggested"
    assert opener.current.calls == [("git c", 3, ["ls", "git add ."], "/src")]


def test_line_form_record_with_empty_optional_fields(session: Session, opener: Opener) -> None:
    assert session.handle_line("record\t\t\t\tmake test") == "ok"
    assert session.handle_line("record\tbash\t/tmp\t2\tls\tcd /tmp") == "ok"
    assert opener.current.recorded == [
        ("make test", None, None, []),
        ("ls", "/tmp", 2, ["cd /tmp"]),
    ]


def test_line_form_escapes_round_trip(session: Session, opener: Opener) -> None:
    answer = session.handle_line("suggest\t\t1\t\t\techo a\\tb\\\\c\\nd\x1b")
    assert opener.current.calls[-1][0] == "echo a\tb\\c\nd\x1b"
    # The answer escapes what it sends: no raw tab, newline or escape character reaches the shell.
    assert answer == "suggestions\t\techo a\\tb\\\\c\\nd\\x1b-suggested"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("suggest\t1\t2", "suggest needs"),
        ("record\tzsh", "record needs"),
        ("suggest\t1\tmany\t\t\tgit", "k must be a whole number"),
        ("record\t\t\tzero\tls", "exit must be a whole number"),
        ("suggest\t1\t1\t\t\tgit \\q", "unknown escape"),
        ("suggest\t1\t1\ttcsh\t\tgit", "'shell' must be one of"),
    ],
)
def test_line_form_errors_are_one_line_with_the_id(
    session: Session, line: str, message: str
) -> None:
    answer = session.handle_line(line)
    kind, request_id, text = answer.split("\t")
    assert kind == "error" and message in text
    assert request_id == ("1" if line.startswith("suggest") else "")
    # The session goes on.
    assert session.handle_line("record\t\t\t\tls") == "ok"


def test_json_requests_name_their_shell(session: Session, opener: Opener) -> None:
    assert ask(session, {"record": "ls", "shell": "fish"}) == {"ok": True}
    assert "error" in ask(session, {"prefix": "l", "shell": 3})


def test_the_shell_named_reaches_the_predictor(session: Session, opener: Opener) -> None:
    ask(session, {"record": "ls", "shell": "fish"})
    ask(session, {"prefix": "l", "shell": "bash"})
    assert session.handle_line("suggest\t7\t1\tzsh\t/src\tgi").startswith("suggestions\t7")
    session.handle_line("record\tbash\t/src\t0\tmake")
    ask(session, {"prefix": "m"})
    assert opener.current.shells == ["fish", "bash", "zsh", "bash", None]

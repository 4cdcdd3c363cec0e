"""Arguments that fit (#18.3), as a user meets them: a real server's answers and
``suggest --cwd``, after commands recorded through the server."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from tests.model.sessions import WORKDAY
from tests.service.conftest import ServerProcess, aprender, texts, train

Start = Callable[..., ServerProcess]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / "src").mkdir(parents=True)
    (folder / "README.md").write_text("# project\n")
    (folder / "Dockerfile").write_text("FROM scratch\n")
    return folder


def offered(server: ServerProcess, prefix: str, cwd: Path) -> list[str]:
    """What the server answers and what ``suggest --cwd`` prints, which must agree."""
    answer = texts(server.request({"prefix": prefix, "k": 10, "cwd": str(cwd)}))
    result = aprender("suggest", "-k", "10", "--cwd", str(cwd), "--model", str(server.model),
                      prefix)
    assert result.returncode == 0, result.stderr
    printed = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert printed == answer, (prefix, printed, answer)
    return answer


def record(server: ServerProcess, command: str, cwd: Path) -> None:
    assert server.request({"record": command, "cwd": str(cwd), "exit": 0}) == {"ok": True}


def test_an_argument_is_reused_only_from_the_same_program(
    tmp_path: Path, project: Path, run_server: Start
) -> None:
    server = run_server(train(tmp_path / "model.apbundle", WORKDAY * 3))
    record(server, "docker build -t webapp:dev .", project)
    for prefix in ("vim ", "less ", "vim w", "cat "):
        for text in offered(server, prefix, project):
            assert "webapp:dev" not in text and not text.endswith(" ."), (prefix, text)
    record(server, "docker compose logs -f api", project)
    for text in offered(server, "kubectl logs -f ", project):
        assert not text.endswith(" api"), text
    # Its own program takes it again; a file named by its path goes anywhere files go.
    assert "docker build -t webapp:dev ." in offered(server, "docker build -t w", project)
    record(server, "cat src/../README.md", project)
    assert "vim src/../README.md" in offered(server, "vim ", project)


def test_cd_is_offered_only_to_other_folders_that_exist(
    tmp_path: Path, project: Path, run_server: Start
) -> None:
    (project / "docs").mkdir()
    server = run_server(train(tmp_path / "model.apbundle", WORKDAY * 3))
    for command in ("vim README.md", "ls docs", "cd docs", "cd ..", f"cd {project}"):
        record(server, command, project)
    everywhere = offered(server, "cd ", project)
    assert "cd README.md" not in everywhere  # a file
    assert f"cd {project}" not in everywhere  # where the shell already is
    assert "cd ." not in everywhere
    assert "cd docs" in everywhere
    # Seen from elsewhere, the project is a folder to go to.
    assert f"cd {project}" in offered(server, "cd ", project / "docs")


def test_every_path_offered_was_checked_in_a_folder_without_them(
    tmp_path: Path, run_server: Start
) -> None:
    edits = [f"vim src/account{n}.c" for n in range(40)] + ["vim src/account.c"] * 5
    server = run_server(train(tmp_path / "model.apbundle", WORKDAY + edits))
    empty = tmp_path / "empty"
    empty.mkdir()
    for prefix in ("vim ", "vim s", "vim src/", "vim src/account"):
        for text in offered(server, prefix, empty):
            assert "src/" not in text, (prefix, text)
    (empty / "src").mkdir()
    (empty / "src" / "account.c").write_text("int x;\n")
    assert offered(server, "vim src/a", empty)[0] == "vim src/account.c"


def test_a_service_of_docker_compose_is_no_pod_for_kubectl(
    tmp_path: Path, project: Path, run_server: Start
) -> None:
    server = run_server(train(tmp_path / "model.apbundle"))  # kubectl never seen
    record(server, "docker compose logs -f api", project)
    record(server, "kubectl get pods", project)
    for prefix in ("kubectl logs ", "kubectl logs -f ", "kubectl logs -f a"):
        assert not any(text.endswith(" api") for text in offered(server, prefix, project))
    assert "docker compose logs -f api" in offered(server, "docker compose logs -f ", project)

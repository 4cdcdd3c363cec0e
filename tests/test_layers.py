"""The layers hold: no module imports a layer above its own, and only the CLI imports click.

Every module of the package is parsed and every import in it is checked, at any depth
(imports inside functions and under ``TYPE_CHECKING`` count too: a layer that needs one
belongs elsewhere).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "aprender_shell"
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

# For each layer: the packages of ours it must never import.
FORBIDDEN = {
    "bundle": ("history", "model", "evaluate", "service", "integration", "cli", "paths"),
    "history": ("model", "evaluate", "service", "integration", "cli"),
    "model": ("evaluate", "service", "integration", "cli"),
    "evaluate": ("service", "integration", "cli"),
    "sync": ("evaluate", "service", "integration", "cli"),
    "service": ("integration", "cli"),
    "integration": ("cli",),
}
# The bundle library is a library of its own: of ours it uses only these.
BUNDLE_MAY_IMPORT = ("aprender_shell.bundle", "aprender_shell.errors", "aprender_shell.fileio")


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def imported(path: Path) -> list[str]:
    """Every module name ``path`` imports, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.append(module)
            # `from aprender_shell import cli` imports the package aprender_shell.cli
            names.extend(f"{module}.{alias.name}" for alias in node.names)
    return names


def layer_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else ""


def ours(name: str, package: str) -> bool:
    return name == f"aprender_shell.{package}" or name.startswith(f"aprender_shell.{package}.")


def test_the_package_has_the_layers_checked_here() -> None:
    layers = {layer_of(path) for path in modules()}
    assert set(FORBIDDEN) <= layers and "cli" in layers
    assert len(modules()) > 50


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_layer_above_its_own(path: Path) -> None:
    layer = layer_of(path)
    names = imported(path)
    upward = [name for name in names for above in FORBIDDEN.get(layer, ()) if ours(name, above)]
    assert not upward, f"{path.relative_to(PACKAGE)} ({layer}) imports {sorted(set(upward))}"
    if layer == "bundle":
        foreign = [
            name for name in names
            if name.startswith("aprender_shell") and name != "aprender_shell"
            and not any(name == allowed or name.startswith(allowed + ".")
                        for allowed in BUNDLE_MAY_IMPORT)
        ]
        assert not foreign, f"the bundle library imports {sorted(set(foreign))}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_cli_imports_click(path: Path) -> None:
    if layer_of(path) == "cli":
        return
    clicks = [name for name in imported(path) if name == "click" or name.startswith("click.")]
    assert not clicks, f"{path.relative_to(PACKAGE)} imports click"


@pytest.mark.parametrize("name", ["errors", "fileio", "paths", "limits", "terminal"])
def test_the_shared_foundations_import_no_layer(name: str) -> None:
    layers = ("bundle", "history", "model", "evaluate", "service", "integration", "cli")
    upward = [found for found in imported(PACKAGE / f"{name}.py")
              for layer in layers if ours(found, layer)]
    assert not upward, f"{name}.py imports {upward}"


# Inside model/, what happens to the data: the foundations (the score's arithmetic, its
# command templates, what a score means as a probability, and the memory limit), then what
# is stored, what is learned live, answering a query, and training, each importing only
# those before it (a package's own modules are free to import each other).
MODEL_LAYERS = ("foundation", "store", "learned", "query", "training")
MODEL_FOUNDATIONS = ("scoring", "naming", "templates", "calibration", "memory", "tuples")


def model_layer_of(name: str) -> str | None:
    """The model layer of a module named ``aprender_shell.model.X...`` (None: not in model/)."""
    parts = name.split(".")
    if parts[:2] != ["aprender_shell", "model"] or len(parts) < 3:
        return None
    return "foundation" if parts[2] in MODEL_FOUNDATIONS else parts[2]


def model_modules() -> list[Path]:
    return sorted((PACKAGE / "model").rglob("*.py"))


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(
        ".__init__"
    )


def test_model_is_walked_by_what_happens_to_the_data() -> None:
    found = {model_layer_of(module_name(path)) for path in model_modules()}
    assert set(MODEL_LAYERS) <= found, found
    assert found - {"__init__"} <= set(MODEL_LAYERS) | {None}, found
    model = PACKAGE / "model"
    for folder in [model, *sorted(p for p in model.rglob("*") if p.is_dir())]:
        count = len([p for p in folder.glob("*.py") if p.name != "__init__.py"])
        assert count <= 12, f"{folder.relative_to(PACKAGE.parent)} has {count} modules"
    for path in model_modules():
        lines = path.read_text(encoding="utf-8").count("\n")
        assert lines <= 500, f"{path.relative_to(PACKAGE.parent)} has {lines} lines"


@pytest.mark.parametrize("path", model_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_model_module_imports_a_later_stage(path: Path) -> None:
    own = model_layer_of(module_name(path))
    if own is None or own not in MODEL_LAYERS:
        return  # model/__init__.py
    allowed = MODEL_LAYERS[: MODEL_LAYERS.index(own) + 1]
    later = sorted({
        name for name in imported(path)
        if (layer := model_layer_of(name)) in MODEL_LAYERS and layer not in allowed
    })
    assert not later, f"{path.relative_to(PACKAGE)} ({own}) imports {later}"


# The keystroke path's own modules: the fast path answers a cold ``suggest`` without click
# and reaches the model only through the query side; the terminal rules import nothing.
KEYSTROKE_MAY_IMPORT = {
    "argv": (),
    "fastpath": ("aprender_shell.argv", "aprender_shell.terminal", "aprender_shell.errors",
                 "aprender_shell.limits",
                 "aprender_shell.model.memory", "aprender_shell.model.query.predictor",
                 "aprender_shell.paths"),
    "terminal": (),
}


@pytest.mark.parametrize("name", sorted(KEYSTROKE_MAY_IMPORT))
def test_the_keystroke_modules_import_only_what_they_name(name: str) -> None:
    allowed = KEYSTROKE_MAY_IMPORT[name]
    foreign = sorted({
        found for found in imported(PACKAGE / f"{name}.py")
        if (found == "click" or found.startswith(("click.", "aprender_shell.")))
        and not any(found == ok or found.startswith(ok + ".") for ok in allowed)
    })
    assert not foreign, f"{name}.py imports {foreign}"


def test_the_checker_sees_imports_inside_functions_and_relative_ones() -> None:
    source = PACKAGE / "model" / "training" / "update" / "__init__.py"
    names = imported(source)
    assert "aprender_shell.model.training.train" in names
    assert any(name.startswith("aprender_shell.history") for name in names)
    assert "click" in imported(PACKAGE / "cli" / "options.py")


def benchmark_modules() -> list[Path]:
    return sorted(BENCHMARKS.rglob("*.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_package_never_imports_the_benchmarks(path: Path) -> None:
    # They are not in the wheel: an import of them would fail in every installed copy.
    found = [name for name in imported(path)
             if name == "benchmarks" or name.startswith("benchmarks.")]
    assert not found, f"{path.relative_to(PACKAGE)} imports {found}"


@pytest.mark.parametrize("path", benchmark_modules(),
                         ids=lambda p: str(p.relative_to(BENCHMARKS)))
def test_the_benchmarks_import_the_package_and_themselves_only(path: Path) -> None:
    ours = [name for name in imported(path) if name.split(".")[0] in ("tests", "shell")]
    assert not ours, f"benchmarks/{path.relative_to(BENCHMARKS)} imports {ours}"


def test_the_benchmarks_are_not_in_the_wheel() -> None:
    config = (PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8")
    packages = config.split("packages = [", 1)[1].split("]", 1)[0]
    assert "bench" not in packages and '"aprender_shell"' in packages
    assert benchmark_modules() and not (PACKAGE / "bench").exists()


def test_no_package_folder_holds_more_than_twelve_modules() -> None:
    # A folder past a dozen modules no longer tells a newcomer where a change goes.
    roots = [PACKAGE, PACKAGE.parent / "benchmarks"]
    for root in roots:
        for folder in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
            count = len([p for p in folder.glob("*.py") if p.name != "__init__.py"])
            assert count <= 12, f"{folder.relative_to(PACKAGE.parent)} has {count} modules"


def test_every_package_folder_is_in_the_wheel() -> None:
    # A regular install (pip install ., not editable) ships only the packages listed; one
    # missing there imports fine here and fails in every user's copy (suggest, train).
    config = (PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8")
    listed = set(config.split("packages = [", 1)[1].split("]", 1)[0].split('"')[1::2])
    folders = {".".join(("aprender_shell", *init.parent.relative_to(PACKAGE).parts))
               for init in PACKAGE.rglob("__init__.py")}
    assert sorted(folders - listed) == []

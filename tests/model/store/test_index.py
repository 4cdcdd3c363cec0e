"""``ModelIndex``: the model's index written and read by one owner, checked field by field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aprender_shell.errors import BundleError
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.store.index import MODEL_VERSION, ModelIndex
from tests.model.hostile import edit_index, read_index, trained


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return read_index(trained(tmp_path_factory.mktemp("index") / "model.apbundle"))


def copy(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(document))
    result.update(changes)
    return result


def test_training_writes_the_current_version_with_sizes_and_source(
    document: dict[str, Any],
) -> None:
    assert document["version"] == MODEL_VERSION == 5
    assert document["source"] == "history"
    assert isinstance(document["arguments"], dict)
    assert all(set(chunk) == {"name", "raw_size"} for chunk in document["corpus"])
    index = ModelIndex.from_dict(document)
    assert not index.trained_on_sample
    # a history long enough for self-tuning stores its weights; a short one keeps defaults
    from aprender_shell.model.training.tuning import MIN_COMMANDS

    assert (index.tuning is not None) == (index.total_commands >= MIN_COMMANDS)


def test_a_version_2_index_is_read_without_argument_kinds(document: dict[str, Any]) -> None:
    older = copy(document, version=2)
    del older["arguments"]
    index = ModelIndex.from_dict(older)
    assert index.arguments is None
    assert json.loads(index.to_json())["version"] == MODEL_VERSION
    # version 2 had no such field: one there is ignored, not trusted
    assert ModelIndex.from_dict(copy(document, version=2)).arguments is None


def test_tuning_weights_round_trip_and_are_checked(document: dict[str, Any]) -> None:
    tuned = ModelIndex.from_dict(copy(document, tuning={"cwd": 0.25, "recency": 1}))
    assert tuned.tuning == {"cwd": 0.25, "recency": 1.0}
    assert ModelIndex.from_json(tuned.to_json()).tuning == tuned.tuning
    for bad in ({"cwd": "high"}, {"cwd": True}, [0.3], {"cwd": 1e400}):
        with pytest.raises(BundleError, match="'tuning"):
            ModelIndex.from_dict(copy(document, tuning=bad))


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"format": "something-else"}, "not an aprender-shell model"),
        ({"version": 0}, "damaged index \\(version 0\\)"),
        ({"version": "2"}, "damaged index \\(version '2'\\)"),
        ({"version": MODEL_VERSION + 7}, "newer aprender-shell .* reads up to"),
        ({"source": "someone else's"}, "'source' must be one of history, sample"),
        ({"unique_commands": 10**9}, "'unique_commands' is 1000000000, outside"),
        ({"segment_budget": 10}, "'segment_budget' is 10, outside"),
        ({"corpus": [{"name": "corpus/0000", "raw_size": 2**40}]}, "'raw_size' is"),
        ({"recent": ["ls"] * 1000}, "'recent' has 1000 items"),
    ],
)
def test_each_wrong_field_is_one_line_naming_it(
    document: dict[str, Any], changes: dict[str, Any], says: str
) -> None:
    with pytest.raises(BundleError, match=says) as caught:
        ModelIndex.from_dict(copy(document, **changes))
    message = str(caught.value)
    assert "\n" not in message and ("retrain" in message or "upgrade" in message)


def test_unknown_keys_are_ignored_for_forward_compatibility(document: dict[str, Any]) -> None:
    assert ModelIndex.from_dict(copy(document, added_later={"x": 1})) == ModelIndex.from_dict(
        document
    )


def test_names_must_exist_in_the_bundle(tmp_path: Path) -> None:
    model = trained(tmp_path / "model.apbundle")
    edit_index(model, lambda index: index["corpus"].append({"name": "corpus/9999", "raw_size": 1}))
    with pytest.raises(BundleError, match="'corpus/9999', which the bundle does not hold"):
        Predictor.open(model)


def test_the_predictor_and_update_read_the_same_index(tmp_path: Path) -> None:
    model = trained(tmp_path / "model.apbundle")
    with Predictor.open(model) as predictor:
        assert predictor.index == ModelIndex.from_dict(read_index(model))
        assert predictor.stats().trained_on == "history"

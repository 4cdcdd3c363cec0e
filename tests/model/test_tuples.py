"""model/tuples.py's NamedTuple makes the same classes as typing.NamedTuple."""

from __future__ import annotations

import pickle
import typing

import pytest

from aprender_shell.model.tuples import NamedTuple


class Ours(NamedTuple):
    """A suggestion."""

    text: str
    p: float = 0.5
    show: bool = True

    def shown(self) -> str:
        return self.text if self.show else ""


class Theirs(typing.NamedTuple):
    """A suggestion."""

    text: str
    p: float = 0.5
    show: bool = True

    def shown(self) -> str:
        return self.text if self.show else ""


@pytest.mark.parametrize("made", [Ours, Theirs])
def test_a_named_tuple_behaves_as_typing_makes_it(made: type[Ours]) -> None:
    item = made("git status")
    assert item == ("git status", 0.5, True) and item.shown() == "git status"
    assert repr(item) == f"{made.__name__}(text='git status', p=0.5, show=True)"
    assert made._fields == ("text", "p", "show")
    assert made._field_defaults == {"p": 0.5, "show": True}
    assert item._replace(show=False).shown() == "" and made.__doc__ == "A suggestion."
    assert list(made.__annotations__) == ["text", "p", "show"]
    assert pickle.loads(pickle.dumps(item)) == item and made.__module__ == __name__
    text, p, show = item
    assert (text, p, show) == tuple(item)


def test_it_refuses_what_typing_refuses() -> None:
    with pytest.raises(AttributeError, match="_replace"):
        class Bad(NamedTuple):
            x: int

            def _replace(self) -> None:  # type: ignore[misc]
                pass

"""The ``search`` request: every past command the model keeps, ranked for Ctrl-R.

    {"search": true, "prev": ["git add ."], "cwd": "/src", "shell": "zsh",
     "folder": "/src", "succeeded": true, "host": "pc"}
        -> {"commands": ["git commit -m fix", "git push", ...]}

``prev``, ``cwd`` and ``shell`` are the context the ranking is for; ``folder``, ``succeeded``
and ``host`` the optional filters (``model.query.search.SearchFilters``). A resident server
reads the model's corpus at the first search only; later ones cost the journal and the ranking.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aprender_shell.service.protocol import (
    RequestError,
    _check_flag,
    _optional_string,
    _shell,
    _string_list,
)

if TYPE_CHECKING:
    from aprender_shell.model.query.predictor import Predictor


def answer_search(request: dict[str, Any], predictor: Callable[[], Predictor]) -> dict[str, Any]:
    """Check ``request`` whole, then answer it from the model ``predictor()`` opens."""
    from aprender_shell.model.query.search import SearchFilters, ranked_commands

    _check_flag(request, "search")
    succeeded = request.get("succeeded", False)
    if not isinstance(succeeded, bool):
        raise RequestError("'succeeded' must be true or false")
    filters = SearchFilters(
        _optional_string(request, "folder"), succeeded, _optional_string(request, "host")
    )
    prev = _string_list(request, "prev")
    cwd = _optional_string(request, "cwd")
    shell = _shell(request)
    return {"commands": ranked_commands(predictor(), prev, cwd, shell, filters)}

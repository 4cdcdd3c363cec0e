"""The ``search`` request: every past command the model keeps, ranked for Ctrl-R.

    {"search": true, "prev": ["git add ."], "cwd": "/src", "shell": "zsh",
     "folder": "/src", "succeeded": true, "host": "pc"}
        -> {"commands": ["git commit -m fix", "git push", ...]}

``prev``, ``cwd`` and ``shell`` are the context the ranking is for; ``folder``, ``succeeded``
and ``host`` the optional filters (``model.query.search.SearchFilters``). A resident server
reads the model's corpus at the first search only; later ones cost the journal and the ranking.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aprender_shell.model.query.predictor import Predictor
    from aprender_shell.service.protocol.schema import Search


def answer_search(request: Search, predictor: Predictor) -> dict[str, Any]:
    """The answer to a checked ``search`` request, from the open model ``predictor``."""
    from aprender_shell.model.query.search import SearchFilters, ranked_commands

    filters = SearchFilters(request.folder, request.succeeded, request.host)
    commands = ranked_commands(predictor, request.prev, request.cwd, request.shell, filters)
    return {"commands": commands}

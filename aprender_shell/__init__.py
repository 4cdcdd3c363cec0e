"""aprender-shell: shell autosuggestions learned from your own history.

The package is layered; each layer is a subpackage:

- ``aprender_shell.bundle``: the ``.apbundle`` file format and ``PagedBundle`` (a public API).
- ``aprender_shell.model``: history parsing, secret redaction, the n-gram predictor.
- ``aprender_shell.service``: the JSON-lines protocol and the resident per-user server.
- ``aprender_shell.integration``: zsh/bash integration (init scripts, rc-file blocks).
- ``aprender_shell.cli``: the click command line, a thin layer over the others.

Nothing is imported here so that ``aprender-shell suggest`` starts fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

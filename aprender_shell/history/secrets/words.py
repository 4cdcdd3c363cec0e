"""What a secret looks like in a shell command: literal values, secret names, shell words.

Shared by the rule modules (``secret_rules``, ``typed_secrets``): a value is a secret only when
it is a literal (not a ``$VARIABLE``, a path or an empty string), and a name holds one only when
it says so without pointing elsewhere (``--password`` does, ``--password-file`` does not).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

Check = Callable[[str], bool]


class Rule(NamedTuple):
    """A named check, run only when one of its literal anchors (lower case) is in the command
    and, when it has one, its gate (a search its check cannot match without) finds something."""

    name: str
    anchors: tuple[str, ...]
    check: Check
    gate: re.Pattern[str] | None = None


def rule(
    name: str, anchors: tuple[str, ...], pattern: str | Check, gate: re.Pattern[str] | None = None
) -> Rule:
    check: Check = re.compile(pattern).search if isinstance(pattern, str) else pattern  # type: ignore[assignment]
    return Rule(name, tuple(a.lower() for a in anchors), check, gate)


# A value that is a real literal: not a shell expansion, a redirection, the next option or a
# regular expression (``sed 's/password=.*/.../'``).
# (A lookahead for the letter or digit, then one run: two runs around it would backtrack.)
VALUE = r"""['"]?(?![$`<>|&;(){}\s'"-]|\.\*)(?=[^\s'"]*[A-Za-z0-9])[^\s'"]+"""
# The rest of one simple command (stops at pipes and command separators).
ARGS = r"[^|;&\n]*?"
# A literal word (quoted or not) that is not an expansion; its text is group sq, dq or bare.
LITERAL_WORD = (
    r"""(?:'(?P<sq>(?=[^'$`]*[A-Za-z0-9])[^']+)'"""
    r'|"(?P<dq>(?=[^"$`]*[A-Za-z0-9])[^"$`]+)"'
    r"""|(?P<bare>(?![$`<>|&;(){}'"-])(?=[^\s'"|;&<>]*[A-Za-z0-9])[^\s'"|;&<>]+))"""
)

# Name segments (names split at "-", "_", "." and camelCase) that say the value is a secret.
_SECRET_SEGMENT = re.compile(
    r"(?:[a-z]*pass(?:wd|word|words|phrase|code)?|pwd|pw|passwd|secrets?|[a-z]*tokens?|psk"
    r"|credentials?|creds?|apikey|accesskey|secretkey|privatekey|masterkey|authkey|licensekey)"
)
# ("tokens", plural, counts them: "--max-tokens", "--output-tokens 200".)
_NOT_SECRET_SEGMENTS = {
    "bypass", "compass", "surpass", "passthrough", "tokenizer", "tokenizers", "tokens",
}
# Words before "key" that make it a secret key ("--api-key", "access_key", "clientKey").
_KEY_QUALIFIERS = {
    "api", "access", "secret", "private", "master", "client", "auth", "license", "encryption",
    "signing", "account", "admin", "app", "subscription", "service", "storage", "shared",
    "session", "consumer", "webhook", "deploy", "sas", "primary", "secondary", "write", "read",
}
# Words before "secret" that make it one held ("--client-secret", "cookieSecret"), where alone
# after a namespace it names one kept elsewhere ("--tls-secret", "auth.existingSecret").
_SECRET_QUALIFIERS = _KEY_QUALIFIERS | {
    "jwt", "hmac", "cookie", "oauth", "oidc", "root", "db", "database", "bot", "token", "hook",
}
# Segments after the secret word that make the name point at a secret kept elsewhere, or
# describe one ("--password-file", "--token-ttl").
_POINTER_SEGMENTS = {
    "file", "files", "path", "paths", "dir", "stdin", "env", "var", "cmd", "command", "helper",
    "type", "method", "name", "names", "url", "uri", "endpoint", "ring", "server", "length",
    "len", "size", "bits", "no", "ttl", "expires", "expiry", "expiration", "prompt", "policy",
    "mode", "format", "fd", "source", "ref", "arn", "field", "store", "provider", "mount",
    "role", "engine", "backend", "min", "max", "count", "timeout", "header", "location", "from",
    "hash", "hashed", "scope", "scopes", "audience", "description", "label", "reset", "required",
    "manager", "vault", "id", "ids", "output", "out", "version", "lifetime", "refresh", "age",
    "rotation", "backup", "strength", "complexity", "alg", "algorithm", "kind", "template",
    "pattern", "regex", "prefix", "suffix", "on", "enabled", "disabled", "auth", "secret",
}
# Segments before it that do the same: a namespace ("auth.", "javax.net.ssl.keyStore") does not.
_PREFIX_POINTERS = {
    "no", "min", "max", "existing", "from", "reset", "require", "required", "prompt", "ask",
    "generate", "random", "show", "print", "skip", "disable", "disabled", "enable", "enabled",
    "allow", "hash", "hashed", "use", "mount", "length", "len", "count", "alias", "file", "env",
    "output", "out", "num", "total",
}
_HARMLESS_VALUES = {
    "true", "false", "yes", "no", "on", "off", "none", "null", "nil", "''", '""', "-", "stdin",
    "prompt", "ask", "env", "file", "auto", "default", "empty", "required", "optional",
}
PATH_LIKE = re.compile(
    r"^(?:[~.]|.*/)|\.(?:json|pem|key|txt|gpg|asc|ya?ml|crt|cer|p12|pfx|jks|cfg|conf|ini|toml"
    r"|pub|env|der|csr|keystore|kdbx)$",
    re.IGNORECASE,
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[-_.]+")


def name_segments(name: str) -> list[str]:
    return [s for s in _SEPARATORS.split(_CAMEL.sub("_", name).lower()) if s]


def secret_option_name(name: str) -> bool:
    """Whether an option or key called ``name`` (``--db-pass``, ``client_secret``,
    ``auth.postgresPassword``) holds a secret value, rather than naming one kept elsewhere
    (``--token-file``, ``--tls-secret``)."""
    segments = name_segments(name)
    last = -1
    for number, segment in enumerate(segments):
        previous = segments[number - 1] if number else ""
        if segment in _NOT_SECRET_SEGMENTS:
            continue
        if _SECRET_SEGMENT.fullmatch(segment):
            if segment in ("secret", "secrets") and len(segments) > 1:
                if previous in _SECRET_QUALIFIERS:
                    last = number  # "--client-secret", "jwtSecret"
                continue  # "--secret-name", "--tls-secret": judged by their other segments
            last = number
        elif segment in ("key", "keys") and previous in _KEY_QUALIFIERS:
            last = number
    if last < 0:
        return False
    plain = [not _SECRET_SEGMENT.fullmatch(s) for s in segments]
    return not (
        any(p and s in _POINTER_SEGMENTS for s, p in zip(segments[last + 1 :], plain[last + 1 :]))
        or any(p and s in _PREFIX_POINTERS for s, p in zip(segments[:last], plain[:last]))
    )


def secret_value(value: str) -> bool:
    """Whether a literal option value is a secret (not empty, a path, a keyword or a source
    like ``env:VAR`` that points elsewhere)."""
    value = value.strip("'\"")
    if not value or value.lower() in _HARMLESS_VALUES or PATH_LIKE.search(value):
        return False
    # openssl-style sources: "env:VAR", "file:path", "fd:3" point elsewhere; "pass:X" does not.
    lowered = value.lower()
    if lowered.startswith(("env:", "file:", "fd:", "keychain:", "op://", "vault:", "secret:")):
        return False
    if lowered.startswith("pass:"):
        return len(value) > 5 and value[5] not in "$`"
    return True


def literal(match: re.Match[str]) -> str | None:
    """The text of a ``LITERAL_WORD`` match."""
    for group in ("sq", "dq", "bare"):
        text = match.group(group)
        if text is not None:
            return text
    return None


_SECRET_NAME_PARTS = (
    "PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "APIKEY", "API_KEY", "ACCESS_KEY",
    "ACCESSKEY", "PRIVATE_KEY", "CREDENTIAL", "AUTH_TOKEN",
)
_POINTER_SUFFIXES = ("_FILE", "_PATH", "_DIR", "_CMD", "_COMMAND", "_HELPER", "_ID_FILE")


def secret_name(name: str) -> bool:
    """Whether an environment variable called ``name`` holds a secret by its name."""
    upper = name.upper()
    if upper.endswith(_POINTER_SUFFIXES):
        return False
    if any(part in upper for part in _SECRET_NAME_PARTS):
        return True
    segments = upper.split("_")
    return upper.endswith("TOKEN") or segments[-1] in ("PASS", "PWD", "PAT") and len(segments) > 1


# --- shell words ---------------------------------------------------------------------------

# Shell words: quoted strings or runs of anything else (one pass, no backtracking).
_WORD = re.compile(r"""'[^']*'?|"[^"]*"?|[^\s'"]+""")


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def literal_text(word: str) -> str | None:
    """A word's text when it is a literal, else None (like the other rules, a ``$`` anywhere,
    even single-quoted, reads as a variable the secret stays in)."""
    if "$" in word or "`" in word:
        return None
    return word.strip("'\"")


def echoed_literal(simple: list[str]) -> str | None:
    """What an ``echo``/``printf`` simple command writes, when it is one literal."""
    for number, word in enumerate(simple):
        if word not in ("echo", "printf"):
            continue
        rest = [w for w in simple[number + 1 :] if not (w.startswith("-") and len(w) <= 3)]
        if word == "printf" and rest and "%" in rest[0]:
            rest = rest[1:]
        return literal_text(rest[0]) if rest else None
    return None


# Quoted strings (which may span lines), command separators, and runs of anything else.
_PIECE = re.compile(r"""'[^']*'?|"(?:\\.|[^"\\])*"?|(\|\||&&|[|;&\n])|[^'"|;&\n]+""")


def simple_commands(command: str) -> tuple[list[str], list[str]]:
    """The simple commands of ``command`` and the separators between them (quotes honoured)."""
    texts: list[str] = []
    separators: list[str] = []
    current: list[str] = []
    for match in _PIECE.finditer(command):
        separator = match.group(1)
        if separator is None:
            current.append(match.group(0))
        else:
            texts.append("".join(current))
            separators.append(separator)
            current = []
    texts.append("".join(current))
    return texts, separators


def piped_literals(command: str) -> list[tuple[str, list[str]]]:
    """Each literal fed to a simple command's input (``echo X |``, ``printf X |``, ``<<< X``),
    with the words of the command that reads it."""
    fed: list[tuple[str, list[str]]] = []
    simple, separators = simple_commands(command)
    for number, text in enumerate(simple):
        if "<<<" in text:
            before, _, after = text.partition("<<<")
            after_words = words(after)
            value = literal_text(after_words[0]) if after_words else None
            if value:
                fed.append((value, words(before) + after_words[1:]))
        if number < len(separators) and separators[number] == "|":
            value = echoed_literal(words(text))
            if value:
                fed.append((value, words(simple[number + 1])))
    return fed

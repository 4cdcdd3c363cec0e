"""Secrets in commands: a command that holds one is never learned, stored or suggested.

Policy: the whole command is dropped, never redacted, because a redacted command is neither
safe to suggest nor what the user typed. A value that is only a shell expansion (``$TOKEN``,
``"${PASS}"``, ``$(pass show x)``), a path (``--password-file ~/.pw``) or an empty string is not
a secret: the secret stays outside the history.

The rules are classes of shapes, not lists of commands:

- **secret-option**: an option or ``key=value`` / JSON key whose name has a secret word in it
  (pass, passwd, password, passphrase, pwd, secret, token, credential, ``api``/``access``/
  ``private``/``client``... key, auth with ``user:pass``), followed by a literal value: ``--db-pass
  X``, ``-storepass X``, ``--from-literal=client_secret=X``, ``'{"password": "X"}'``. Names that
  point at the secret instead of holding it (``--token-file``, ``--password-stdin``,
  ``--secret-name``, ``--key-id``, ``--password-length``) are not secrets.
- **login-short-option**: ``-p``/``-P``/``-k``/``-K``/``-w`` with a value in a command that logs
  in or connects (a ``login``, ``logon``, ``signin``, ``auth``, ``connect`` word): ``az login -p
  X``; and a bare ``password X`` word pair there (``nmcli ... connect net password X``).
- **stdin-secret**: a literal fed by a here-string or by ``echo``/``printf`` through a pipe into
  a command that reads a secret from its input: an option naming ``stdin``, a password, a token
  or a secret (``--password-stdin``, ``--with-token``), a login/auth subcommand, ``sudo -S``,
  ``passwd``/``chpasswd``.
- **credentials-file**: a literal written (``>``, ``>>``, ``tee``) into a file that holds
  credentials: ``.pgpass``, ``.netrc``, ``.git-credentials``, ``.aws/credentials``, ``.npmrc``,
  ``.pypirc``, ``.my.cnf``, ``.docker/config.json``, ``.vault-token``, or any file whose name says
  credential, secret, token or password.
- **vendor-token**: tokens with a published prefix (GitHub ``ghp_``..., GitLab ``glpat-``..., npm
  ``npm_``, PyPI ``pypi-``, Docker ``dckr_pat_``, Hugging Face ``hf_``, OpenAI ``sk-proj-``,
  Anthropic ``sk-ant-``, Stripe ``sk_live_``, Slack ``xox?-``, Vault ``hvs.``/``hvb.``,
  DigitalOcean ``dop_v1_``, Shopify ``shpat_``, Atlassian ``ATATT``, SendGrid ``SG.``, Twilio
  ``SK``/``AC`` + 32 hex, AWS ``AKIA``..., Google ``AIza``, JWTs, ...) and **prefixed-token**: any
  short word, a ``_``, ``-`` or ``.``, then 20+ random-looking characters mixing case and digits
  (a prefix nobody listed yet, old Vault ``s.`` tokens).
- HTTP credentials: ``Authorization:`` and other auth headers, ``Bearer <token>``, ``curl -u
  user:pass``, httpie ``-a user:pass``, URLs with ``user:password@``;
- environment assignments (``export X=``, ``X=v cmd``, fish ``set -x X v``) whose name says
  secret (``*TOKEN``, ``*SECRET*``, ``*PASSWORD*``, ``*_PASS``, ``*API_KEY*``...), not pointers to
  one (``*_FILE``, ``*_PATH``, ``*_DIR``);
- tools that take a password as a flag or argument: ``mysql -pX``, ``sshpass -p``, ``htpasswd
  -b``, ``redis-cli -a``, ``mongo -p``, ``sqlcmd -P``, ``ldap* -w``, ``zip -P``, ``7z -pX``,
  ``smbclient -U user%pass``, ``openssl -pass pass:X`` / ``-k X``, ``ssh-keygen -N X``;
- private key blocks (``-----BEGIN ... PRIVATE KEY-----``);
- last, long random-looking strings: 32+ characters mixing upper case, lower case and digits
  with frequent switches between them and few word-like runs. Lower-case hex (git SHAs,
  checksums) and UUIDs never match; random ids (a Google Drive file id) may.

Speed: every rule but the last two has literal anchors, found in one pass over the distinct
anchors; a command holding none of a rule's anchors skips it without running its expression.
The token rules also need one long run of token characters, which most commands lack
(``contains_secret`` runs on every record; ``unscreened_rules`` runs every rule, for tests).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from aprender_shell.history.token_shapes import (
    RUN_16,
    RUN_20,
    prefixed_token,
    random_body,
    random_string,
    vendor_token,
)

if TYPE_CHECKING:
    from aprender_shell.history.formats import HistoryEntry

# A value that is a real literal: not a shell expansion, a redirection, the next option or a
# regular expression (``sed 's/password=.*/.../'``).
# (A lookahead for the letter or digit, then one run: two runs around it would backtrack.)
_VALUE = r"""['"]?(?![$`<>|&;(){}\s'"-]|\.\*)(?=[^\s'"]*[A-Za-z0-9])[^\s'"]+"""
# The rest of one simple command (stops at pipes and command separators).
_ARGS = r"[^|;&\n]*?"
# A literal word (quoted or not) that is not an expansion; its text is group sq, dq or bare.
_LITERAL_WORD = (
    r"""(?:'(?P<sq>(?=[^'$`]*[A-Za-z0-9])[^']+)'"""
    r'|"(?P<dq>(?=[^"$`]*[A-Za-z0-9])[^"$`]+)"'
    r"""|(?P<bare>(?![$`<>|&;(){}'"-])(?=[^\s'"|;&<>]*[A-Za-z0-9])[^\s'"|;&<>]+))"""
)

# A subcommand that logs in or connects: a word of its own, not part of "--connect-timeout",
# "auth@host" or "/auth/".
_LOGIN_WORD = (
    r"(?<![\w@./:=-])(?i:login|logon|log-in|signin|sign-in|auth|authenticate|connect|adduser)"
    r"(?![\w@./:=-])"
)

# Name segments (names split at "-", "_", "." and camelCase) that say the value is a secret.
_SECRET_SEGMENT = re.compile(
    r"(?:[a-z]*pass(?:wd|word|words|phrase|code)?|pwd|pw|passwd|secrets?|[a-z]*tokens?"
    r"|credentials?|creds?|apikey|accesskey|secretkey|privatekey|masterkey|authkey|licensekey)"
)
_NOT_SECRET_SEGMENTS = {"bypass", "compass", "surpass", "passthrough", "tokenizer", "tokenizers"}
# Words before "key" that make it a secret key ("--api-key", "access_key", "clientKey").
_KEY_QUALIFIERS = {
    "api", "access", "secret", "private", "master", "client", "auth", "license", "encryption",
    "signing", "account", "admin", "app", "subscription", "service", "storage", "shared",
    "session", "consumer", "webhook", "deploy", "sas", "primary", "secondary", "write", "read",
}
# Segments that make the name point at a secret kept elsewhere, or describe one.
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
_HARMLESS_VALUES = {
    "true", "false", "yes", "no", "on", "off", "none", "null", "nil", "''", '""', "-", "stdin",
    "prompt", "ask", "env", "file", "auto", "default", "empty", "required", "optional",
}
_PATH_LIKE = re.compile(
    r"^(?:[~.]|.*/)|\.(?:json|pem|key|txt|gpg|asc|ya?ml|crt|cer|p12|pfx|jks|cfg|conf|ini|toml"
    r"|pub|env|der|csr|keystore|kdbx)$",
    re.IGNORECASE,
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _name_segments(name: str) -> list[str]:
    return [s for s in re.split(r"[-_.]+", _CAMEL.sub("_", name).lower()) if s]


def secret_option_name(name: str) -> bool:
    """Whether an option or key called ``name`` (``--db-pass``, ``client_secret``) holds a
    secret value, rather than naming one kept elsewhere (``--token-file``)."""
    segments = _name_segments(name)
    if not segments:
        return False
    secret = False
    for number, segment in enumerate(segments):
        if segment in _NOT_SECRET_SEGMENTS:
            continue
        if _SECRET_SEGMENT.fullmatch(segment):
            if segment in ("auth", "secret") and len(segments) > 1:
                continue  # "--auth-type", "--secret-name": judged by their other segments
            secret = True
        elif segment in ("key", "keys") and number and segments[number - 1] in _KEY_QUALIFIERS:
            secret = True
    if not secret:
        return False
    return not any(s in _POINTER_SEGMENTS for s in segments if not _SECRET_SEGMENT.fullmatch(s))


def _secret_value(value: str) -> bool:
    value = value.strip("'\"")
    if not value or value.lower() in _HARMLESS_VALUES or _PATH_LIKE.search(value):
        return False
    # openssl-style sources: "env:VAR", "file:path", "fd:3" point elsewhere; "pass:X" does not.
    lowered = value.lower()
    if lowered.startswith(("env:", "file:", "fd:", "keychain:", "op://", "vault:", "secret:")):
        return False
    if lowered.startswith("pass:"):
        return len(value) > 5 and value[5] not in "$`"
    return True


def _literal(match: re.Match[str]) -> str | None:
    for group in ("sq", "dq", "bare"):
        text = match.group(group)
        if text is not None:
            return text
    return None


# --- rules with their anchors ------------------------------------------------------------

Check = Callable[[str], bool]

_OPTION = re.compile(
    r"(?:^|[\s'\"])--?([A-Za-z][A-Za-z0-9]*(?:[-_.][A-Za-z0-9]+)*)(?:=|\s+)" + "(" + _VALUE + ")"
)
# key=value and key: value inside arguments, option lists, query strings and JSON.
_KEY_VALUE = re.compile(
    r"(?:^|(?<!\balias)[^A-Za-z0-9_.-])[\"']?([A-Za-z][A-Za-z0-9_.-]*)[\"']?"
    r"(?:\s*=\s*|\s*:\s*(?=[\"']))" + "(" + _VALUE.replace("[^\\s'\"]", "[^\\s'\",&;]") + ")"
)


def _secret_option(command: str) -> bool:
    for pattern in (_OPTION, _KEY_VALUE):
        for match in pattern.finditer(command):
            name, value = match.group(1), match.group(2)
            if not secret_option_name(name):
                continue
            if _name_segments(name) == ["auth"] and ":" not in value.strip("'\":"):
                continue  # "--auth basic": a scheme; "--auth user:pass" holds one
            if _secret_value(value):
                return True
    return False


_BARE_KEY = re.compile(r"(?:^|\s)--?(?:key|K)(?:=|\s+)(" + _VALUE + ")")


def _bare_key(command: str) -> bool:
    """``--key X`` / ``-K X`` hold a secret only when X looks random (not ``2`` or a path)."""
    for match in _BARE_KEY.finditer(command):
        value = match.group(1).strip("'\"")
        if not _PATH_LIKE.search(value) and random_body(value, 16, mixed_case=False):
            return True
    return False


_LOGIN_SHORT_OPTION = re.compile(
    _LOGIN_WORD + _ARGS + r"\s-[pPkKw](?:\s+|=)?" + _LITERAL_WORD
)
_LOGIN_PASSWORD_WORD = re.compile(
    _LOGIN_WORD + _ARGS
    + r"\s(?i:password|passwd|passphrase|psk|secret|token)\s+" + _LITERAL_WORD
)


def _login_short_option(command: str) -> bool:
    for pattern in (_LOGIN_SHORT_OPTION, _LOGIN_PASSWORD_WORD):
        for match in pattern.finditer(command):
            value = _literal(match)
            if value is not None and _secret_value(value):
                return True
    return False


# Shell words: quoted strings or runs of anything else (one pass, no backtracking).
_WORD = re.compile(r"""'[^']*'?|"[^"]*"?|[^\s'"]+""")
_LOGIN_NAMES = {"login", "logon", "log-in", "signin", "sign-in", "auth", "authenticate",
                "connect", "adduser"}
_STDIN_OPTION_PARTS = ("stdin", "passw", "token", "secret", "cred")


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _literal_text(word: str) -> str | None:
    """A word's text when it is a literal, else None (like the other rules, a ``$`` anywhere,
    even single-quoted, reads as a variable the secret stays in)."""
    if "$" in word or "`" in word:
        return None
    return word.strip("'\"")


def _reads_secret(words: list[str]) -> bool:
    """Whether a simple command reads a secret from its standard input."""
    for number, word in enumerate(words):
        lowered = word.lower()
        if lowered.startswith("-") and (
            any(part in lowered for part in _STDIN_OPTION_PARTS) or lowered in ("-pass", "--pass")
        ):
            return True
        if lowered in _LOGIN_NAMES or lowered in ("passwd", "chpasswd"):
            return True
        if lowered == "sudo" and any(
            w.startswith("-") and not w.startswith("--") and "S" in w for w in words[number + 1 :]
        ):
            return True
    return False


def _echoed_literal(words: list[str]) -> str | None:
    """What an ``echo``/``printf`` simple command writes, when it is one literal."""
    for number, word in enumerate(words):
        if word not in ("echo", "printf"):
            continue
        rest = [w for w in words[number + 1 :] if not (w.startswith("-") and len(w) <= 3)]
        if word == "printf" and rest and "%" in rest[0]:
            rest = rest[1:]
        return _literal_text(rest[0]) if rest else None
    return None


# Quoted strings (which may span lines), command separators, and runs of anything else.
_PIECE = re.compile(r"""'[^']*'?|"(?:\\.|[^"\\])*"?|(\|\||&&|[|;&\n])|[^'"|;&\n]+""")


def _simple_commands(command: str) -> tuple[list[str], list[str]]:
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


def _stdin_secret(command: str) -> bool:
    simple, separators = _simple_commands(command)
    for number, text in enumerate(simple):
        if "<<<" in text:
            before, _, after = text.partition("<<<")
            words = _words(after)
            value = _literal_text(words[0]) if words else None
            if value and _secret_value(value) and _reads_secret(_words(before) + words[1:]):
                return True
        if number < len(separators) and separators[number] == "|":
            value = _echoed_literal(_words(text))
            if value and _secret_value(value) and _reads_secret(_words(simple[number + 1])):
                return True
    return False


_CREDENTIAL_FILE = (
    r"""['"]?[^\s'"|;&<>]*(?:\.pgpass|[._]netrc|\.git-credentials|\.aws/credentials|\.npmrc"""
    r"""|\.pypirc|\.my\.cnf|\.docker/config\.json|\.vault-token|\.boto|\.s3cfg|\.htpasswd"""
    r"""|\.gem/credentials|\.cargo/credentials(?:\.toml)?|credentials\.tfrc\.json"""
    r"""|(?i:credential|secret|token|passw|api[-_]?key)[^\s'"|;&<>/]*)['"]?(?=$|[\s|;&)])"""
)
_REDIRECT_TO_CREDENTIALS = re.compile(r">>?\s*" + _CREDENTIAL_FILE)
_TEE_TO_CREDENTIALS = re.compile(r"^\s*(?:sudo\s+)?tee\s+(?:-a\s+)?" + _CREDENTIAL_FILE)


def _written_secret(words: list[str]) -> bool:
    """Whether what ``echo``/``printf``/``<<<`` writes in this simple command ends in a literal.

    The secret is the last thing written ("password X", "host:5432:db:user:X", "_authToken=X");
    when that is an expansion the line holds none.
    """
    written: list[str] = []
    for number, word in enumerate(words):
        if word in ("echo", "printf", "<<<"):
            written = [w for w in words[number + 1 :] if not (w.startswith("-") and len(w) <= 3)]
            break
    kept: list[str] = []
    target = False
    for word in written:
        if word.startswith(">"):
            target = word in (">", ">>")  # the file name is the next word
            continue
        if not target:
            kept.append(word)
        target = False
    pieces = " ".join(kept).replace("'", " ").replace('"', " ").split()
    if not pieces:
        return False
    last = [p for p in re.split(r"[:=]|\\n", pieces[-1]) if p]
    value = last[-1] if last else pieces[-1]
    return not ("$" in value or "`" in value or len(value) < 3 or value.startswith("["))


def _credentials_file(command: str) -> bool:
    simple, separators = _simple_commands(command)
    for number, text in enumerate(simple):
        if _REDIRECT_TO_CREDENTIALS.search(text) and _written_secret(_words(text)):
            return True
        if (
            number
            and separators[number - 1] == "|"
            and _TEE_TO_CREDENTIALS.search(text)
            and _written_secret(_words(simple[number - 1]))
        ):
            return True
    return False


_RULES: list[tuple[str, tuple[str, ...], Check]] = []
# Each rule's gate: a search its expression cannot match without (None: its anchors suffice).
_GATES: list[re.Pattern[str] | None] = []


def _rule(
    name: str,
    anchors: tuple[str, ...],
    pattern: str | Check,
    gate: re.Pattern[str] | None = None,
) -> None:
    check: Check = re.compile(pattern).search if isinstance(pattern, str) else pattern  # type: ignore[assignment]
    _RULES.append((name, tuple(a.lower() for a in anchors), check))
    _GATES.append(gate)


_rule("vendor-token", ("_", "-", ".", "akia", "asia", "aiza", "ag", "ai", "ab", "ac", "an", "sk"),
      vendor_token, RUN_16)
_rule("jwt", ("eyj",), r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
_rule("slack-webhook", ("hooks.slack",),
      r"hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+")
_rule("aws-secret-key", ("secret",),
      r"(?i)\baws_?secret_?access_?key\b['\"]?\s*[=:\s]\s*" + _VALUE)
_rule(
    "authorization-header", ("authorization",),
    r"(?i)\b(?:proxy-)?authorization\s*:\s*(?:(?:bearer|basic|token|digest|bot)\s+)?"
    r"(?![$`])[A-Za-z0-9._~+/=:-]{8,}",
)
_rule(
    "auth-header", ("key", "token", "auth"),
    r"(?i)\b(?:x-api-key|x-auth-token|x-access-token|private-token|api-key|x-vault-token"
    r"|x-auth-key|apikey)\s*:\s*" + _VALUE,
)
_rule("bearer-token", ("bearer",), r"(?i)\bbearer\s+(?![$`])[A-Za-z0-9._~+/=-]{16,}")
_rule(
    "curl-user", ("curl",),
    r"\bcurl\b" + _ARGS + r"\s(?:-u|-U|--user|--proxy-user)(?:\s+|=)?['\"]?"
    r"[^\s:'\"$]*:(?![$`\s'\"])\S",
)
_rule(
    "httpie-auth", ("http", "xh"),
    r"\b(?:http|https|xh)\s" + _ARGS + r"(?:-a|--auth)(?:\s+|=)['\"]?[^\s:'\"$]+:(?![$`\s'\"])\S",
)
_rule("url-credentials", ("@",),
      r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@'\"]+:(?![$`])[^/\s@'\"]+@[^\s/@]")
_rule("secret-option", ("pass", "pw", "secret", "token", "key", "cred", "auth"), _secret_option)
_rule("bare-key", ("key", "-k"), _bare_key)
_rule("npm-auth", ("_auth", "_password"),
      r"(?:^|[^A-Za-z0-9])_(?:authToken|auth|password)\s*[=\s]\s*" + _VALUE)
_rule("login-short-option", ("log", "sign", "auth", "connect", "adduser"), _login_short_option)
_rule("stdin-secret", ("<<<", "|"), _stdin_secret)
_rule("credentials-file", (">", "tee"), _credentials_file)
_rule(
    "mysql-password", ("mysql", "mariadb"),
    r"\b(?:mysql|mariadb|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mysqlsh)\b"
    # "-print", "-prune", "-path", "-perm": find predicates next to a file called mysql.
    + _ARGS + r"\s-p(?!rint|rune|ath|erm)['\"]?(?![$`\s'\"])\S",
)
_rule("sshpass", ("sshpass",), r"\bsshpass\b" + _ARGS + r"\s-p\s*" + _VALUE)
_rule(
    "htpasswd-batch", ("htpasswd",),  # -b takes the password as the last argument
    r"\bhtpasswd\b" + _ARGS + r"\s-[a-zA-Z]*b[a-zA-Z]*\s" + _ARGS + r"\s" + _VALUE
    + r"['\"]?\s*(?:$|[|;&\n])",
)
_rule("redis-password", ("redis-cli",), r"\bredis-cli\b" + _ARGS + r"\s-a\s*" + _VALUE)
_rule("mongo-password", ("mongo",), r"\bmongo(?:sh)?\b" + _ARGS + r"\s-p\s+" + _VALUE)
_rule("sqlcmd-password", ("sqlcmd", "bcp", "mssql"),
      r"\b(?:sqlcmd|bcp|mssql-cli)\b" + _ARGS + r"\s-P\s*" + _VALUE)
_rule("ldap-password", ("ldap",), r"\bldap[a-z]+\b" + _ARGS + r"\s-w\s*" + _VALUE)
_rule("zip-password", ("zip",), r"\b(?:zip|unzip|zipcloak)\b" + _ARGS + r"\s-P\s+" + _VALUE)
_rule("7z-password", ("7z",), r"\b7z[az]?\b" + _ARGS + r"\s-p['\"]?(?![$`\s'\"])\S")
_rule("smbclient-password", ("smbclient",),
      r"\bsmbclient\b" + _ARGS + r"\s(?:-U|--user)[\s=]*[^\s%]+%(?![$`])\S")
_rule("openssl-pass", ("pass",), r"\s-pass(?:in|out)?\s+['\"]?pass:(?![$`])\S")
_rule("openssl-key", ("openssl",), r"\bopenssl\b" + _ARGS + r"\s-[kK]\s+" + _VALUE)
_rule("ssh-keygen-passphrase", ("ssh-keygen",), r"\bssh-keygen\b" + _ARGS + r"\s-[NP]\s*" + _VALUE)
_rule("private-key", ("private key",), r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")

RULE_NAMES: tuple[str, ...] = (
    *(name for name, _, _ in _RULES), "secret-variable", "prefixed-token", "random-string"
)

_ASSIGNMENT = re.compile(
    r"(?:^|[\s;&|(=,'\"])(?:export\s+|declare\s+-x\s+)?([A-Za-z_][A-Za-z0-9_]*)=(" + _VALUE + ")"
)
# fish "set -x NAME value" and csh "setenv NAME value".
_SET_VARIABLE = re.compile(
    r"(?:^|[\s;&|(])(?:set\s+(?:-[a-zA-Z]+\s+)*|setenv\s+)([A-Za-z_][A-Za-z0-9_]*)\s+"
    r"(" + _VALUE + ")"
)
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


def _secret_assignment(command: str) -> bool:
    if "=" not in command and "set" not in command:
        return False
    for pattern in (_ASSIGNMENT, _SET_VARIABLE):
        for match in pattern.finditer(command):
            name, value = match.group(1), match.group(2)
            if secret_name(name) and _secret_value(value):
                return True
    return False


_LAST_CHECKS: tuple[tuple[str, re.Pattern[str] | None, Check], ...] = (
    ("secret-variable", None, _secret_assignment),
    ("prefixed-token", RUN_20, prefixed_token),
    ("random-string", None, random_string),
)


def _anchor_masks() -> tuple[tuple[str, int], ...]:
    """Each distinct anchor with the rules (bits, in rule order) that list it."""
    masks: dict[str, int] = {}
    for number, (_, anchors, _) in enumerate(_RULES):
        for anchor in anchors:
            masks[anchor] = masks.get(anchor, 0) | 1 << number
    return tuple(masks.items())


_ANCHOR_MASKS = _anchor_masks()


def _matches(command: str) -> Iterable[str]:
    # One pass over the distinct anchors finds every rule worth running, in rule order.
    lowered = command.lower()
    wanted = 0
    for anchor, mask in _ANCHOR_MASKS:
        if anchor in lowered:
            wanted |= mask
    while wanted:
        bit = wanted & -wanted
        wanted ^= bit
        number = bit.bit_length() - 1
        name, _, check = _RULES[number]
        gate = _GATES[number]
        if (gate is None or gate.search(command)) and check(command):
            yield name
    for name, gate, check in _LAST_CHECKS:
        if (gate is None or gate.search(command)) and check(command):
            yield name


def unscreened_rules(command: str) -> list[str]:
    """``matching_rules`` without the anchors and gates: every rule's check runs (to test that
    screening never lets a secret through)."""
    found = [name for name, _, check in _RULES if check(command)]
    return found + [name for name, _, check in _LAST_CHECKS if check(command)]


def matching_rules(command: str) -> list[str]:
    """The names of every rule that finds a secret in ``command`` (to explain a drop)."""
    return list(_matches(command))


def matching_rule(command: str) -> str | None:
    """The name of the first rule that finds a secret in ``command``, or None."""
    return next(iter(_matches(command)), None)


def contains_secret(command: str) -> bool:
    """Whether ``command`` holds a password, token or key (see the module docstring)."""
    return matching_rule(command) is not None


def filter_secrets(entries: Iterable[HistoryEntry]) -> tuple[list[HistoryEntry], int]:
    """The entries without a secret, and how many were dropped."""
    kept: list[HistoryEntry] = []
    dropped = 0
    for entry in entries:
        if contains_secret(entry.command):
            dropped += 1
        else:
            kept.append(entry)
    return kept, dropped

"""Secrets in commands: a command that holds one is never learned or suggested.

Policy: the whole command is dropped, never redacted, because a redacted command is neither
safe to suggest nor what the user typed. A value that is only a shell expansion (``$TOKEN``,
``"${PASS}"``, ``$(pass show x)``) is not a secret: the secret stays outside the history.

Detected:

- provider tokens: AWS access key ids (``AKIA``/``ASIA``) and secret keys after
  ``aws_secret_access_key``; GitHub (``ghp_ gho_ ghu_ ghs_ ghr_ github_pat_``); Slack
  (``xox?-``, webhook URLs); GitLab ``glpat-``; OpenAI/Anthropic style ``sk-``; Google ``AIza``;
  Stripe ``sk_live_ rk_live_`` (and ``_test_``); npm ``npm_``; PyPI ``pypi-``; Docker Hub
  ``dckr_pat_``; Hugging Face ``hf_``; Vault ``hvs.``; SendGrid ``SG.``; JWTs;
- HTTP credentials: ``Authorization:`` and other auth headers, ``Bearer <token>``,
  ``curl -u user:pass`` (and ``--user``, ``-U``/``--proxy-user``), httpie ``-a user:pass``,
  URLs with ``user:password@``;
- ``password=``, ``passwd=``, ``pwd=``, ``secret=``, ``token=``, ``api_key=``, ``apikey=`` (and
  similar) in arguments, URLs and option lists; npm ``_authToken=`` / ``_auth=``;
- options: ``--password X``, ``--password=X``, ``--token``, ``--api-key``, ``--secret``,
  ``--passphrase`` (with any ``--foo-`` prefix, e.g. ``--http-password``);
- environment assignments anywhere in the command (``export X=``, ``X=v cmd``, fish
  ``set -x X v``) whose name says secret: ``*TOKEN``, ``*SECRET*``, ``*PASSWORD*``,
  ``*PASSWD*``, ``*PASSPHRASE*``, ``*API_KEY*``, ``*ACCESS_KEY*``, ``*PRIVATE_KEY*``,
  ``*CREDENTIAL*``, ``*_PASS``, ``*_PWD`` (not ``*_FILE``/``*_PATH``/``*_DIR`` names, which point
  at a secret kept elsewhere);
- tool flags that take a password: ``mysql``/``mariadb``/``mysqldump``/``mysqladmin``
  ``-pSECRET`` (not a bare ``-p``), ``sshpass -p``, ``htpasswd -b``, ``docker``/``podman``/``oc
  login -p``, ``redis-cli -a``, ``mongo``/``mongosh -p``, ``sqlcmd -P``, ``ldapsearch -w``,
  ``zip``/``unzip -P``, ``7z -p``, ``smbclient -U user%pass``, ``openssl -passin pass:``,
  ``ssh-keygen -N`` with a passphrase, and a literal ``echo secret | sudo -S`` or
  ``| docker login --password-stdin`` (``echo "$TOKEN" | ...`` is fine);
- private key blocks (``-----BEGIN ... PRIVATE KEY-----``);
- last, long random-looking strings: 32+ characters of letters, digits and ``+/=_-`` mixing upper
  case, lower case and digits with frequent switches between them and few word-like runs (so
  not ``/Users/JohnSmith/Projects2024``). Lower-case hex (git SHAs, checksums) and UUIDs never
  match; random ids (a Google Drive file id) may.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aprender_shell.history.formats import HistoryEntry

# A value that is a real literal: not a shell expansion, a redirection, the next option or a
# regular expression (``sed 's/password=.*/.../'``).
_VALUE = r"""['"]?(?![$`<>|&;(){}\s'"-]|\.\*)[^\s'"]*[A-Za-z0-9][^\s'"]*"""
# The rest of one simple command (stops at pipes and command separators).
_ARGS = r"[^|;&\n]*?"

_RULES: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern))
    for name, pattern in [
        ("aws-access-key-id", r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
        ("aws-secret-key", r"(?i)\baws_?secret_?access_?key\b['\"]?\s*[=:\s]\s*" + _VALUE),
        ("github-token", r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}"),
        ("github-pat", r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
        ("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
        ("slack-webhook", r"hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+"),
        ("gitlab-token", r"\bglpat-[A-Za-z0-9_-]{20,}"),
        ("openai-key", r"(?<![\w-])sk-(?:[a-z]+-)*(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,}"),
        ("google-api-key", r"\bAIza[0-9A-Za-z_-]{35}"),
        ("stripe-key", r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{10,}"),
        ("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b"),
        ("pypi-token", r"\bpypi-AgE[A-Za-z0-9_-]{20,}"),
        ("dockerhub-token", r"\bdckr_pat_[A-Za-z0-9_-]{20,}"),
        ("huggingface-token", r"\bhf_[A-Za-z0-9]{30,}\b"),
        ("vault-token", r"\bhvs\.[A-Za-z0-9_-]{20,}"),
        ("sendgrid-key", r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),
        ("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
        (
            "authorization-header",
            r"(?i)\b(?:proxy-)?authorization\s*:\s*(?:(?:bearer|basic|token|digest|bot)\s+)?"
            r"(?![$`])[A-Za-z0-9._~+/=:-]{8,}",
        ),
        (
            "auth-header",
            r"(?i)\b(?:x-api-key|x-auth-token|x-access-token|private-token|api-key|x-vault-token)"
            r"\s*:\s*" + _VALUE,
        ),
        ("bearer-token", r"(?i)\bbearer\s+(?![$`])[A-Za-z0-9._~+/=-]{16,}"),
        (
            "curl-user",
            r"\bcurl\b" + _ARGS + r"\s(?:-u|-U|--user|--proxy-user)(?:\s+|=)?['\"]?"
            r"[^\s:'\"$]*:(?![$`\s'\"])\S",
        ),
        (
            "httpie-auth",
            r"\b(?:http|https|xh)\s" + _ARGS
            + r"(?:-a|--auth)(?:\s+|=)['\"]?[^\s:'\"$]+:(?![$`\s'\"])\S",
        ),
        ("url-credentials", r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@'\"]+:(?![$`])[^/\s@'\"]+@[^\s/@]"),
        (
            "keyword-value",
            r"(?:^|(?<!\balias)[^A-Za-z0-9])(?:(?i:password|passwd|secret|token|api[_-]?key|access[_-]?token"
            r"|auth[_-]?token|client[_-]?secret)|pwd)\s*=\s*" + _VALUE,
        ),
        ("npm-auth", r"(?:^|[^A-Za-z0-9])_(?:authToken|auth|password)\s*[=\s]\s*" + _VALUE),
        (
            "secret-option",
            r"(?i)(?:^|\s)--(?:[a-z0-9]+-)*(?:password|passwd|passphrase|token|api-?key|secret"
            r"|secret-key|access-key)(?:\s+|=)" + _VALUE,
        ),
        (
            "mysql-password",
            r"\b(?:mysql|mariadb|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mysqlsh)\b"
            # "-print", "-prune", "-path", "-perm": find predicates next to a file called mysql.
            + _ARGS + r"\s-p(?!rint|rune|ath|erm)['\"]?(?![$`\s'\"])\S",
        ),
        ("sshpass", r"\bsshpass\b" + _ARGS + r"\s-p\s*" + _VALUE),
        (
            "htpasswd-batch",  # -b takes the password as the last argument
            r"\bhtpasswd\b" + _ARGS + r"\s-[a-zA-Z]*b[a-zA-Z]*\s" + _ARGS + r"\s" + _VALUE
            + r"['\"]?\s*(?:$|[|;&\n])",
        ),
        (
            "registry-login",
            r"\b(?:docker|podman|buildah|skopeo|oc|helm\s+registry)\s+login\b" + _ARGS
            + r"\s-p\s*" + _VALUE,
        ),
        ("redis-password", r"\bredis-cli\b" + _ARGS + r"\s-a\s*" + _VALUE),
        ("mongo-password", r"\bmongo(?:sh)?\b" + _ARGS + r"\s-p\s+" + _VALUE),
        ("sqlcmd-password", r"\b(?:sqlcmd|bcp|mssql-cli)\b" + _ARGS + r"\s-P\s*" + _VALUE),
        ("ldap-password", r"\bldap[a-z]+\b" + _ARGS + r"\s-w\s*" + _VALUE),
        ("zip-password", r"\b(?:zip|unzip|zipcloak)\b" + _ARGS + r"\s-P\s+" + _VALUE),
        ("7z-password", r"\b7z[az]?\b" + _ARGS + r"\s-p['\"]?(?![$`\s'\"])\S"),
        (
            "smbclient-password",
            r"\bsmbclient\b" + _ARGS + r"\s(?:-U|--user)[\s=]*[^\s%]+%(?![$`])\S",
        ),
        ("openssl-pass", r"\s-pass(?:in|out)?\s+['\"]?pass:(?![$`])\S"),
        ("ssh-keygen-passphrase", r"\bssh-keygen\b" + _ARGS + r"\s-[NP]\s*" + _VALUE),
        (
            "echo-to-password-stdin",
            r"\b(?:echo|printf)\s+" + _VALUE + r"['\"]?\s*\|\s*(?:sudo\s+(?:-\w+\s+)*-\w*S"
            r"|[^|;&]*--password-stdin)",
        ),
        ("private-key", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----"),
    ]
]

RULE_NAMES: tuple[str, ...] = (
    *(name for name, _ in _RULES), "secret-variable", "random-string"
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
_HARMLESS_VALUES = {"true", "false", "yes", "no", "on", "off", "none", "null", "''", '""'}

_RANDOM_CANDIDATE = re.compile(r"[A-Za-z0-9+/=_-]{32,}")
_MIN_RANDOM_ALNUM = 28
_MIN_RANDOM_ENTROPY = 4.0
_MIN_CLASS_SWITCHES = 0.3
# Random strings of 32+ characters rarely have more than 2/3 of them in runs like "Word"/"word";
# CamelCase names and paths have more than that.
_WORD_RUN = re.compile(r"[A-Z]?[a-z]{3,}")
_MAX_WORD_SHARE = 0.7


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
    for pattern in (_ASSIGNMENT, _SET_VARIABLE):
        for match in pattern.finditer(command):
            name, value = match.group(1), match.group(2)
            if secret_name(name) and value.strip("'\"").lower() not in _HARMLESS_VALUES:
                return True
    return False


def _looks_random(candidate: str) -> bool:
    # Judged on letters and digits only: "/", "_" and "-" separate the words of paths and names.
    text = "".join(c for c in candidate if c.isalnum())
    if len(text) < _MIN_RANDOM_ALNUM or not (
        any(c.isupper() for c in text)
        and any(c.islower() for c in text)
        and any(c.isdigit() for c in text)
    ):
        return False
    counts = Counter(text)
    entropy = -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
    if entropy < _MIN_RANDOM_ENTROPY:
        return False
    if sum(len(w) for w in _WORD_RUN.findall(text)) > _MAX_WORD_SHARE * len(text):
        return False
    classes = [0 if c.isupper() else 1 if c.islower() else 2 for c in text]
    switches = sum(1 for a, b in zip(classes, classes[1:]) if a != b)
    return switches >= _MIN_CLASS_SWITCHES * (len(text) - 1)


def matching_rules(command: str) -> list[str]:
    """The names of every rule that finds a secret in ``command`` (to explain a drop)."""
    names = [name for name, pattern in _RULES if pattern.search(command)]
    if _secret_assignment(command):
        names.append("secret-variable")
    if any(_looks_random(m.group(0)) for m in _RANDOM_CANDIDATE.finditer(command)):
        names.append("random-string")
    return names


def matching_rule(command: str) -> str | None:
    """The name of the first rule that finds a secret in ``command``, or None."""
    for name, pattern in _RULES:
        if pattern.search(command):
            return name
    if _secret_assignment(command):
        return "secret-variable"
    for match in _RANDOM_CANDIDATE.finditer(command):
        if _looks_random(match.group(0)):
            return "random-string"
    return None


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

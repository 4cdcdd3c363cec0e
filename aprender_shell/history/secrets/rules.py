"""The first secret classes: options and keys named like a secret, logins, standard input,
credentials files, HTTP credentials, tools' password flags, environment variables and the
generated-token shapes (the list is in ``secrets``' docstring)."""

from __future__ import annotations

import re

from aprender_shell.history.secrets.token_shapes import (
    RUN_16,
    RUN_20,
    prefixed_token,
    random_body,
    random_string,
    vendor_token,
)
from aprender_shell.history.secrets.words import (
    ARGS,
    LITERAL_WORD,
    PATH_LIKE,
    VALUE,
    Rule,
    literal,
    name_segments,
    piped_literals,
    rule,
    secret_name,
    secret_option_name,
    secret_value,
    simple_commands,
    words,
)

# A subcommand that logs in or connects: a word of its own, not part of "--connect-timeout",
# "auth@host" or "/auth/".
_LOGIN_WORD = (
    r"(?<![\w@./:=-])(?i:login|logon|log-in|signin|sign-in|auth|authenticate|connect|adduser)"
    r"(?![\w@./:=-])"
)

_OPTION = re.compile(
    r"(?:^|[\s'\"])--?([A-Za-z][A-Za-z0-9]*(?:[-_.][A-Za-z0-9]+)*)(?:=|\s+)" + "(" + VALUE + ")"
)
# key=value and key: value inside arguments, option lists, query strings and JSON.
_KEY_VALUE = re.compile(
    r"(?:^|(?<!\balias)[^A-Za-z0-9_.-])[\"']?([A-Za-z][A-Za-z0-9_.-]*)[\"']?"
    r"(?:\s*=\s*|\s*:\s*(?=[\"']))" + "(" + VALUE.replace("[^\\s'\"]", "[^\\s'\",&;]") + ")"
)


def _secret_option(command: str) -> bool:
    for pattern in (_OPTION, _KEY_VALUE):
        for match in pattern.finditer(command):
            name, value = match.group(1), match.group(2)
            if not secret_option_name(name):
                continue
            if name_segments(name) == ["auth"] and ":" not in value.strip("'\":"):
                continue  # "--auth basic": a scheme; "--auth user:pass" holds one
            if secret_value(value):
                return True
    return False


_BARE_KEY = re.compile(r"(?:^|\s)--?(?:key|K)(?:=|\s+)(" + VALUE + ")")


def _bare_key(command: str) -> bool:
    """``--key X`` / ``-K X`` hold a secret only when X looks random (not ``2`` or a path)."""
    for match in _BARE_KEY.finditer(command):
        value = match.group(1).strip("'\"")
        if not PATH_LIKE.search(value) and random_body(value, 16, mixed_case=False):
            return True
    return False


_LOGIN_SHORT_OPTION = re.compile(
    _LOGIN_WORD + ARGS + r"\s-[pPkKw](?:\s+|=)?" + LITERAL_WORD
)
_LOGIN_PASSWORD_WORD = re.compile(
    _LOGIN_WORD + ARGS
    + r"\s(?i:password|passwd|passphrase|psk|secret|token)\s+" + LITERAL_WORD
)


def _login_short_option(command: str) -> bool:
    for pattern in (_LOGIN_SHORT_OPTION, _LOGIN_PASSWORD_WORD):
        for match in pattern.finditer(command):
            value = literal(match)
            if value is not None and secret_value(value):
                return True
    return False


_LOGIN_NAMES = {"login", "logon", "log-in", "signin", "sign-in", "auth", "authenticate",
                "connect", "adduser"}
_STDIN_OPTION_PARTS = ("stdin", "passw", "token", "secret", "cred")
_PASSWD_TOOL = re.compile(r"[a-z0-9_]*passwd")
_STORE_VERBS = (["set"], ["put"], ["create"], ["add"], ["import"])


def _reads_secret(words: list[str]) -> bool:
    """Whether a simple command reads a secret from its standard input."""
    for number, word in enumerate(words):
        lowered = word.lower()
        if lowered.startswith("-") and (
            any(part in lowered for part in _STDIN_OPTION_PARTS) or lowered in ("-pass", "--pass")
        ):
            return True
        if lowered in _LOGIN_NAMES or lowered in ("kinit", "cryptsetup"):
            return True
        if _PASSWD_TOOL.fullmatch(lowered):  # passwd, chpasswd, smbpasswd, vncpasswd...
            return True
        if lowered in ("secret", "secrets") and words[number + 1 : number + 2] in _STORE_VERBS:
            return True  # "gh secret set NAME", "docker secret create NAME -"
        if lowered == "sudo" and any(
            w.startswith("-") and not w.startswith("--") and "S" in w for w in words[number + 1 :]
        ):
            return True
    return False


def _stdin_secret(command: str) -> bool:
    return any(
        secret_value(value) and _reads_secret(reader) for value, reader in piped_literals(command)
    )


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
    simple, separators = simple_commands(command)
    for number, text in enumerate(simple):
        if _REDIRECT_TO_CREDENTIALS.search(text) and _written_secret(words(text)):
            return True
        if (
            number
            and separators[number - 1] == "|"
            and _TEE_TO_CREDENTIALS.search(text)
            and _written_secret(words(simple[number - 1]))
        ):
            return True
    return False


RULES: list[Rule] = [
    rule("vendor-token",
         ("_", "-", ".", "akia", "asia", "aiza", "ag", "ai", "ab", "ac", "an", "sk"),
         vendor_token, RUN_16),
    rule("jwt", ("eyj",), r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    rule("slack-webhook", ("hooks.slack",),
         r"hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+"),
    rule("aws-secret-key", ("secret",),
         r"(?i)\baws_?secret_?access_?key\b['\"]?\s*[=:\s]\s*" + VALUE),
    rule(
        "authorization-header", ("authorization",),
        r"(?i)\b(?:proxy-)?authorization\s*:\s*(?:(?:bearer|basic|token|digest|bot)\s+)?"
        r"(?![$`])[A-Za-z0-9._~+/=:-]{8,}",
    ),
    rule(
        "auth-header", ("key", "token", "auth"),
        r"(?i)\b(?:x-api-key|x-auth-token|x-access-token|private-token|api-key|x-vault-token"
        r"|x-auth-key|apikey)\s*:\s*" + VALUE,
    ),
    rule("bearer-token", ("bearer",), r"(?i)\bbearer\s+(?![$`])[A-Za-z0-9._~+/=-]{16,}"),
    rule(
        "curl-user", ("curl",),
        r"\bcurl\b" + ARGS + r"\s(?:-u|-U|--user|--proxy-user)(?:\s+|=)?['\"]?"
        r"[^\s:'\"$]*:(?![$`\s'\"])\S",
    ),
    rule(
        "httpie-auth", ("http", "xh"),
        r"\b(?:http|https|xh)\s" + ARGS
        + r"(?:-a|--auth)(?:\s+|=)['\"]?[^\s:'\"$]+:(?![$`\s'\"])\S",
    ),
    rule("url-credentials", ("@",),
         r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@'\"]+:(?![$`])[^/\s@'\"]+@[^\s/@]"),
    rule("secret-option", ("pass", "pw", "secret", "token", "key", "cred", "auth"), _secret_option),
    rule("bare-key", ("key", "-k"), _bare_key),
    rule("npm-auth", ("_auth", "_password"),
         r"(?:^|[^A-Za-z0-9])_(?:authToken|auth|password)\s*[=\s]\s*" + VALUE),
    rule("login-short-option", ("log", "sign", "auth", "connect", "adduser"), _login_short_option),
    rule("stdin-secret", ("<<<", "|"), _stdin_secret),
    rule("credentials-file", (">", "tee"), _credentials_file),
    rule(
        "mysql-password", ("mysql", "mariadb"),
        r"\b(?:mysql|mariadb|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mysqlsh)\b"
        # "-print", "-prune", "-path", "-perm": find predicates next to a file called mysql.
        + ARGS + r"\s-p(?!rint|rune|ath|erm)['\"]?(?![$`\s'\"])\S",
    ),
    rule("sshpass", ("sshpass",), r"\bsshpass\b" + ARGS + r"\s-p\s*" + VALUE),
    rule(
        "htpasswd-batch", ("htpasswd",),  # -b takes the password as the last argument
        r"\bhtpasswd\b" + ARGS + r"\s-[a-zA-Z]*b[a-zA-Z]*\s" + ARGS + r"\s" + VALUE
        + r"['\"]?\s*(?:$|[|;&\n])",
    ),
    rule("redis-password", ("redis-cli",), r"\bredis-cli\b" + ARGS + r"\s-a\s*" + VALUE),
    rule("mongo-password", ("mongo",), r"\bmongo(?:sh)?\b" + ARGS + r"\s-p\s+" + VALUE),
    rule("sqlcmd-password", ("sqlcmd", "bcp", "mssql"),
         r"\b(?:sqlcmd|bcp|mssql-cli)\b" + ARGS + r"\s-P\s*" + VALUE),
    rule("ldap-password", ("ldap",), r"\bldap[a-z]+\b" + ARGS + r"\s-w\s*" + VALUE),
    rule("zip-password", ("zip",), r"\b(?:zip|unzip|zipcloak)\b" + ARGS + r"\s-P\s+" + VALUE),
    rule("7z-password", ("7z",), r"\b7z[az]?\b" + ARGS + r"\s-p['\"]?(?![$`\s'\"])\S"),
    rule("smbclient-password", ("smbclient",),
         r"\bsmbclient\b" + ARGS + r"\s(?:-U|--user)[\s=]*[^\s%]+%(?![$`])\S"),
    rule("openssl-pass", ("pass",), r"\s-pass(?:in|out)?\s+['\"]?pass:(?![$`])\S"),
    rule("openssl-key", ("openssl",), r"\bopenssl\b" + ARGS + r"\s-[kK]\s+" + VALUE),
    rule("ssh-keygen-passphrase", ("ssh-keygen",),
         r"\bssh-keygen\b" + ARGS + r"\s-[NP]\s*" + VALUE),
    rule("private-key", ("private key",), r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----"),
]

_ASSIGNMENT = re.compile(
    r"(?:^|[\s;&|(=,'\"])(?:export\s+|declare\s+-x\s+)?([A-Za-z_][A-Za-z0-9_]*)=(" + VALUE + ")"
)
# fish "set -x NAME value" and csh "setenv NAME value".
_SET_VARIABLE = re.compile(
    r"(?:^|[\s;&|(])(?:set\s+(?:-[a-zA-Z]+\s+)*|setenv\s+)([A-Za-z_][A-Za-z0-9_]*)\s+"
    r"(" + VALUE + ")"
)


def _secret_assignment(command: str) -> bool:
    if "=" not in command and "set" not in command:
        return False
    for pattern in (_ASSIGNMENT, _SET_VARIABLE):
        for match in pattern.finditer(command):
            name, value = match.group(1), match.group(2)
            if secret_name(name) and secret_value(value):
                return True
    return False


# Run after every other rule: the unanchored ones, last the costliest.
LAST_RULES: tuple[Rule, ...] = (
    Rule("secret-variable", (), _secret_assignment),
    Rule("prefixed-token", (), prefixed_token, RUN_20),
    Rule("random-string", (), random_string),
)

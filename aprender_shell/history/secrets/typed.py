"""Secrets in the languages commands carry: SQL and other statements that set a password,
``user/password@db`` connect strings, cookies, and base64 blobs decoded (or credentials
encoded) on the command line; with the tools' own flags and arguments (``tool_secrets``).
"""

from __future__ import annotations

import re

from aprender_shell.history.secrets.tools import POSITIONAL_RULES, TOOL_FLAG_RULES
from aprender_shell.history.secrets.words import (
    LITERAL_WORD,
    Rule,
    literal,
    piped_literals,
    rule,
    secret_value,
)

# --- statements that set a password ---------------------------------------------------------

# An SQL string or word holding no expansion; its text is group sq, dq or bare.
_SQL_LITERAL = r"""(?:'(?P<sq>[^'$`]*)'|"(?P<dq>[^"$`]*)"|(?P<bare>(?![$`'"])[^\s'";|&)]+))"""
_SQL_SETS_PASSWORD = re.compile(
    # MySQL, MariaDB, Oracle: IDENTIFIED [WITH plugin] BY [PASSWORD|VALUES] 'x'
    r"(?i)\bidentified\s+(?:with\s+\S+\s+)?by\s+(?:password\s+|values\s+)?" + _SQL_LITERAL
    # PostgreSQL, SQL Server, MySQL: [WITH] PASSWORD [=] 'x', SET PASSWORD FOR u = PASSWORD('x')
    + r"|\bpassword\s*(?:for\s+[^\s=]+\s*=|=)?\s*(?:password\s*\(\s*)?'(?P<quoted>[^'$`]*)'"
)
# The statement around it: creating or changing a user, role or login, or setting.
_SQL_CONTEXT = re.compile(r"(?i)\b(?:user|role|login|grant|set)\b")
_OTHER_STATEMENTS = re.compile(
    r"(?i)\bconfig\s+set\s+(?:requirepass|masterauth)\s+" + _SQL_LITERAL  # Redis
    + r"|\bchangeUserPassword\s*\(\s*['\"][^'\"]*['\"]\s*,\s*"  # MongoDB
    r"""(?:'(?P<mq>[^'$`]*)'|"(?P<mdq>[^"$`]*)")"""
)


def _first_text(match: re.Match[str], *groups: str) -> str | None:
    return next((match.group(g) for g in groups if match.group(g) is not None), None)


def _sql_password(command: str) -> bool:
    for match in _SQL_SETS_PASSWORD.finditer(command):
        value = _first_text(match, "sq", "dq", "bare", "quoted")
        if value and secret_value(value) and _SQL_CONTEXT.search(command, 0, match.start()):
            return True
    for match in _OTHER_STATEMENTS.finditer(command):
        value = _first_text(match, "sq", "dq", "bare", "mq", "mdq")
        if value and secret_value(value):
            return True
    return False


# --- user/password@database -----------------------------------------------------------------

# "user/password", then "@db" or the end of the word; not "/as", "@script", "file=dir/x".
_USER_PASSWORD = r"""[A-Za-z][\w$#]*/(?![$`/])(?P<pw>[^\s/@'"\\]+)(?=@|[\s'"]|$)"""
_ORACLE_LOGINS = tuple(
    re.compile(before + _USER_PASSWORD)
    for before in (
        r"(?:^|[\s;&|(])(?:sqlplus|sql|expdp|impdp|exp|imp|sqlldr|rman|dgmgrl|loadjava|dropjava)"
        r"(?=\s)[^|;&\n]*?(?:\s|['\"]|(?i:userid)=)",
        r"(?i:\bconn(?:ect)?\s+)",  # CONNECT inside a script
        r"(?i::thin:)",  # a JDBC thin URL
    )
)
_DB2_CONNECT = re.compile(r"(?i)\bconnect\s+to\s+\S+\s+user\s+\S+\s+using\s+" + LITERAL_WORD)


def _connect_string(command: str) -> bool:
    if "/" in command:
        for pattern in _ORACLE_LOGINS:
            if any(secret_value(m.group("pw")) for m in pattern.finditer(command)):
                return True
    for match in _DB2_CONNECT.finditer(command):
        value = literal(match)
        if value and secret_value(value):
            return True
    return False


# --- cookies --------------------------------------------------------------------------------

_COOKIE_HEADER = re.compile(r"(?i)\bcookie\s*:\s*(?P<pairs>[^'\"\n]+)")
_COOKIE_OPTION = re.compile(
    r"(?:\b(?:curl|curlie|ffuf|wfuzz)\b[^|;&\n]*?\s-b|\s--?cookie|\bab\b[^|;&\n]*?\s-C)"
    r"(?:\s+|=)" + LITERAL_WORD
)
# Cookie names that say a session or a credential; other cookies are secrets when their value
# looks generated (12 or more characters with a digit): "lang=en" is not one.
_SESSION_COOKIE = re.compile(
    r"(?i)sess|sid|auth|token|jwt|login|remember|csrf|xsrf|secret|key|pass"
)


def _secret_cookies(pairs: str) -> bool:
    for pair in pairs.split(";"):
        name, equals, value = pair.strip().partition("=")
        value = value.strip()
        if not equals or "$" in value or "`" in value or not secret_value(value):
            continue
        if _SESSION_COOKIE.search(name) or (len(value) >= 12 and any(c.isdigit() for c in value)):
            return True
    return False


def _cookie(command: str) -> bool:
    for match in _COOKIE_HEADER.finditer(command):
        if _secret_cookies(match.group("pairs")):
            return True
    for match in _COOKIE_OPTION.finditer(command):
        value = literal(match)
        if value and "=" in value and _secret_cookies(value):
            return True
    return False


# --- base64 on the command line -------------------------------------------------------------

_BASE64_BLOB = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")
_CREDENTIAL_PAIR = re.compile(r"[^\s:]+:[^\s:]{3,}")
_DECODE_FLAGS = {"-d", "--decode", "-D", "-di", "-id"}
_SCRIPT_DECODE = re.compile(
    r"""\b(?:b64decode|b32decode|urlsafe_b64decode|atob)\(\s*b?['"][A-Za-z0-9+/_-]{8,}={0,2}['"]"""
)


def _decoded_blob(command: str) -> bool:
    """A literal blob decoded (``echo <base64> | base64 -d``), or a ``user:password`` pair
    encoded (``echo -n user:pass | base64``, how a Basic header is made)."""
    for value, reader in piped_literals(command):
        tools = set(reader)
        if not tools & {"base64", "base32", "basenc"} and not (
            "openssl" in tools and tools & {"base64", "-base64", "-a"}
        ):
            continue
        if tools & _DECODE_FLAGS:
            if _BASE64_BLOB.fullmatch(value):
                return True
        elif _CREDENTIAL_PAIR.fullmatch(value):
            return True
    return bool(_SCRIPT_DECODE.search(command))


TYPED_RULES: list[Rule] = [
    rule("sql-password", ("identified", "password", "requirepass", "masterauth"), _sql_password),
    rule("connect-string", ("sql", "exp", "imp", "rman", "dgmgrl", "loadjava", "conn", "thin:",
                            "using"), _connect_string),
    rule("cookie", ("cookie", "curl", "ffuf", "wfuzz", "ab "), _cookie),
    rule("decoded-blob", ("base64", "base32", "basenc", "b64decode", "b32decode", "atob("),
         _decoded_blob),
    *TOOL_FLAG_RULES,
    *POSITIONAL_RULES,
]

"""Secrets tools take under names that do not say so: short password flags of one tool
(``ipmitool -P``, ``xfreerdp /p:``, ``snmpwalk -c``), and credentials given as plain
arguments (``rabbitmqctl add_user NAME PASS``, ``mc alias set NAME URL KEY SECRET``,
``lftp -u user,pass``, ``curl -E cert:pass``, ``git config user.password X``).

Each rule names the tools whose flag or argument position it knows; the value must be a
literal, as everywhere (``-P $IPMI_PW`` holds none).
"""

from __future__ import annotations

import re

from aprender_shell.history.secrets.words import (
    ARGS,
    LITERAL_WORD,
    VALUE,
    Rule,
    literal_text,
    name_segments,
    rule,
    secret_option_name,
    secret_value,
    simple_commands,
    words,
)

# A literal glued to its flag or separator ("/p:X", "-pX", "user,X"), not an expansion.
_GLUED = r"""['"]?(?![$`\s'"])\S"""


def _flag(tools: str, flag: str, value: str = VALUE) -> str:
    """An expression for ``flag`` followed by a literal in a simple command run by ``tools``."""
    return r"\b(?:" + tools + r")\b" + ARGS + r"\s" + flag + value


# --- password flags that are not named so ---------------------------------------------------

_SAMBA_USER = re.compile(r"\s(?:-U|--user(?:name)?)[\s=]*['\"]?[^\s%'\"]+%(?![$`\s'\"])\S")


def _samba_user_password(command: str) -> bool:
    # "%" is common ("date +%F", "printf '%s'"); the option it needs is not.
    return ("-U" in command or "--user" in command) and bool(_SAMBA_USER.search(command))


TOOL_FLAG_RULES: list[Rule] = [
    rule("rdp-password", ("freerdp", "rdesktop"),
         _flag(r"[a-z]*freerdp[0-9]*", r"[/+-](?:g?p|pth):", _GLUED)
         + "|" + _flag("rdesktop", r"-p\s*")),
    rule("ipmi-password", ("ipmi", "racadm"),
         _flag("ipmitool|ipmiutil", r"-P\s*") + "|" + _flag("racadm", r"-p\s*")),
    rule("mqtt-password", ("mosquitto",),
         _flag("mosquitto_(?:pub|sub|rr)", r"-P\s*")
         # mosquitto_passwd -b FILE USER PASSWORD
         + "|" + _flag("mosquitto_passwd", r"-b\s+\S+\s+\S+\s+")),
    # SNMP communities and v3 passphrases; "public", the documented default read community,
    # hides nothing and is what most snmpwalk lines say.
    rule("snmp-community", ("snmp",),
         _flag(r"snmp[a-z]*", r"-[cAX]\s*(?!['\"]?public['\"]?(?:\s|$))")),
    rule("db-client-password", ("cqlsh", "cypher", "rabbitmqadmin", "mycli", "mongo", "sql",
                                "sqsh", "keydb", "valkey"),
         _flag(r"cqlsh|cypher-shell|rabbitmqadmin|mycli"
               r"|mongo(?:dump|restore|export|import|stat|top|files)", r"-p\s+")
         + "|" + _flag("tsql|isql|sqsh", r"-P\s*") + "|" + _flag("vsql", r"-w\s*")
         + "|" + _flag("keydb-cli|valkey-cli", r"-a\s*")),
    rule("login-tool-password", ("hydra", "medusa", "ncrack", "cme", "nxc", "netexec", "winrm",
                                 "smbmap", "ncftp", "sendemail", "swaks"),
         _flag(r"hydra|medusa|ncrack|crackmapexec|cme|nxc|netexec|evil-winrm|smbmap"
               r"|ncftp(?:get|put|ls|batch)?", r"-p\s+")
         + "|" + _flag("sendemail", r"-xp\s+") + "|" + _flag("swaks", r"-ap\s+")),
    # Samba's "-U user%password", whatever the tool (rpcclient, net, smbcacls, winexe...).
    rule("samba-user-password", ("%",), _samba_user_password),
    # A TSIG key given inline: "-y [hmac:]name:base64secret".
    rule("tsig-key", ("nsupdate", "dig", "delv"),
         _flag("nsupdate|knsupdate|dig|kdig|delv",
               r"-y\s*['\"]?(?:[\w.-]+:){1,2}(?![$`])", r"[A-Za-z0-9+/=]{8,}")),
    rule("archive-password", ("rar", "aescrypt", "ccrypt", "veracrypt"),
         _flag("rar|unrar", r"-p(?![-\s])", _GLUED) + "|" + _flag("aescrypt|veracrypt", r"-p\s+")
         + "|" + _flag("ccrypt", r"-K\s*")),
    rule("pdf-password", ("pdf", "mutool"),
         _flag(r"pdf[a-z]+", r"-[ou]pw\s+") + "|" + _flag("mutool", r"-p\s+")
         + "|" + _flag("pdftk", r"(?:input|owner|user)_pw\s+")),
]


# --- credentials given as plain arguments ---------------------------------------------------

# (tool, subcommand words, index of the password among the arguments after them, options of
# the tool that take a value)
_POSITIONS: tuple[tuple[str, tuple[str, ...], int, frozenset[str]], ...] = (
    ("rabbitmqctl", ("add_user",), 1, frozenset({"-n", "--node", "-t", "--timeout", "-p"})),
    ("rabbitmqctl", ("change_password",), 1, frozenset({"-n", "--node", "-t", "--timeout"})),
    ("rabbitmqctl", ("authenticate_user",), 1, frozenset({"-n", "--node", "-t", "--timeout"})),
    ("mc", ("alias", "set"), 3, frozenset({"--api", "--path", "-C", "--config-dir"})),
    ("mc", ("config", "host", "add"), 3, frozenset({"--api", "--lookup", "-C"})),
    ("mc", ("admin", "user", "add"), 2, frozenset({"-C", "--config-dir"})),
    ("wpa_passphrase", (), 1, frozenset()),
    ("openssl", ("passwd",), 0, frozenset({"-salt", "-in", "-rand", "-writerand"})),
    ("mkpasswd", (), 0, frozenset({"-m", "--method", "-S", "--salt", "-R", "--rounds", "-P",
                                   "--password-fd"})),
    ("neo4j-admin", ("set-initial-password",), 0, frozenset()),
    ("neo4j-admin", ("dbms", "set-initial-password"), 0, frozenset()),
    ("ejabberdctl", ("register",), 2, frozenset({"--node"})),
    ("ejabberdctl", ("change_password",), 2, frozenset({"--node"})),
    ("rclone", ("obscure",), 0, frozenset({"--config"})),
)
_POSITION_TOOLS = frozenset(tool for tool, _, _, _ in _POSITIONS)


def _arguments(simple: list[str], takes_value: frozenset[str]) -> list[str]:
    """The plain arguments of a simple command's words after its tool: options and the values
    they take left out, up to the first redirection."""
    arguments: list[str] = []
    skip = False
    for word in simple:
        if skip:
            skip = False
        elif word[:1] in "<>" or word[:2] in ("1>", "2>", "&>"):
            break
        elif word.startswith("-") and word != "-":
            skip = word in takes_value
        else:
            arguments.append(word)
    return arguments


def _positional_password(command: str) -> bool:
    for text in simple_commands(command)[0]:
        simple = words(text)
        for start, word in enumerate(simple):
            tool = word.rsplit("/", 1)[-1]
            if tool not in _POSITION_TOOLS:
                continue
            for name, subcommand, index, takes_value in _POSITIONS:
                if name != tool:
                    continue
                arguments = _arguments(simple[start + 1 :], takes_value)
                if tuple(arguments[: len(subcommand)]) != subcommand:
                    continue
                rest = arguments[len(subcommand) :]
                value = literal_text(rest[index]) if index < len(rest) else None
                if value and secret_value(value):
                    return True
    return False


# "key value" pairs set by a configuration command, where the key says secret
# ("git config user.password X", "nmcli con mod NET wifi-sec.psk X", "rclone config create
# NAME sftp ... pass X"), and poetry's and composer's "http-basic.NAME USER PASSWORD".
_PAIR_TOOLS = frozenset({"git", "npm", "yarn", "pnpm", "pip", "pip3", "poetry", "composer",
                         "nmcli", "rclone", "bundle"})
_HTTP_BASIC = re.compile(
    r"\b(?:poetry|composer)\b" + ARGS + r"\shttp-basic\.\S+\s+\S+\s+" + LITERAL_WORD
)


def _secret_key_at_the_end(name: str) -> bool:
    """A configuration key that names a secret in its last words ("user.password",
    "npmAuthToken"), not in a namespace ("credential.https://host.username")."""
    segments = name_segments(name)
    return secret_option_name(name) and secret_option_name("-".join(segments[-2:]))


def _config_pair(command: str) -> bool:
    for match in _HTTP_BASIC.finditer(command):
        value = match.group("sq") or match.group("dq") or match.group("bare")
        if value and secret_value(value):
            return True
    for text in simple_commands(command)[0]:
        simple = words(text)
        if not simple or simple[0].rsplit("/", 1)[-1] not in _PAIR_TOOLS:
            continue
        if simple[0] != "nmcli" and "config" not in simple:
            continue
        for key, value in zip(simple, simple[1:]):
            name = key.strip("'\"")
            if key.startswith("-") or "=" in key or not _secret_key_at_the_end(name):
                continue
            if simple[0] == "nmcli" and "." not in name:
                continue  # nmcli's keys are "setting.property"; "wpa-psk" is a value
            text_value = literal_text(value)
            if text_value and not value.startswith("-") and secret_value(text_value):
                return True
    return False


POSITIONAL_RULES: list[Rule] = [
    rule("positional-password", ("rabbitmqctl", "mc", "wpa_passphrase", "openssl", "mkpasswd",
                                 "neo4j-admin", "ejabberdctl", "rclone"), _positional_password),
    rule("config-pair", ("config", "nmcli"), _config_pair),
    rule("lftp-password", ("lftp",), _flag("lftp", r"-u\s+['\"]?[^\s,'\"]+,", _GLUED)),
    # curl's client certificate "file:passphrase" (not a Windows "C:\" path, a pkcs11: URI).
    rule("client-cert-password", ("curl",),
         _flag("curl", r"(?:-E|--cert|--proxy-cert)(?:\s+|=)['\"]?(?!pkcs11:)[^\s:'\"]+:",
               r"(?![$`\s'\"\\/])\S")),
    # A value handed to a secrets store on the command line ("gh secret set X --body V",
    # "fly secrets set NAME=V"): whatever its name, it is kept there because it is secret.
    rule("secret-store-value", ("secret",),
         _flag(r"secrets?\s+(?:set|add|create|put)", r"(?:-b|--body)(?:\s+|=)")
         + "|" + _flag(r"secrets\s+set", r"[A-Za-z_][A-Za-z0-9_]*=")),
    rule("wifi-key", ("iwconfig",),
         _flag("iwconfig", r"key\s+(?!s:[$`])(?:s:)?(?!(?:off|on|open|restricted)\b)")),
]

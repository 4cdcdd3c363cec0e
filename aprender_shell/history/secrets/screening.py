"""Secrets in commands: a command that holds one is never learned, stored or suggested.

Policy: the whole command is dropped, never redacted, because a redacted command is neither
safe to suggest nor what the user typed. A value that is only a shell expansion (``$TOKEN``,
``"${PASS}"``, ``$(pass show x)``), a path (``--password-file ~/.pw``) or an empty string is not
a secret: the secret stays outside the history.

The rules are classes of shapes, not lists of commands:

- **secret-option**: an option or ``key=value`` / JSON key whose name has a secret word in it
  (pass, passwd, password, passphrase, pwd, secret, token, credential, ``api``/``access``/
  ``private``/``client``... key, auth with ``user:pass``), followed by a literal value: ``--db-pass
  X``, ``-storepass X``, ``--from-literal=client_secret=X``, ``'{"password": "X"}'``, and
  the secret word at the end of a dotted or camelCase name after a namespace
  (``--set auth.postgresPassword=X``, ``-Djavax.net.ssl.keyStorePassword=X``,
  ``--client-secret X``). Names that point at the secret instead of holding it
  (``--token-file``, ``--password-stdin``, ``--secret-name``, ``--tls-secret``,
  ``auth.existingSecret``, ``--key-id``, ``--password-length``, ``--no-password``) are not.
- **login-short-option**: ``-p``/``-P``/``-k``/``-K``/``-w`` with a value in a command that logs
  in or connects (a ``login``, ``logon``, ``signin``, ``auth``, ``connect`` word): ``az login -p
  X``; and a bare ``password X`` word pair there (``nmcli ... connect net password X``).
- **stdin-secret**: a literal fed by a here-string or by ``echo``/``printf`` through a pipe into
  a command that reads a secret from its input: an option naming ``stdin``, a password, a token
  or a secret (``--password-stdin``, ``--with-token``), a login/auth subcommand, ``sudo -S``,
  ``passwd``/``chpasswd``/``smbpasswd``..., ``kinit``, ``cryptsetup``, ``secret set``.
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
- statements that set a password (``typed_secrets``): SQL ``IDENTIFIED BY 'X'``, ``[WITH]
  PASSWORD 'X'``, ``SET PASSWORD FOR u = 'X'`` after a user/role/login word, Redis ``CONFIG SET
  requirepass X``, MongoDB ``changeUserPassword``; not ``PASSWORD NULL``;
- ``user/password[@db]`` connect strings of Oracle's tools (``sqlplus scott/tiger@orcl``,
  ``expdp``, ``rman``, ``userid=``, ``CONNECT u/p``, JDBC ``thin:u/p@``) and DB2 ``connect to
  DB user U using X``; not ``sqlplus / as sysdba`` nor ``scott@orcl``;
- cookies in a ``Cookie:`` header or ``curl -b``/``--cookie``/``ab -C``: a session-like name
  (sess, sid, auth, token, csrf...) with any literal value, or any value of 12+ characters with
  a digit (``lang=en`` and a cookie file are kept);
- base64 on the command line: a literal blob of 8+ characters decoded (``echo X | base64 -d``,
  ``base64 -d <<< X``, ``openssl base64 -d``, ``b64decode('X')``), or a ``user:pass`` literal
  encoded (``echo -n user:pass | base64``, how a Basic header is made);
- tools' password flags not named so (``tool_secrets``): ``xfreerdp /p:``, ``rdesktop -p``,
  ``ipmitool -P``, ``racadm -p``, ``mosquitto_pub -P``, SNMP ``-c`` communities (all but the
  default read community ``public``) and v3 ``-A``/``-X``, ``cqlsh``/``cypher-shell``/
  ``mongodump``/``rabbitmqadmin -p``, ``tsql -P``, ``hydra``/``evil-winrm -p``, ``sendemail
  -xp``, ``-U user%pass`` in any Samba tool, ``nsupdate -y`` TSIG keys, ``unrar -pX``, PDF
  ``-upw``/``input_pw``;
- credentials given as plain arguments: ``rabbitmqctl add_user NAME PASS``, ``mc alias set NAME
  URL KEY SECRET``, ``wpa_passphrase SSID PASS``, ``openssl passwd PASS``, ``mkpasswd PASS``,
  ``lftp -u user,pass``, ``curl -E cert:pass``, ``git config user.password X`` and other
  configuration ``key value`` pairs, ``gh secret set --body X``, ``iwconfig ... key X``;
- last, long random-looking strings: 32+ characters mixing upper case, lower case and digits
  with frequent switches between them and few word-like runs. Lower-case hex (git SHAs,
  checksums) and UUIDs never match; random ids (a Google Drive file id) may.

Speed: every rule but the last three has literal anchors; a command holding none of a rule's
anchors skips it without running its expression. Anchors of three or more characters are
found through their first three: the command's character triples meet the anchors' in one set
operation, so a new anchor costs a command almost nothing unless its triple is there.
The token rules also need one long run of token characters, which most commands lack
(``contains_secret`` runs on every record; ``unscreened_rules`` runs every rule, for tests).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from aprender_shell.history.secrets.rules import LAST_RULES, RULES
from aprender_shell.history.secrets.typed import TYPED_RULES

if TYPE_CHECKING:
    from aprender_shell.history.formats import HistoryEntry

_ANCHORED = (*RULES, *TYPED_RULES)

RULE_NAMES: tuple[str, ...] = tuple(r.name for r in (*_ANCHORED, *LAST_RULES))


def _anchor_masks() -> dict[str, int]:
    """Each distinct anchor with the rules (bits, in rule order) that list it."""
    masks: dict[str, int] = {}
    for number, anchored in enumerate(_ANCHORED):
        for anchor in anchored.anchors:
            masks[anchor] = masks.get(anchor, 0) | 1 << number
    return masks


_MASKS = _anchor_masks()
_SHORT_ANCHORS = tuple((a, m) for a, m in _MASKS.items() if len(a) < 3)
# The longer anchors by their first three characters: a command holds one only if it holds
# that triple, and the command's triples are found with one set operation in C, where
# searching it for each anchor in turn cost a Python loop step per anchor.
_BY_TRIPLE: dict[tuple[str, ...], tuple[tuple[str, int], ...]] = {}
for _anchor, _mask in _MASKS.items():
    if len(_anchor) >= 3:
        _key = tuple(_anchor[:3])
        _BY_TRIPLE[_key] = (*_BY_TRIPLE.get(_key, ()), (_anchor, _mask))
_TRIPLES = frozenset(_BY_TRIPLE)


def _wanted(lowered: str) -> int:
    """The rules (bits) whose anchors are in the (lower-cased) command."""
    wanted = 0
    for anchor, mask in _SHORT_ANCHORS:
        if anchor in lowered:
            wanted |= mask
    for triple in _TRIPLES.intersection(zip(lowered, lowered[1:], lowered[2:])):
        for anchor, mask in _BY_TRIPLE[triple]:
            if anchor in lowered:
                wanted |= mask
    return wanted


def _matches(command: str) -> Iterable[str]:
    wanted = _wanted(command.lower())
    while wanted:  # in rule order
        bit = wanted & -wanted
        wanted ^= bit
        name, _, check, gate = _ANCHORED[bit.bit_length() - 1]
        if (gate is None or gate.search(command)) and check(command):
            yield name
    for name, _, check, gate in LAST_RULES:
        if (gate is None or gate.search(command)) and check(command):
            yield name


def unscreened_rules(command: str) -> list[str]:
    """``matching_rules`` without the anchors and gates: every rule's check runs (to test that
    screening never lets a secret through)."""
    return [r.name for r in (*_ANCHORED, *LAST_RULES) if r.check(command)]


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

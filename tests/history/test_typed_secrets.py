"""The secrets people type that the first filter missed (issue 17), one test per class.

Each class's members must be caught and its near misses kept; the shared tests in
``test_secrets`` also check that each member is clean once its secret is a ``$VARIABLE``.
"""

from __future__ import annotations

import pytest

from aprender_shell.history.secrets import contains_secret, matching_rules
from tests.history.secret_samples import TYPED_NEAR_MISSES, TYPED_SECRETS


def _check_class(name: str) -> None:
    missed = [command for command, _ in TYPED_SECRETS[name] if not contains_secret(command)]
    flagged = {
        command: matching_rules(command)
        for command in TYPED_NEAR_MISSES[name]
        if contains_secret(command)
    }
    assert not missed, f"{name}: secrets let through: {missed}"
    assert not flagged, f"{name}: ordinary commands flagged: {flagged}"


def test_secret_words_at_the_end_of_dotted_and_camel_case_names() -> None:
    _check_class("secret-named key")


def test_sql_that_sets_a_password() -> None:
    _check_class("sql-password")


def test_user_password_at_database_connect_strings() -> None:
    _check_class("connect-string")


def test_tools_password_flags_not_named_so() -> None:
    _check_class("tool-password-flag")


def test_credentials_given_positionally() -> None:
    _check_class("positional-credentials")


def test_cookies_in_headers_and_options() -> None:
    _check_class("cookie")


def test_base64_blobs_decoded_on_the_command_line() -> None:
    _check_class("decoded-blob")


def test_what_reads_a_secret_from_its_input() -> None:
    _check_class("stdin-secret")


@pytest.mark.parametrize("community", ["public", "'public'"])
def test_the_default_read_community_is_not_a_secret(community: str) -> None:
    """``public`` is SNMP's documented default read community: it hides nothing and is what
    most snmpwalk lines say; any other community, ``private`` included, is kept out."""
    assert not contains_secret(f"snmpwalk -v2c -c {community} 10.0.0.1")
    assert contains_secret("snmpwalk -v2c -c n0c-r3ad 10.0.0.1")

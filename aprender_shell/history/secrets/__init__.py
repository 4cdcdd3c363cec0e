"""What must never be learned: commands holding a password, a key or a token.

``screening`` decides, over the rules of ``rules`` (the classic shapes), ``typed`` (the
classes people type) and ``tools`` (each tool's own flags and positions), with ``words`` for
literals and names and ``token_shapes`` for generated tokens and random strings.
"""

from aprender_shell.history.secrets.screening import (
    RULE_NAMES,
    contains_secret,
    filter_secrets,
    matching_rule,
    matching_rules,
    unscreened_rules,
)

__all__ = ["RULE_NAMES", "contains_secret", "filter_secrets", "matching_rule", "matching_rules",
           "unscreened_rules"]

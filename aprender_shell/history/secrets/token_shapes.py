"""Shapes of generated secrets: vendor tokens, prefixed tokens and long random strings.

The last rules of ``secrets``: they have no words to anchor on, only the look of what a
machine generated (a published prefix and a random body; mixed case, digits and frequent
switches between them, few word-like runs). Lower-case hex (git SHAs, checksums) and UUIDs
never match.
"""

from __future__ import annotations

import math
import re
from collections import Counter

_TOKEN_PREFIXES = (
    r"gh[pousr]_|github_pat_|gl(?:pat|ptt|dt|rt|soat|cbt|ffct|imt|agent)-|npm_|pypi-|dckr_pat_"
    r"|hf_|api_org_|do[opr]_v1_|dos_v1_|shp(?:at|ss|ca|pa)_|sk-(?:ant|proj|svcacct|admin)-"
    r"|(?:sk|rk|pk)_(?:live|test)_|whsec_|xox[abposre]-|xapp-|hv[sbr]\.|lin_api_|PMAK-|NRAK-"
    r"|sntry[su]_|figd_|ntn_|gl[cs]a?_|ATATT|ATCTT|dapi|pul-|tfp_|glsa_|ya29\.|sq0(?:atp|csp)-"
    r"|EAAA|key-|SG\.|AGE-SECRET-KEY-1|s\.|b\.|hf_oauth_|rubygems_|oauth2:|FlyV1 "
)
_VENDOR_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_])(?:" + _TOKEN_PREFIXES + r")(?P<body>[A-Za-z0-9_=+/.-]{16,})"
)
_FIXED_TOKEN = re.compile(
    r"\b(?:(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}"
    r"|AIza[0-9A-Za-z_-]{35}|(?:SK|AC)[0-9a-f]{32}|[0-9a-f]{32}-us[0-9]{1,2})\b"
)
_PREFIXED_TOKEN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]{0,11}(?:[_.-][A-Za-z0-9]{1,8}){0,2}[_.-]"
    r"(?P<body>[A-Za-z0-9][A-Za-z0-9_=+/-]{19,})"
)


def vendor_token(command: str) -> bool:
    if _FIXED_TOKEN.search(command):
        return True
    for match in _VENDOR_TOKEN.finditer(command):
        body = match.group("body")
        # A digit, and not a word: "npm_install_package_name" and "key-value-store" are not.
        if any(c.isdigit() for c in body) and random_body(body, 16, mixed_case=False):
            return True
    return False


def prefixed_token(command: str) -> bool:
    matches = _PREFIXED_TOKEN.finditer(command)
    return any(random_body(m.group("body"), 20, mixed_case=True) for m in matches)


# Every token shape above is one run of at least this many characters of these classes
# (the vendor tokens' bodies and fixed shapes; the prefixed tokens' bodies): a command without
# such a run cannot match, and most commands have none.
RUN_16 = re.compile(r"[A-Za-z0-9_=+/.-]{16}")
RUN_20 = re.compile(r"[A-Za-z0-9_=+/-]{20}")

_RANDOM_CANDIDATE = re.compile(r"[A-Za-z0-9+/=_-]{32,}")
_MIN_RANDOM_ALNUM = 28
_MIN_RANDOM_ENTROPY = 4.0
_MIN_CLASS_SWITCHES = 0.3
# Random strings of 32+ characters rarely have more than 2/3 of them in runs like "Word"/"word";
# CamelCase names and paths have more than that.
_WORD_RUN = re.compile(r"[A-Z]?[a-z]{3,}")
_MAX_WORD_SHARE = 0.7


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def random_body(body: str, min_alnum: int, mixed_case: bool) -> bool:
    """Whether a token body after a known or likely prefix looks generated, not written."""
    text = "".join(c for c in body if c.isalnum())
    if len(text) < min_alnum or not any(c.isdigit() for c in text):
        return False
    if mixed_case and not (any(c.isupper() for c in text) and any(c.islower() for c in text)):
        return False
    if sum(len(w) for w in _WORD_RUN.findall(text)) > _MAX_WORD_SHARE * len(text):
        return False
    return _entropy(text) >= 3.0


def _looks_random(candidate: str) -> bool:
    # Judged on letters and digits only: "/", "_" and "-" separate the words of paths and names.
    text = "".join(c for c in candidate if c.isalnum())
    if len(text) < _MIN_RANDOM_ALNUM or not (
        any(c.isupper() for c in text)
        and any(c.islower() for c in text)
        and any(c.isdigit() for c in text)
    ):
        return False
    if _entropy(text) < _MIN_RANDOM_ENTROPY:
        return False
    if sum(len(w) for w in _WORD_RUN.findall(text)) > _MAX_WORD_SHARE * len(text):
        return False
    classes = [0 if c.isupper() else 1 if c.islower() else 2 for c in text]
    switches = sum(1 for a, b in zip(classes, classes[1:]) if a != b)
    return switches >= _MIN_CLASS_SWITCHES * (len(text) - 1)


def random_string(command: str) -> bool:
    return any(_looks_random(m.group(0)) for m in _RANDOM_CANDIDATE.finditer(command))

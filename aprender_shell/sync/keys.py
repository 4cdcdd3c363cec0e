"""The folder's key: 32 random bytes, kept 0600 in the data folder and never in the folder.

People paste it from one machine to another, so its text form carries a checksum (a typo is
told apart from a key of another folder) and is grouped for reading::

    aps1-XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from aprender_shell.sync import KEY_FILENAME as KEY_FILENAME
from aprender_shell.sync import SyncError

KEY_BYTES = 32
PREFIX = "aps1-"
_CHECK_BYTES = 3  # 32 + 3 bytes are 56 base32 letters, no padding


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def key_text(key: bytes) -> str:
    """The pasteable form of ``key``."""
    letters = base64.b32encode(key + _check(key)).decode("ascii")
    return PREFIX + "-".join(letters[start : start + 8] for start in range(0, len(letters), 8))


def parse_key(text: str) -> bytes:
    """The key ``text`` spells; ``SyncError`` when it is not one (a typo, a cut paste)."""
    cleaned = "".join(text.split()).upper().replace("-", "")
    if not cleaned.startswith(PREFIX.upper().rstrip("-")):
        raise SyncError("that is not a sync key (it starts with 'aps1-'): copy it again from "
                        "'aprender-shell sync key' on a device that syncs")
    letters = cleaned[len(PREFIX) - 1 :]
    try:
        raw = base64.b32decode(letters)
    except ValueError:  # binascii.Error is a ValueError
        raw = b""
    key, check = raw[:KEY_BYTES], raw[KEY_BYTES:]
    if len(key) != KEY_BYTES or check != _check(key):
        raise SyncError("the sync key is mistyped or cut short: copy it again, whole, from "
                        "'aprender-shell sync key' on a device that syncs")
    return key


def _check(key: bytes) -> bytes:
    return hashlib.sha256(b"aprender-shell sync key" + key).digest()[:_CHECK_BYTES]


def save_key(path: Path, key: bytes) -> None:
    """Write the key file, mode 0600 (its folder is private: ``ensure_private_dir``)."""
    from aprender_shell.fileio import atomic_write_bytes

    atomic_write_bytes(path, key_text(key).encode("ascii") + b"\n", 0o600)


def load_key(path: Path) -> bytes:
    try:
        text = path.read_text("ascii", errors="replace")
    except FileNotFoundError:
        raise SyncError("this device does not sync: run 'aprender-shell sync init FOLDER' or "
                        "'aprender-shell sync join FOLDER --key KEY'") from None
    except OSError as error:
        raise SyncError(f"cannot read the sync key {path}: {error.strerror or error}") from None
    return parse_key(text)

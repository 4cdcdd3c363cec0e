"""Sealing: AES-256-GCM over every byte written into the folder, the file's place bound in.

A sealed file is a fresh 12-byte nonce then the ciphertext with its tag; nothing else, so the
folder shows no readable byte. The associated data names the format version, the kind of file,
the device that wrote it and its sequence number: a segment copied under another device's
name, renamed to another number, or put back in place of a newer one fails authentication
exactly as a flipped byte or another key does.

Version history (``SEAL_VERSION``): 1 = AES-256-GCM, JSON payloads.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEAL_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
OVERHEAD = NONCE_BYTES + TAG_BYTES

# What a sealed file is: the folder's marker, or one device's segment.
FOLDER_KIND = "folder"
SEGMENT_KIND = "segment"


class SealError(Exception):
    """A sealed file failed authentication: another key, tampering, truncation, or a file
    that is not where it was written."""


def associated_data(kind: str, device: str, seq: int) -> bytes:
    return f"aprender-shell sync {SEAL_VERSION}\0{kind}\0{device}\0{seq}".encode()


def seal(key: bytes, kind: str, device: str, seq: int, payload: bytes) -> bytes:
    """``payload`` sealed for the place ``kind``/``device``/``seq``."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, payload, associated_data(kind, device, seq))


def unseal(key: bytes, kind: str, device: str, seq: int, data: bytes) -> bytes:
    """The payload of ``data`` if it was sealed with ``key`` for this place; else ``SealError``."""
    if len(data) < OVERHEAD:
        raise SealError("cut short")
    nonce, sealed = data[:NONCE_BYTES], data[NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, sealed, associated_data(kind, device, seq))
    except InvalidTag:
        raise SealError("fails authentication") from None

"""``aprender-shell sync``: set up, leave, and run one sync (publish, then merge).

One sync at a time per device (an ``flock`` on ``sync/lock`` in the data folder): the server's
watch and a ``sync now`` typed meanwhile never number two segments alike.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aprender_shell.model.learned.journal import Record
from aprender_shell.sync import SyncError
from aprender_shell.sync.compaction import compact_own, compactable
from aprender_shell.sync.intake import Intake
from aprender_shell.sync.keys import load_key, new_key, parse_key, save_key
from aprender_shell.sync.layout import MARKER_NAME, list_folder, new_device_id, write_once
from aprender_shell.sync.merge import read_incoming
from aprender_shell.sync.publish import (
    own_records,
    pending,
    publish_entries,
    publish_records,
    record_digest,
    this_host,
)
from aprender_shell.sync.sealing import FOLDER_KIND, SealError, seal, unseal
from aprender_shell.sync.segments import FORGET, JOIN, LEAVE, tombstone_id
from aprender_shell.sync.state import (
    LOCK_FILENAME,
    SyncState,
    active_state,
    key_path,
    load_state,
    save_state,
    sync_dir,
)


@dataclass
class SyncReport:
    """What one sync did."""

    published: int = 0
    learned: int = 0
    kept_out: int = 0
    forgotten: int = 0
    refused: list[str] = field(default_factory=list)


@contextlib.contextmanager
def sync_lock() -> Iterator[None]:
    from aprender_shell.paths import ensure_private_dir

    folder = ensure_private_dir(sync_dir())
    flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
    fd = os.open(folder / LOCK_FILENAME, flags, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _generation(model_path: Path) -> str:
    from aprender_shell.model.training.writer import index_of

    return index_of(model_path).generation  # ModelNotFoundError says to train first


def init(folder: Path, model_path: Path) -> SyncReport:
    """Make ``folder`` a sync folder under a new key and publish what this device learned."""
    _generation(model_path)
    with sync_lock():
        _refuse_if_syncing()
        folder = folder.expanduser().absolute()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SyncError(f"cannot make the sync folder {folder}: {error.strerror}") from None
        if (folder / MARKER_NAME).exists():
            raise SyncError(f"{folder} is a sync folder already: join it with 'aprender-shell "
                            "sync join FOLDER --key KEY' (the key is on a device that syncs)")
        key = new_key()
        folder_id = os.urandom(8).hex()
        marker = json.dumps({"folder": folder_id, "created": int(time.time())}).encode()
        write_once(folder / MARKER_NAME, seal(key, FOLDER_KIND, "", 0, marker))
        state = SyncState(str(folder), new_device_id(), this_host(), folder_id=folder_id)
        save_key(key_path(), key)
        save_state(state)
        return _sync(model_path, state, key, with_corpus=True)


def join(folder: Path, key_text: str, model_path: Path) -> SyncReport:
    """Join the sync folder ``folder`` with its key; resumes this device's old id when it
    had left the same folder, else publishes everything it learned."""
    key = parse_key(key_text)
    _generation(model_path)
    with sync_lock():
        _refuse_if_syncing()
        folder = folder.expanduser().absolute()
        try:
            data = (folder / MARKER_NAME).read_bytes()
        except FileNotFoundError:
            raise SyncError(f"{folder} is not a sync folder (no {MARKER_NAME} in it): check "
                            "the path, and that your sync tool brought it here") from None
        except OSError as error:
            raise SyncError(f"cannot read {folder}: {error.strerror or error}") from None
        try:
            folder_id = json.loads(unseal(key, FOLDER_KIND, "", 0, data))["folder"]
        except (SealError, ValueError, KeyError, TypeError):
            raise SyncError(f"the key does not open {folder}: it is another folder's key "
                            "(print this folder's with 'aprender-shell sync key' on a device "
                            "that syncs it)") from None
        previous = load_state()
        if previous is not None and previous.folder_id == folder_id:
            state, fresh = previous, False
            state.folder, state.host = str(folder), this_host()
        else:
            state, fresh = SyncState(str(folder), new_device_id(), this_host(),
                                     folder_id=folder_id), True
        save_key(key_path(), key)
        if not fresh:  # the others see it back
            publish_entries(folder, key, state, [{"k": JOIN, "t": int(time.time())}])
        save_state(state)
        return _sync(model_path, state, key, with_corpus=fresh)


def _refuse_if_syncing() -> None:
    state = load_state()
    if state is not None and state.active and key_path().exists():
        raise SyncError(f"this device syncs with {state.folder} already: run 'aprender-shell "
                        "sync leave' first")


def leave() -> str:
    """Stop syncing: say so in the folder (best effort), forget the key; returns the folder."""
    with sync_lock():
        state = active_state()
        folder = Path(str(state.folder))
        with contextlib.suppress(SyncError, OSError):
            key = load_key(key_path())
            publish_entries(folder, key, state, [{"k": LEAVE, "t": int(time.time())}])
        state.folder = None
        save_state(state)  # the device id stays: joining the same folder again resumes it
        with contextlib.suppress(FileNotFoundError):
            key_path().unlink()
        return str(folder)


def forget_applied() -> None:
    """After a retraining: the next sync applies every device's records again (those already
    in the journal are not added twice)."""
    with sync_lock():
        state = load_state()
        if state is None:
            return
        for peer in state.peers.values():
            peer.seq, peer.digest, peer.records, peer.upto = 0, "", 0, 0
        save_state(state)


def current_key() -> str:
    from aprender_shell.sync.keys import key_text

    active_state()
    return key_text(load_key(key_path()))


def sync_now(model_path: Path) -> SyncReport:
    """Publish what this device learned since the last sync, then merge the others'."""
    from aprender_shell.errors import AprenderError

    with sync_lock():
        state = active_state()
        try:
            return _sync(model_path, state, load_key(key_path()))
        except (AprenderError, OSError) as error:
            # Named in 'sync status' until a sync succeeds; what was published stays counted.
            failed = load_state() or state
            failed.last_error = str(error) if isinstance(error, AprenderError) else (
                f"{error.strerror or error} ({error.filename})")
            with contextlib.suppress(AprenderError, OSError):
                save_state(failed)
            raise


def publish_forget(pattern: str, mode: str) -> bool:
    """Seal a tombstone for ``pattern`` into the folder, if this device syncs; True if so."""
    if not key_path().exists():
        return False
    with sync_lock():
        state = active_state()
        tombstone = {"k": FORGET, "pattern": pattern, "mode": mode, "t": int(time.time())}
        kept = {"id": tombstone_id(state.device, state.next_seq), "pattern": pattern,
                "mode": mode, "t": tombstone["t"]}
        state.tombstones.append(kept)  # known from this segment on: it knows itself
        publish_entries(Path(str(state.folder)), load_key(key_path()), state, [tombstone])
        save_state(state)
    return True


def _sync(model_path: Path, state: SyncState, key: bytes, with_corpus: bool = False) -> SyncReport:
    report = SyncReport()
    folder = Path(str(state.folder))
    listing = list_folder(folder)
    report.published = _publish(model_path, folder, key, state, with_corpus)
    intake = Intake(model_path)
    incoming = read_incoming(folder, key, state, listing, intake.take)
    report.refused = list(incoming.refused)
    if incoming.malformed:
        report.refused.append(f"{incoming.malformed} entries were malformed and left out")
    known = {tombstone.get("id") for tombstone in state.tombstones}
    fresh = [tombstone for tombstone in incoming.tombstones if tombstone["id"] not in known]
    if fresh:  # (a compacted segment repeats the tombstones it replaces)
        report.forgotten = _apply_tombstones(model_path, fresh)
        state.tombstones.extend(fresh)
    report.learned = intake.finish(_matchers(state.tombstones))
    report.kept_out = intake.kept_out
    state.refused = report.refused
    # Not refused (nothing of ours is in them), but shown beside what was.
    state.notes = [f"{len(listing.unknown)} files not ours were passed over (e.g. "
                   f"{listing.unknown[0][:60]!r})"] if listing.unknown else []
    state.last_sync, state.last_error = time.time(), None
    save_state(state)
    run = compactable(folder, state)
    if run:
        compact_own(folder, key, state, run, _matchers(state.tombstones),
                    lambda: save_state(state))
        save_state(state)
    return report


def _publish(model_path: Path, folder: Path, key: bytes, state: SyncState,
             with_corpus: bool) -> int:
    generation = _generation(model_path)
    published = 0
    if with_corpus:
        published += publish_records(folder, key, state, _corpus_records(model_path),
                                     lambda chunk: save_state(state))
    records = own_records(model_path, generation)
    todo, current = pending(records, state.published_counter())
    done = state.published_counter()

    def committed(chunk: Sequence[Record]) -> None:
        done.update(record_digest(record) for record in chunk)
        state.published = {k: v for k, v in done.items() if k in current}
        save_state(state)

    published += publish_records(folder, key, state, todo, committed)
    # Every record in the journal is published now; those folded away since are gone.
    state.published = dict(current)
    return published


def _corpus_records(model_path: Path) -> Iterator[Record]:
    """The commands the model was trained on as records, a corpus entry decoded at a time."""
    from aprender_shell.model.memory import MemoryLimit
    from aprender_shell.model.store.corpus import decode_chunk
    from aprender_shell.model.store.tables import open_model_bundle, read_index

    with open_model_bundle(model_path, MemoryLimit.default().paging) as bundle:
        index = read_index(bundle, model_path)
        if index.source == "sample":
            return  # the packaged sample is nobody's history
        for chunk in index.corpus:
            entries = decode_chunk(bundle.get_model(chunk.name), chunk, f"model {model_path}")
            bundle.evict(chunk.name)
            for entry in entries:
                record: Record = {"c": entry.command}
                if entry.timestamp is not None:
                    record["t"] = entry.timestamp
                context = getattr(entry, "context", None)
                if context is not None:
                    for name, value in (("cwd", context.cwd), ("exit", context.exit),
                                        ("host", context.host), ("sh", context.shell),
                                        ("agent", context.agent)):  # an agent's stays its own
                        if value is not None:
                            record[name] = value
                yield record


def _matchers(tombstones: Sequence[dict[str, Any]]) -> list[tuple[dict[str, Any], Any]]:
    from aprender_shell.errors import UsageError
    from aprender_shell.model.training.forget import command_matcher

    matchers = []
    for tombstone in tombstones:
        with contextlib.suppress(UsageError):
            matchers.append((tombstone, command_matcher(tombstone["pattern"], tombstone["mode"])))
    return matchers


def _apply_tombstones(model_path: Path, tombstones: Sequence[dict[str, Any]]) -> int:
    """Forget what each tombstone names here: the model, its corpus and journal (a running
    server sees them replaced and reopens the model)."""
    from aprender_shell.model.training.forget import forget

    removed = 0
    for tombstone, matches in _matchers(tombstones):
        del tombstone
        removed += forget(model_path, matches).removed
    return removed


def main(argv: Sequence[str]) -> int:
    """``python -m aprender_shell.sync.engine MODEL``: one sync, for the server's watch."""
    from aprender_shell.errors import AprenderError

    try:
        report = sync_now(Path(argv[0]))
    except (AprenderError, OSError) as error:
        print(f"sync failed: {error}")
        return 1
    print(f"synced: published {report.published}, learned {report.learned}, "
          f"kept out {report.kept_out}, forgot {report.forgotten}, refused "
          f"{len(report.refused)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

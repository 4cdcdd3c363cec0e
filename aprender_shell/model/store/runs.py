"""What the model learned from the context of its commands' runs: two optional sorted tables.

Training counts them from the corpus rows that carry a context (store/corpus.py: what the
shells recorded, kept through every fold), so what the overlay learned from journal records
(folder preferences, shell shares) stays learned once they are folded, and a command's exit
statuses are known to whoever scores it:

- ``dir``: for each working folder, the commands run there most (at most ``MAX_PER_FOLDER``,
  the overlay's own bound), with how often. Payload: u8 count, then for each a u16 text length,
  the text, a u32 count.
- ``run``: for each command with a recorded shell or exit status, ``RunCounts``: how often it
  ran in zsh, bash and fish, how often it exited 0 and how often it failed. Payload: the five
  counts as unsigned LEB128 varints (one byte each below 128: a table of every command run
  since the shells recorded, so its bytes count).
- ``host`` (index version 5): for each command run at least once on another host than the one
  training ran on (``os.uname().nodename``, as the overlay tells "here"), two such varints: its
  runs with a context, and how many of them were on other hosts (the predictor's host share).

Both are cut into segments like the other tables (paged within the memory limit, looked up in
place); a model trained on history files alone has neither (index version 4, FORMAT.md).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from aprender_shell.model.store.segments import SegmentView
from aprender_shell.model.tuples import NamedTuple

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from aprender_shell.bundle import PagedBundle
    from aprender_shell.model.store.index import ModelIndex

FOLDERS, RUNS, HOSTS = "dir", "run", "host"
# The overlay keeps as many commands per folder (learned/overlay.py, MAX_PER_FOLDER).
MAX_PER_FOLDER = 64
# A folder's command longer than this is not kept: it bounds a folder's record to a few KB.
MAX_FOLDER_COMMAND_CHARS = 200
MAX_RUN_COUNT = 2**32 - 1
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_FIELDS = 5


class RunCounts(NamedTuple):
    """How a command's recorded runs went: uses per shell (``limits.SHELLS`` order), exited 0,
    exited otherwise. A run with no shell or no exit status recorded, or interrupted
    (``limits.INTERRUPTED``), counts in neither."""

    zsh: int
    bash: int
    fish: int
    succeeded: int
    failed: int

    @property
    def shells(self) -> tuple[int, int, int]:
        return self.zsh, self.bash, self.fish

    def plus(self, other: Sequence[int]) -> RunCounts:
        """These counts and ``other``'s (five counts in this order) together."""
        return RunCounts(*(mine + theirs for mine, theirs in zip(self, other)))


NO_RUNS = RunCounts(0, 0, 0, 0, 0)


def encode_folder_payload(commands: Sequence[tuple[str, int]]) -> bytes:
    """A ``dir`` record's payload: ``commands`` (text, count), most run first."""
    parts = [bytes((len(commands),))]
    for text, count in commands:
        raw = text.encode("utf-8", "surrogatepass")
        parts += (_U16.pack(len(raw)), raw, _U32.pack(min(count, MAX_RUN_COUNT)))
    return b"".join(parts)


def encode_runs_payload(counts: Sequence[int]) -> bytes:
    """A ``run`` record's payload (the five counts of ``RunCounts``), or a ``host`` one's."""
    packed = bytearray()
    for count in counts:
        count = min(count, MAX_RUN_COUNT)
        while count >= 0x80:
            packed.append(0x80 | (count & 0x7F))
            count >>= 7
        packed.append(count)
    return bytes(packed)


def folder_commands(view: SegmentView, index: int) -> dict[str, int]:
    """The commands of ``dir`` record ``index`` with their counts (ValueError: damaged)."""
    data = view.data
    offset = view.payload_start(index)
    try:
        found = {}
        count = data[offset]
        offset += 1
        for _ in range(count):
            length = _U16.unpack_from(data, offset)[0]
            end = offset + 2 + length
            if end > len(data):
                raise IndexError("a command runs past the end")
            found[data[offset + 2 : end].decode("utf-8", "surrogatepass")] = _U32.unpack_from(
                data, end
            )[0]
            offset = end + 4
        return found
    except (struct.error, IndexError) as error:
        raise ValueError(f"a folder record runs past its segment ({error})") from None


def run_counts(view: SegmentView, index: int) -> RunCounts:
    """The counts of ``run`` record ``index`` (ValueError: damaged)."""
    return RunCounts(*_varints(view, index, _FIELDS))


def host_counts(view: SegmentView, index: int) -> tuple[int, int]:
    """The counts of ``host`` record ``index``: runs recorded, of them elsewhere (ValueError:
    damaged, or more runs elsewhere than recorded)."""
    recorded, away = _varints(view, index, 2)
    if away > recorded:
        raise ValueError("a host record counts more runs elsewhere than runs")
    return recorded, away


def _varints(view: SegmentView, index: int, fields: int) -> list[int]:
    data = view.data
    offset = view.payload_start(index)
    counts = []
    for _ in range(fields):
        count = shift = 0
        while True:
            if offset >= len(data) or shift > 28:  # 5 bytes hold any u32
                raise ValueError("a run record runs past its segment or holds a huge count")
            byte = data[offset]
            offset += 1
            count |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        counts.append(count)
    return counts


class RunTables:
    """The ``dir`` and ``run`` tables of an open model (empty when it has none)."""

    def __init__(self, bundle: PagedBundle, index: ModelIndex) -> None:
        from aprender_shell.model.store.tables import Table

        folders, runs = index.tables.get(FOLDERS), index.tables.get(RUNS)
        hosts = index.tables.get(HOSTS)
        self._folders = Table(bundle, folders) if folders is not None else None
        self._runs = Table(bundle, runs) if runs is not None else None
        self._hosts = Table(bundle, hosts) if hosts is not None else None

    @property
    def segments(self) -> int:
        """How many segments the two tables take."""
        tables = (self._folders, self._runs, self._hosts)
        return sum(len(table) for table in tables if table is not None)

    @property
    def has_runs(self) -> bool:
        """Whether the model has a ``run`` table (trained on runs with a shell or an exit)."""
        return self._runs is not None

    @property
    def has_hosts(self) -> bool:
        """Whether the model has a ``host`` table (trained on runs with a host)."""
        return self._hosts is not None

    def folder(self, cwd: str) -> dict[str, int]:
        """The commands the model saw run most in ``cwd``, with how often."""
        found = self._folders.find(cwd) if self._folders is not None else None
        return folder_commands(*found) if found is not None else {}

    def runs(self, command: str) -> RunCounts | None:
        """How ``command``'s recorded runs went, as of training (None: none recorded)."""
        found = self._runs.find(command) if self._runs is not None else None
        return run_counts(*found) if found is not None else None

    def hosts(self, command: str) -> tuple[int, int] | None:
        """``command``'s runs with a context and how many of them ran on other hosts, as of
        training (None: all of them ran on the training host, as far as is known)."""
        found = self._hosts.find(command) if self._hosts is not None else None
        return host_counts(*found) if found is not None else None

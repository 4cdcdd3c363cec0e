"""The model file opened for paging, its index, and its sorted tables split into segments.

Every table (commands, hot prefixes, n-grams) is sorted by key and cut into segments whose
first keys the index lists; a look-up reads the one segment that may hold its key, in place.
"""

from __future__ import annotations

import bisect
import os

from aprender_shell.bundle import BundleError, EvictionStrategy, PagedBundle, PagingConfig
from aprender_shell.bundle.format import ManifestTooLargeError
from aprender_shell.errors import ModelNotFoundError, UsageError
from aprender_shell.model.memory import MemoryLimit
from aprender_shell.model.store.index import ModelIndex, TableSpec
from aprender_shell.model.store.segments import SegmentView

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from collections.abc import Sequence


class Table:
    """One of the model's sorted tables, split into segments named in the index."""

    def __init__(self, bundle: PagedBundle, spec: TableSpec) -> None:
        self._bundle = bundle
        self.starts = spec.starts
        self.names = spec.names

    def __len__(self) -> int:
        return len(self.names)

    def view(self, number: int) -> SegmentView:
        return SegmentView(self._bundle.get_model(self.names[number]))

    def segment_of(self, key: str) -> int:
        """The segment whose key range would hold ``key`` (-1 if the table is empty)."""
        return bisect.bisect_right(self.starts, key) - 1 if self.names else -1

    def segments_of_prefix(self, prefix: str) -> tuple[int, int]:
        """First and last segment that may hold keys starting with ``prefix``."""
        first = max(0, self.segment_of(prefix))
        last = bisect.bisect_left(self.starts, prefix)
        while last < len(self.starts) and self.starts[last].startswith(prefix):
            last += 1
        return first, max(first, last - 1)

    def find(self, key: str) -> tuple[SegmentView, int] | None:
        number = self.segment_of(key)
        if number < 0:
            return None
        view = self.view(number)
        index = view.find(key)
        return (view, index) if index >= 0 else None


def check_fits(
    bundle: PagedBundle, path: str | os.PathLike[str], memory_limit: MemoryLimit
) -> None:
    """Refuse, before any query, a limit whose paging share is below the largest segment."""
    largest = max((bundle.model_size(name) for name in bundle.model_names()), default=0)
    if largest > memory_limit.paging:
        megabytes = f"{memory_limit.paging / 2**20:.3g}"
        raise UsageError(
            f"{path} was trained for more memory: its largest segment is {largest // 1024} KB, "
            f"over the {megabytes} MB limit; retrain with 'aprender-shell train --memory-limit "
            f"{megabytes}' or raise --memory-limit"
        )


def check_manifest_fits(names: Sequence[str], memory_limit: MemoryLimit) -> None:
    """Refuse to write a model that would be refused when read at the limit it is trained for:
    its manifest, held while it is open, must fit that limit's paging share's allowance."""
    from aprender_shell.bundle.format import MANIFEST_SHARE, manifest_allowance, manifest_bound

    needed = manifest_bound(names)
    # A query pages the bundle within the limit's paging share (Predictor.open).
    if needed > manifest_allowance(memory_limit.paging):
        raise UsageError(
            f"this history makes {len(names)} model entries, too many to index within a "
            f"{memory_limit} memory limit: train with --memory-limit "
            f"{needed * MANIFEST_SHARE * 4 / 3 / 2**20:.3g} or more"
        )


def open_model_bundle(path: str | os.PathLike[str], max_memory: int) -> PagedBundle:
    """The model file paged within ``max_memory`` bytes; a missing or damaged one says what
    to do."""
    if not os.path.exists(path):
        raise ModelNotFoundError(f"no model at {path}: run 'aprender-shell train' first")
    config = PagingConfig(max_memory=max_memory, eviction=EvictionStrategy.LRU, prefetch=False)
    try:
        return PagedBundle.open(path, config)
    except ManifestTooLargeError as error:
        # No model we write is refused at the limit it was trained for (train checks): this
        # one was trained for more memory, or crafted.
        raise UsageError(
            f"{path} lists more segments than a model paged within this memory limit may "
            f"(its manifest is {error.length // 1024} KB, the limit allows "
            f"{error.allowance // 1024} KB): raise --memory-limit, or retrain with "
            "'aprender-shell train'"
        ) from None
    except BundleError as error:
        raise BundleError(f"{error} (retrain with 'aprender-shell train')") from error


def read_index(bundle: PagedBundle, path: str | os.PathLike[str]) -> ModelIndex:
    """The model's index, checked to be an aprender-shell model this version can read."""
    if "index" not in bundle:
        raise BundleError(
            f"{path} is a bundle but not an aprender-shell model: "
            "retrain with 'aprender-shell train'"
        )
    raw = bundle.get_model("index")
    # The index is kept decoded; its bytes need not stay in the paging cache.
    bundle.evict("index")
    return ModelIndex.from_json(raw, bundle, f"model {path}")

"""Fewer garbage collections during a long run that makes many objects and few cycles.

Python's cyclic garbage collector runs a collection every 700 new container objects and,
now and then, walks every object the process holds. A demo run holds half a million of
them (the modules imported, each incident's point: shapely geometries are tracked), so
those walks cost seconds while finding almost nothing to free (pandas, numpy and shapely
keep their data outside Python objects, and free it by reference counting).
:func:`fewer_collections` sets the objects already there aside (``gc.freeze``) and collects
less often for the run, then restores both.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["fewer_collections", "no_collection_at_exit"]

#: New container objects between two youngest-generation collections during a run
#: (Python's default is 700); the older generations keep their default ratios.
RUN_THRESHOLD = 100_000

_depth = 0  # blocks open (run_demo calling synthesize..., other threads): the last out restores
_froze = False  # whether the open blocks froze objects (never when the caller had frozen some)
_saved: dict = {}
_lock = threading.Lock()


@contextmanager
def fewer_collections(threshold: int = RUN_THRESHOLD, *, pause: bool = False) -> Iterator[None]:
    """Collect garbage less often inside the block; the collector's settings come back after.

    The objects that exist on entry are set aside (``gc.freeze``: never walked by a
    collection, never freed while set aside, which they would not be anyway since the caller
    holds them) and the youngest generation is collected every ``threshold`` new objects;
    with ``pause``, not at all inside the block (for a step that makes many objects and no
    garbage cycles, like one point per incident). When the last open block ends (blocks
    nest, and may be open in several threads) the objects set aside go back to the
    collector (``gc.unfreeze``) and the thresholds are restored, also on an exception; a
    block inside another sets aside, on entry, what the outer one made so far. When the
    caller had frozen objects itself, nothing is frozen or unfrozen (its freeze stays).
    Results do not change: only when cycles are freed does.

    Parameters
    ----------
    threshold : int, default 100000
        New container objects between collections of the youngest generation.
    pause : bool, default False
        No collection at all inside the block.

    Examples
    --------
    >>> import gc
    >>> before = gc.get_threshold()
    >>> with fewer_collections():
    ...     with fewer_collections(pause=True):
    ...         paused = not gc.isenabled()
    ...     during = gc.get_threshold()[0]
    >>> paused, during, gc.get_threshold() == before, gc.isenabled()
    (True, 100000, True, True)
    """
    global _depth, _froze
    with _lock:  # blocks in several threads: the first in sets up, the last out restores
        outermost = _depth == 0
        if outermost:
            _saved["threshold"] = gc.get_threshold()
            # objects the caller froze itself (a server before it forks) stay frozen: then
            # nothing is frozen or unfrozen here, so its freeze is never undone
            _froze = gc.get_freeze_count() == 0
            gc.set_threshold(max(threshold, _saved["threshold"][0]), *_saved["threshold"][1:])
        _depth += 1
        if _froze:
            gc.freeze()
        was_enabled = gc.isenabled()
        if pause:
            gc.disable()
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if pause and was_enabled:
                gc.enable()
            if _depth == 0:
                gc.set_threshold(*_saved.pop("threshold"))
                if _froze:
                    gc.unfreeze()
                _froze = False


def no_collection_at_exit() -> None:
    """When this process exits, let no garbage collection walk what it still holds.

    A Python process on its way out tears its modules down, and the collections that
    teardown sets off walk every object left (after a demo run, half a million: seconds of
    the command's wall time, for memory the operating system takes back anyway). This
    registers ``gc.freeze`` to run first thing at exit (once, however often it is called),
    so those walks skip them. Objects are still finalized by reference counting, and
    ``weakref.finalize`` callbacks (temporary folders) still run. For a command-line
    program's process, not for a library call.

    Examples
    --------
    >>> import atexit, gc
    >>> no_collection_at_exit(); no_collection_at_exit()
    >>> atexit.unregister(gc.freeze)  # this doctest's process keeps collecting at exit
    """
    import atexit

    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)

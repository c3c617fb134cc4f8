"""One worker process that runs pickled calls while the caller goes on.

The demo hands its matplotlib pictures, and the pages no later stage reads, to one
:class:`Worker`: a fresh interpreter started with :mod:`subprocess` (never a fork of a
process that may hold threads, and never a re-run of the caller's script: it runs only
this module's :func:`serve`, so the caller's ``__main__`` is never read, let alone swapped,
and a script without ``if __name__ == "__main__":`` is safe). A thread of the caller feeds
it **one call at a time**, the next only when it has answered the last: every call it has
not begun is still the caller's, which can take it back at any moment (cancel its future
and run it itself, on the same pickled arguments) instead of waiting for it. Calls and
answers travel as length-prefixed pickles over the worker's standard input and output
(what the calls print goes to standard error).
"""

from __future__ import annotations

import itertools
import pickle
import struct
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Job",
    "Shared",
    "Unshared",
    "Worker",
    "WorkerLost",
    "end_spares",
    "prestart",
    "serve",
    "take_worker",
    "wait_for_workers",
]

#: what the worker's interpreter runs: the caller's ``sys.path`` first (so it imports the
#: same impactzones), then :func:`serve`
_BOOT = (
    "import pickle, struct, sys\n"
    "(n,) = struct.unpack('<Q', sys.stdin.buffer.read(8))\n"
    "sys.path[:] = pickle.loads(sys.stdin.buffer.read(n))\n"
    "from impactzones.core.worker import serve\n"
    "serve()\n"
)
_HEAD = struct.Struct("<Q")
_PROTOCOL = pickle.HIGHEST_PROTOCOL


class WorkerLost(RuntimeError):
    """The worker process ended (killed, out of memory) while running a call."""


class Unshared(LookupError):
    """A call named a shared object (:meth:`Worker.share`) its process does not hold."""


#: objects shared with a worker (:meth:`Worker.share`), by key: in the caller's process
#: the object itself, in the worker the copy it was sent
_HELD: dict[int, Any] = {}
_KEYS = itertools.count(1)


def _held(key: int):
    """The object shared under ``key`` (how a :class:`Shared` unpickles)."""
    try:
        return _HELD[key]
    except KeyError:
        raise Unshared(f"no shared object {key} in this process") from None


@dataclass(frozen=True)
class Shared:
    """Stands in for an object shared with a worker (:meth:`Worker.share`) in the calls'
    arguments: it pickles as its key and unpickles as the object held under that key in
    the process that runs the call (the worker's copy there, the object itself here).

    Examples
    --------
    >>> import operator, pickle
    >>> w = Worker()
    >>> big, job = w.share([1, 2, 3])
    >>> w.submit(pickle.dumps((len, (big,), {}))).future.result()
    3
    >>> pickle.loads(pickle.dumps(big))  # here: the object itself
    [1, 2, 3]
    >>> w.close()
    """

    key: int

    def __reduce__(self):
        return (_held, (self.key,))

    def get(self) -> Any:
        """The object shared under this key, as this process holds it (for a call run
        here, without pickling, once the worker is gone)."""
        return _held(self.key)


def _hold(key: int, packed) -> None:
    """The worker's side of :meth:`Worker.share`: hold the object under ``key``."""
    _HELD[key] = _unpack(packed)


def _pack(obj):
    """``obj`` ready to pickle: a GeoDataFrame of points as its other columns and the
    points' coordinates (pickling 170,000 points one by one costs a quarter of a second;
    the worker rebuilds them, in its own time), anything else as itself."""
    import sys

    gpd = sys.modules.get("geopandas")  # a GeoDataFrame means geopandas is imported
    if gpd is None or not isinstance(obj, gpd.GeoDataFrame):
        return ("object", obj)
    import numpy as np
    import pandas as pd
    import shapely

    name = obj.geometry.name
    geoms = np.asarray(obj.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    points = geoms[~missing & ~empty]
    if (shapely.get_type_id(points) != shapely.GeometryType.POINT).any():
        return ("object", obj)
    bare = pd.DataFrame(obj.drop(columns=name))
    xy = shapely.get_coordinates(points)
    return ("points", bare, xy, missing, empty, name, list(obj.columns), obj.crs, obj.attrs)


def _unpack(packed):
    """The object :func:`_pack` packed."""
    if packed[0] == "object":
        return packed[1]
    import geopandas as gpd
    import numpy as np
    import shapely

    _, bare, xy, missing, empty, name, columns, crs, attrs = packed
    geoms = np.full(len(bare), None, dtype=object)
    geoms[empty] = shapely.Point()
    geoms[~missing & ~empty] = shapely.points(xy)
    bare[name] = gpd.GeoSeries(geoms, index=bare.index, crs=crs)
    frame = gpd.GeoDataFrame(bare[columns], geometry=name, crs=crs)
    frame.attrs = attrs
    return frame


@dataclass
class Job:
    """One call handed to a :class:`Worker`: its future, its name and its times
    (``time.perf_counter()`` seconds of the caller: handed over, begun and done; begun and
    done stay None for a call taken back) and the worker's CPU seconds for it."""

    future: Future
    blob: bytes
    name: str = ""
    submitted: float = field(default_factory=time.perf_counter)
    begun: float | None = None
    done: float | None = None
    cpu: float | None = None
    #: who ran it: "worker", or "here" (the caller, having taken it back)
    where: str = ""


class Worker:
    """A worker process running pickled calls in the order handed over, one at a time.

    ``Worker()`` starts the process (it raises ``OSError`` when none can be started) and,
    given ``warm`` (``"module:function"``), has it call that function first (imports,
    say, while the caller has nothing to hand over yet);
    :meth:`submit` hands over ``pickle.dumps((function, args, kwargs))`` and returns its
    :class:`Job`, whose ``future`` (a :class:`concurrent.futures.Future`) gives the call's
    result (or raises its exception). A call not begun can be taken back with
    ``job.future.cancel()``; should the worker die, the call it
    was running fails with :class:`WorkerLost` and those not begun are cancelled (the
    caller runs them), and :meth:`submit` raises ``RuntimeError`` from then on.
    :meth:`close` waits for the calls handed over, then for the process to end. ``jobs``
    lists every call with its times.

    Examples
    --------
    >>> import operator, pickle
    >>> w = Worker()
    >>> w.submit(pickle.dumps((operator.add, (2, 3), {}))).future.result()
    5
    >>> w.close()
    """

    def __init__(self, warm: str | None = None) -> None:
        import subprocess
        import sys

        self.jobs: list[Job] = []
        self._lanes: tuple[deque[Job], ...] = (deque(), deque(), deque())  # not begun
        self._ready = threading.Condition()
        self._closing = False
        self.lost = False
        self._keys: list[int] = []  # the objects shared
        self._warned: set[tuple] = set()  # the calls' warnings raised here, each once
        if getattr(sys, "frozen", False):  # a frozen app has no interpreter to start
            raise OSError("no Python interpreter to start a worker with")
        self.process = subprocess.Popen(
            [_executable(), *_interpreter_flags(), "-c", _BOOT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._feeder = threading.Thread(target=self._feed, name="impactzones-worker", daemon=True)
        self._feeder.start()
        self.warm = warm
        if warm:
            self.submit(pickle.dumps((_call_named, (warm,), {}), protocol=_PROTOCOL), "warm-up")

    def submit(self, blob: bytes, name: str = "", *, lane: int = 1) -> Job:
        """Hand over a pickled ``(function, args, kwargs)``. The worker takes the calls of
        ``lane`` 0 first (results the caller will soon wait for), then those of lane 1
        (the default), then lane 2 (calls the caller would rather take back), each lane
        in the order handed over."""
        job = Job(Future(), blob, name)
        with self._ready:
            if self.lost or self._closing:
                raise RuntimeError("the worker process has ended")
            self._lanes[lane].append(job)
            self.jobs.append(job)
            self._ready.notify()
        return job

    def queued(self) -> list[Job]:
        """The calls not begun, in the order the worker will take them (a snapshot)."""
        with self._ready:
            return [j for j in self._queue() if not j.future.done()]

    def _queue(self) -> list[Job]:
        return [job for lane in self._lanes for job in lane]

    def share(self, obj) -> tuple[Shared, Job]:
        """Send ``obj`` to the worker once, for many calls: returns the :class:`Shared`
        that stands in for it in their arguments, and the job that sends it. A
        GeoDataFrame of points travels as coordinates (fast to pickle). ``obj`` must not
        change afterwards: a call run here reads it as it is, the worker its copy."""
        key = next(_KEYS)
        _HELD[key] = obj
        self._keys.append(key)
        blob = pickle.dumps((_hold, (key, _pack(obj)), {}), protocol=_PROTOCOL)
        return Shared(key), self.submit(blob, "share")

    def close(self, cancel: bool = False, wait: bool = True) -> None:
        """Let the worker finish the calls handed over (``cancel``: only the one it is
        running), then end it and wait for it to exit (``wait=False``: not for its exit,
        which takes a few tenths of a second to give back its memory; it is waited for
        when this program exits, or by :func:`wait_for_workers`)."""
        with self._ready:
            self._closing = True
            if cancel:
                for job in self._queue():
                    job.future.cancel()
            self._ready.notify()
        self._feeder.join()
        for key in self._keys:
            _HELD.pop(key, None)
        if wait:
            self.process.wait()
        else:
            import atexit

            _EXITING.append(self.process)
            atexit.unregister(wait_for_workers)  # registered once, however many runs
            atexit.register(wait_for_workers)

    def kill(self) -> None:
        """End the worker now, whatever it is running (for a worker that was never used:
        a call cut short may leave a temporary file behind)."""
        with self._ready:
            self._closing = True
            self._ready.notify()
        if self.process.poll() is None:
            self.process.kill()
        self._feeder.join()
        self.process.wait()

    def _next(self) -> Job | None:
        """The next call not taken back (waiting for one), or None once closing."""
        with self._ready:
            while True:
                for lane in self._lanes:
                    while lane:
                        job = lane.popleft()
                        if job.future.set_running_or_notify_cancel():
                            return job
                if self._closing:
                    return None
                self._ready.wait()

    def _feed(self) -> None:
        """The caller's thread that feeds the worker: the first message is ``sys.path``,
        then one call at a time, each answer awaited before the next call is sent."""
        import sys

        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        job = None
        try:
            _send(stdin, pickle.dumps(list(sys.path), protocol=_PROTOCOL))
            while (job := self._next()) is not None:
                job.where, job.begun = "worker", time.perf_counter()
                _send(stdin, job.blob)
                _answer(job, _receive(stdout), self._warned)
            stdin.close()  # the worker's end of input: it exits
        except (OSError, EOFError, ValueError, struct.error):
            self._lose(job)

    def _lose(self, job: Job | None) -> None:
        """The worker is gone: the call it ran fails with WorkerLost, the rest are the
        caller's to run."""
        with self._ready:
            self.lost = True
            for waiting in self._queue():
                waiting.future.cancel()
            for lane in self._lanes:
                lane.clear()
        if job is not None and not job.future.done():
            job.future.set_exception(WorkerLost("the worker process ended while running it"))
        if self.process.poll() is None:  # alive but unreadable: end it
            self.process.kill()


#: a worker started ahead of need (:func:`prestart`), for the next :func:`take_worker`
_SPARE: list[Worker] = []
#: workers' processes closed without waiting for their exit (``Worker.close(wait=False)``)
_EXITING: list = []


def wait_for_workers() -> None:
    """Wait for the exit of every worker closed without waiting for it (so that their
    CPU time counts among this process's children's); also run when the program exits.

    Examples
    --------
    >>> w = Worker()
    >>> w.close(wait=False)
    >>> wait_for_workers()
    >>> w.process.returncode
    0
    """
    while _EXITING:
        _EXITING.pop().wait()


def prestart(warm: str | None = None) -> None:
    """Start a worker now, calling ``warm`` (``"module:function"``) first, for the next
    :func:`take_worker` to take: a command calls this before its own heavy imports, so the
    worker's imports run beside them. A worker never taken is ended when the program exits.
    Does nothing where no worker can start, or when one is already waiting.

    Examples
    --------
    >>> prestart("os:getpid")
    >>> w = take_worker("os:getpid")  # the one started above: its first call, its pid
    >>> w.jobs[0].name, w.jobs[0].future.result() == w.process.pid
    ('warm-up', True)
    >>> w.close()
    """
    import atexit

    if _SPARE:
        return
    try:
        _SPARE.append(Worker(warm))
    except OSError:
        return
    atexit.unregister(end_spares)  # registered once, however many runs
    atexit.register(end_spares)


def take_worker(warm: str | None = None) -> Worker:
    """The worker :func:`prestart` started with the same ``warm`` (when alive), else a
    new :class:`Worker` (``OSError`` when none can be started). A waiting worker started
    with another ``warm`` is ended.

    Examples
    --------
    >>> import operator, pickle
    >>> w = take_worker()
    >>> w.submit(pickle.dumps((operator.neg, (5,), {}))).future.result()
    -5
    >>> w.close()
    """
    while _SPARE:
        worker = _SPARE.pop()
        if worker.warm == warm and not worker.lost and worker.process.poll() is None:
            return worker
        worker.kill()
    return Worker(warm)


def end_spares() -> None:
    """End any worker :func:`prestart` started that was not taken (a run that draws in
    turn after all).

    Examples
    --------
    >>> prestart()
    >>> end_spares()
    >>> _SPARE
    []
    """
    while _SPARE:
        _SPARE.pop().kill()


def _call_named(name: str):
    """Call the function ``"module:function"`` names (the worker's warm-up)."""
    from importlib import import_module

    module, function = name.split(":")
    return getattr(import_module(module), function)()


def _answer(job: Job, message: bytes, warned_before: set | None = None) -> None:
    """Set a job's future from the worker's answer ``(ok, value, cpu seconds,
    warnings)``, its warnings raised here first (those not in ``warned_before``, which
    they join)."""
    import warnings

    job.done = time.perf_counter()
    try:
        ok, value, job.cpu, warned = pickle.loads(message)
    except Exception as exc:  # e.g. an exception that does not unpickle
        job.future.set_exception(exc)
        return
    for text, category in warned:  # shown here, as the caller shows its own warnings
        if warned_before is not None:  # once a worker, whatever the caller's filters
            if (text, category) in warned_before:
                continue
            warned_before.add((text, category))
        try:
            warnings.warn(text, category, stacklevel=2)
        except Exception:  # warnings made errors: the call's result still counts
            pass
    if ok:
        job.future.set_result(value)
    else:
        job.future.set_exception(value)


def _send(stream, data: bytes) -> None:
    stream.write(_HEAD.pack(len(data)))
    stream.write(data)
    stream.flush()


def _receive(stream) -> bytes:
    head = stream.read(_HEAD.size)
    if len(head) < _HEAD.size:
        raise EOFError("the worker process ended")
    (n,) = _HEAD.unpack(head)
    data = stream.read(n)
    if len(data) < n:
        raise EOFError("the worker process ended")
    return data


def serve() -> None:
    """The worker's side (run by the worker process, not called by users): run each call
    read from standard input, in turn, and write ``(ok, value, cpu seconds)`` back on the
    original standard output (anything the calls print goes to standard error), until the
    input ends; then exit at once (``os._exit``: no teardown).

    Examples
    --------
    >>> import operator, pickle
    >>> w = Worker()  # its process runs serve()
    >>> w.submit(pickle.dumps((operator.mul, (6, 7), {}))).future.result()
    42
    >>> w.close()
    """
    import os
    import signal
    import sys

    from .collect import fewer_collections

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle
    calls = sys.stdin.buffer
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # printed text never mixes in
    sys.stdout = sys.stderr
    with fewer_collections():  # imports and pictures: many objects, few garbage cycles
        while True:
            try:
                blob = _receive(calls)
            except EOFError:
                break
            _send(answers, _run(blob))
    # every file written is complete (atomic) and every answer sent: end at once, without
    # the interpreter's teardown of its modules (most of a second, which the caller waits)
    sys.stderr.flush()
    os._exit(0)


def _run(blob: bytes) -> bytes:
    """One call, run: its pickled answer ``(ok, value, cpu seconds, warnings)``; the
    warnings it raised (each text and category once) go back to the caller, which
    shows them its own way (the CLI's one line), not printed here with source lines."""
    import warnings

    cpu = time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fn, args, kwargs = pickle.loads(blob)
            answer: tuple[bool, Any] = (True, fn(*args, **kwargs))
        except Exception as exc:
            answer = (False, exc)
    cpu = time.process_time() - cpu
    warned = list(dict.fromkeys((str(w.message), _sendable(w.category)) for w in caught))
    try:
        return pickle.dumps((*answer, cpu, warned), protocol=_PROTOCOL)
    except Exception as exc:  # a result or an error that does not pickle
        error = RuntimeError(f"the worker's answer could not be sent back: {exc!r}")
        return pickle.dumps((False, error, cpu, warned), protocol=_PROTOCOL)


def _sendable(category: type[Warning]) -> type[Warning]:
    """A warning's category if it pickles (it names an importable class), else
    UserWarning."""
    try:
        pickle.dumps(category, protocol=_PROTOCOL)
    except Exception:
        return UserWarning
    return category


def _executable() -> str:
    """The interpreter multiprocessing would start (``set_executable`` honoured)."""
    import sys

    try:
        from multiprocessing import spawn

        return spawn.get_executable() or sys.executable
    except (ImportError, AttributeError):
        return sys.executable


def _interpreter_flags() -> list[str]:
    """This interpreter's ``-X`` / ``-W`` / ``-O``... options, as multiprocessing passes
    them to its children (``-X importtime`` reaches the worker too)."""
    import subprocess

    flags = getattr(subprocess, "_args_from_interpreter_flags", None)
    return list(flags()) if flags else []

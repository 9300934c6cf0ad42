"""A worker process for incremental alert updates (``python -m battrace.supervision.worker``).

:class:`~battrace.supervision.incremental.AlertUpdater` starts one when an import starts, so
that loading DuckDB (and the pandas its Arrow bridge imports), turning the new events into
Arrow as they are accepted, and evaluating the rules happen on another core than the
import's, in an interpreter of its own (no lock shared with the importer's Python). The
worker reads the store through its own connection and sends back findings; the caller
reconciles them.

Protocol, over the worker's stdin and stdout: each message is an 8-byte big-endian length and
a pickle. A request is ``(function name, arguments, answer)`` naming one of the functions
below; when ``answer`` is set the worker answers ``("ok", result)`` or ``("error",
exception)``, in the order of the requests. A request that wants no answer and fails is
logged, and the chunks the worker holds are dropped (the next evaluation then reads the new
events from the store: slower, never different). The worker ends when its stdin closes. Only
the process that started it writes to it: its pickles are as trusted as any call within one
program. The caller writes from a thread of its own, so that sending never waits for a busy
worker.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import IO, Any, Final

LOGGER = logging.getLogger(__name__)
_HEADER: Final = 8


class WorkerStopped(RuntimeError):
    """The worker process is gone (it crashed, was killed, or could not read a request)."""


def _pack(message: Any) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return len(data).to_bytes(_HEADER, "big") + data


def _read(stream: IO[bytes]) -> Any | None:
    """The next message, or None at the end of the stream."""
    header = stream.read(_HEADER)
    if len(header) < _HEADER:
        return None
    size = int.from_bytes(header, "big")
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives a pickle round trip, else a RuntimeError that names it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _functions() -> dict[str, Callable[..., Any]]:
    from battrace.supervision import incremental

    return {
        "warm_up": incremental._warm_up,
        "chunk": incremental._worker_chunk,
        "states": incremental._worker_states,
        "overflow": incremental._worker_overflow,
        "findings": incremental._worker_findings,
        "ahead": incremental._worker_ahead,
    }


def main() -> None:
    """Serve requests from stdin until it closes."""
    channel_in, channel_out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stdout carries the answers: nothing else may write there
    logging.basicConfig(level=logging.WARNING, format="battrace alert worker: %(message)s")
    functions = _functions()
    while True:
        request = _read(channel_in)
        if request is None:
            break
        name, args, wanted = request
        try:
            answer: tuple[str, Any] = ("ok", functions[name](*args))
        except Exception as exc:
            if not wanted:
                LOGGER.exception("%s failed; the new events will be read from the store", name)
                functions["overflow"]()
                continue
            answer = ("error", _portable(exc))
        if wanted:
            channel_out.write(_pack(answer))
            channel_out.flush()
    # nothing to save (read connections, an in-memory DuckDB): skip the interpreter's teardown
    # of DuckDB, pandas and the rest, which the caller would wait for
    sys.stderr.flush()
    os._exit(0)


class WorkerProcess:
    """The caller's side: start the worker, post requests (written by a thread of their own,
    in order), read the answers in order."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-m", "battrace.supervision.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._failure: BaseException | None = None
        self._writer = threading.Thread(
            target=self._write_all, name="battrace-alert-worker-writer", daemon=True
        )
        self._writer.start()
        self._unanswered = 0

    def _write_all(self) -> None:
        process = self._process
        assert process is not None
        assert process.stdin is not None
        stdin = process.stdin
        while True:
            data = self._outbox.get()
            if data is None:
                break
            if self._failure is not None:
                continue  # the worker is gone: drop what was posted after
            try:
                stdin.write(data)
                stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                self._failure = exc
        with contextlib.suppress(OSError):
            stdin.close()

    def post(self, name: str, *args: Any, answer: bool = False) -> None:
        """Send a request (pickled now, written in the background); with ``answer``, a later
        :meth:`answer` reads its answer."""
        self._alive()
        if self._failure is not None:
            raise WorkerStopped(f"the alert worker has stopped ({self._status()})")
        self._outbox.put(_pack((name, args, answer)))
        if answer:
            self._unanswered += 1

    def answer(self) -> Any:
        """The answer to the oldest request not yet answered (raising what it raised)."""
        process = self._alive()
        assert process.stdout is not None
        if self._unanswered == 0:
            raise RuntimeError("no request is waiting for an answer")
        message = _read(process.stdout)
        if message is None:
            raise WorkerStopped(f"the alert worker has stopped ({self._status()})")
        self._unanswered -= 1
        status, value = message
        if status == "error":
            raise value
        return value

    def close(self) -> None:
        """Let the worker finish what it was sent and end."""
        process, self._process = self._process, None
        if process is None:
            return
        self._outbox.put(None)
        self._writer.join()
        # answers nobody will read: drained, or a large one would keep the worker writing
        while self._unanswered and process.stdout is not None:
            self._unanswered -= 1
            if _read(process.stdout) is None:
                break
        process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def kill(self) -> None:
        """End the worker at once (what it was doing is lost)."""
        process = self._process
        if process is not None:
            with contextlib.suppress(OSError):
                process.kill()
        self.close()

    def _alive(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise WorkerStopped("the alert worker is closed")
        return self._process

    def _status(self) -> str:
        process = self._process
        code = process.poll() if process is not None else None
        return "still running" if code is None else f"exit status {code}"


if __name__ == "__main__":
    main()

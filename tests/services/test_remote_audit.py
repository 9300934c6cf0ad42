"""Auditing a log over HTTP through its tiles, against a real local server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from battrace.cli import main
from battrace.errors import BattraceError
from battrace.services import log
from battrace.services.demo import load_demo
from battrace.services.remote_audit import http_fetcher, verify_remote
from battrace.store import Store, open_store


class _TileServer:
    """Serves a store's checkpoint and tiles on 127.0.0.1; ``tamper`` edits what it sends."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.tamper: dict[str, bytes] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.lstrip("/")
                try:
                    if path in server.tamper:
                        body = server.tamper[path]
                    elif path == "checkpoint":
                        body = server.store.latest_checkpoint().note.encode()  # type: ignore[union-attr]
                    else:
                        body = log.tile(server.store, path)
                except BattraceError:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[_TileServer, str, str]]:
    store = open_store(tmp_path / "remote.db")
    load_demo(store, 60, log_policy=log.CheckpointPolicy(every_leaves=200, every_seconds=3600))
    first = store.checkpoints()[0].note
    log.current_checkpoint(store)
    server = _TileServer(store)
    try:
        yield server, log.log_verifier_key(store), first
    finally:
        server.close()
        store.close()


def test_remote_log_verifies(served: tuple[_TileServer, str, str]) -> None:
    server, key, first = served
    report = verify_remote(http_fetcher(server.url), key, extra_checkpoints=[first])
    assert report.ok, report.problems
    assert report.leaves == server.store.log_size()
    assert report.checkpoints == 2


def test_tampered_tiles_are_named(served: tuple[_TileServer, str, str]) -> None:
    server, key, _ = served
    size = server.store.log_size()
    bundle_path = "tile/entries/000" if size > 256 else f"tile/entries/000.p/{size}"
    bundle = bytearray(log.tile(server.store, bundle_path))
    bundle[5] ^= 1  # one bit of one leaf
    server.tamper[bundle_path] = bytes(bundle)
    problems = verify_remote(http_fetcher(server.url), key).problems
    assert problems == ["checkpoint: root does not match the leaves the tiles serve"]


def test_wrong_key_and_unreachable_server(served: tuple[_TileServer, str, str]) -> None:
    from battrace.ledger.note import generate_signer

    server, _, _ = served
    _, other = generate_signer("someone-else")
    assert verify_remote(http_fetcher(server.url), other).problems[0].startswith("checkpoint:")
    problems = verify_remote(http_fetcher("http://127.0.0.1:9/none", timeout=2), other).problems
    assert problems[0].startswith("checkpoint: cannot reach")


def test_cli_remote(
    served: tuple[_TileServer, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    server, key, _ = served
    assert main(["verify", "--remote", server.url, "--key", key]) == 0
    assert "ok:" in capsys.readouterr().out
    assert main(["verify", "--remote", server.url]) == 1
    assert "--key" in capsys.readouterr().err

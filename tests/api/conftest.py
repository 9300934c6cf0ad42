"""An API world: the demo enterprises, regulators of two provinces and the nation, tokens for
each kind of caller, a battery made in Fujian and one shipped to a Fujian receiver."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from battrace.api import create_app
from battrace.codes import generate_credit_code
from battrace.codes.credit import credit_check_character, org_code_check_character
from battrace.config import Settings, load_settings
from battrace.services.demo import DemoFirm, demo_firms, register_demo_firms
from battrace.services.enterprises import register_enterprise
from battrace.services.reporting import report_event
from battrace.services.tokens import create_token
from battrace.store import Store, open_store
from tests.builders import code, event, produced

_serials = itertools.count(1000)


def next_serial() -> int:
    """A battery serial or enterprise number no other test uses."""
    return next(_serials)


def national_credit_code(seq: int) -> str:
    """A credit code of a central state organ: division digits 100000 (GB 32100)."""
    body = f"{seq:08d}"
    first17 = "11" + "100000" + body + org_code_check_character(body)
    return first17 + credit_check_character(first17)


@dataclass
class ApiWorld:
    client: TestClient
    store: Store
    settings: Settings
    firms: dict[str, DemoFirm]
    ids: dict[str, str] = field(default_factory=dict)  # caller name -> credit code
    tokens: dict[str, str] = field(default_factory=dict)  # caller name -> bearer token
    battery: str = ""  # made by the maker, in stock in Fujian
    shipped: str = ""  # shipped by the maker to the receiver, not yet received

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def add_enterprise(
        self, division: str = "350100", roles: tuple[str, ...] = ("repairer",)
    ) -> str:
        """A new enterprise registered directly in the store; returns its credit code."""
        credit = generate_credit_code(division, next_serial())
        register_enterprise(
            self.store,
            credit_code=credit,
            name=f"Firm {credit}",
            roles=list(roles),
            division=division,
        )
        return credit

    def token(self, enterprise_id: str) -> str:
        return create_token(self.store, enterprise_id)[1]

    def headers_of(self, enterprise_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(enterprise_id)}"}

    def new_battery_event(self) -> dict[str, Any]:
        """A ``produced`` event of a new battery by the maker."""
        return produced(self.firms["battery_maker"], [code(n=next_serial())])


def _regulator(store: Store, credit: str, division: str) -> str:
    register_enterprise(
        store,
        credit_code=credit,
        name=f"Regulator {division}",
        roles=["regulator"],
        division=division,
    )
    return credit


@contextmanager
def build_world(db: Path, settings: Settings | None = None) -> Iterator[ApiWorld]:
    """The world in a new database ``db``, with its app running (closed on leaving)."""
    store = open_store(db)
    register_demo_firms(store)
    firms: dict[str, DemoFirm] = {}
    for firm in demo_firms():
        firms.setdefault(firm.roles[0], firm)
    maker, other = (
        firms["battery_maker"],
        next(f for f in demo_firms() if f.manufacturer_code == "S2C"),
    )
    receiver = generate_credit_code("350100", 77)
    register_enterprise(
        store,
        credit_code=receiver,
        name="Fuzhou Demo Motors",
        roles=["vehicle_maker"],
        division="350100",
    )
    ids = {
        "maker": maker.credit_code,
        "receiver": receiver,
        "other": other.credit_code,
        "regulator": _regulator(
            store, generate_credit_code("350100", 901, authority="1"), "350100"
        ),
        "other_regulator": _regulator(
            store, generate_credit_code("440100", 902, authority="1"), "440100"
        ),
        "national": _regulator(store, national_credit_code(903), "110000"),
    }
    tokens = {name: create_token(store, credit)[1] for name, credit in ids.items()}
    battery, shipped = code(n=1), code(n=2)
    report_event(store, produced(maker, [battery]))
    report_event(store, produced(maker, [shipped]))
    receiver_firm = DemoFirm(receiver, "Fuzhou Demo Motors", ("vehicle_maker",), "350100")
    report_event(store, event("shipped", maker, [shipped], counterparty=receiver_firm))
    config = settings or load_settings({})
    app = create_app(str(db), config)
    with TestClient(app) as client:
        yield ApiWorld(client, store, config, firms, ids, tokens, battery, shipped)
    store.close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiWorld]:
    """A fresh world for tests that change it."""
    with build_world(tmp_path / "api.db") as world:
        yield world


@pytest.fixture(scope="module")
def shared_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiWorld]:
    """One world per test module, for tests whose writes do not disturb each other."""
    with build_world(tmp_path_factory.mktemp("api") / "api.db") as world:
        yield world


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """``app`` served by uvicorn on a free port of 127.0.0.1 in a thread; yields its URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", access_log=False, ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)

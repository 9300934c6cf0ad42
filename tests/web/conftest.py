"""A small simulated nation for the dashboard's tests, built once per session.

1,500 batteries (seed 5) through their whole life with the simulator's labelled breaches,
an alerts sweep, and a caller of every kind: the national regulator, the regulator of the
province with most open alerts and of another province, a vehicle maker with alerts about
it and another enterprise. The browser tests (marker ``browser``) drive Debian's Chromium.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from battrace.api import create_app
from battrace.codes import generate_credit_code
from battrace.config import Settings, load_settings
from battrace.services.enterprises import register_enterprise
from battrace.services.queries import list_batteries
from battrace.services.tokens import create_token
from battrace.simulate import SimConfig, ingest_simulation
from battrace.store import Store, open_store
from battrace.supervision import alerts as alert_service
from battrace.supervision.service import sweep
from tests.api.conftest import national_credit_code

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
CHROMIUM = Path("/usr/bin/chromium")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Debian's Chromium (/usr/bin/chromium) with Playwright"
    )


@dataclass
class WebWorld:
    db: Path
    settings: Settings
    ids: dict[str, str] = field(default_factory=dict)  # caller name -> credit code
    tokens: dict[str, str] = field(default_factory=dict)
    province: str = ""  # the provincial regulator's province (6 digits)
    other_province: str = ""  # another province with open alerts
    battery: str = ""  # a recycled battery with a long history
    maker_battery: str = ""  # a battery the vehicle maker is party to
    vin: str = ""  # a VIN with a battery in it
    second_life: str = ""  # a second-life product

    def store(self) -> Store:
        return open_store(self.db)

    def open_alerts(self, province: str, enterprise: str | None = None) -> list[str]:
        """Ids of the open alerts of ``province`` (about ``enterprise``), read now."""
        with self.store() as store:
            found = alert_service.list_alerts(
                store,
                status=alert_service.OPEN,
                province=province,
                enterprise=enterprise,
                limit=1000,
            )
        return [a.id for a in found]


def _build(db: Path) -> WebWorld:
    world = WebWorld(db, load_settings({}))
    with open_store(db) as store:
        ingest_simulation(store, SimConfig(batteries=1500, seed=5))
        sweep(store)
        by_province = alert_service.count_alerts(
            store, group_by="province", status=alert_service.OPEN
        )
        ranked = sorted((p for p in by_province if p != "none"), key=lambda p: -by_province[p])
        world.province, world.other_province = ranked[0], ranked[1]
        national = national_credit_code(903)
        register_enterprise(
            store,
            credit_code=national,
            name="National Regulator (test)",
            roles=["regulator"],
            division="110000",
        )
        provincial = generate_credit_code(world.province[:2] + "0100", 9901, authority="1")
        register_enterprise(
            store,
            credit_code=provincial,
            name="Provincial Regulator (test)",
            roles=["regulator"],
            division=world.province[:2] + "0100",
        )
        makers = {e.id for e in store.list_enterprises(role="vehicle_maker")}
        about = alert_service.list_alerts(store, status=alert_service.OPEN, limit=1000)
        maker = next(a.enterprise for a in about if a.enterprise in makers)
        assert maker is not None
        other = next(e.id for e in store.list_enterprises(role="recycler") if e.id != maker)
        world.ids = {
            "national": national,
            "provincial": provincial,
            "maker": maker,
            "other": other,
        }
        world.tokens = {name: create_token(store, credit)[1] for name, credit in world.ids.items()}
        recycled = list_batteries(store, state="recycled", limit=1)["items"]
        world.battery = recycled[0]["code"]
        world.maker_battery = list_batteries(store, party=maker, limit=1)["items"][0]["code"]
        rows = store._connection().query(
            "SELECT vin FROM batteries WHERE vin IS NOT NULL ORDER BY code LIMIT 1"
        )
        world.vin = str(rows[0][0])
        rows = store._connection().query(
            "SELECT code FROM batteries WHERE second_life = 1 ORDER BY code LIMIT 1"
        )
        world.second_life = str(rows[0][0]) if rows else ""
    return world


@pytest.fixture(scope="session")
def web_world(tmp_path_factory: pytest.TempPathFactory) -> WebWorld:
    """The simulated nation (built once per test session)."""
    return _build(tmp_path_factory.mktemp("web") / "web.db")


@pytest.fixture(scope="module")
def web_client(web_world: WebWorld) -> Iterator[TestClient]:
    """The application over the nation, without a login (tests log in as they need)."""
    app = create_app(str(web_world.db), web_world.settings)
    with TestClient(app) as client:
        yield client


def login(client: TestClient, world: WebWorld, who: str) -> None:
    """Log ``client`` in as caller ``who`` (its cookie jar keeps the token)."""
    client.cookies.clear()
    answer = client.post(
        "/ui/login", data={"token": world.tokens[who], "next": "/ui/"}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text

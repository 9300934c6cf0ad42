"""Where supervision runs: the store's own database, or DuckDB over a Parquet export.

Rules and figures (:mod:`.rules`, :mod:`.figures`) are written once as Ibis expressions over a
small set of *fact tables* with plain typed columns. This module builds those tables on each
engine from the stored event log:

- ``sv_ev``: one row per event, with local (UTC+08:00) day numbers and the body fields the rules
  read (VIN, the pack put in, the second-life product, recycler inputs and outputs);
- ``sv_eb``: every (battery, event) pair, as ``event_batteries`` holds them;
- ``sv_bat``: every battery with its folded state, mass and composition;
- ``sv_rej``: reports the platform refused (rule breaches caught at the door);
- small dimension tables made in Python: enterprise roles and provinces, whitelist periods, the
  Chinese working-day calendar.

Only the few expressions that decode the stored text (a JSON field, a timestamp's local day)
differ per SQL dialect; they are the ``_Dialect`` templates below. Everything a rule says is in
one place. Day numbers count days since 1970-01-01 in China Standard Time (no daylight saving),
as :func:`battrace.supervision.calendar.day_number` does.

A *scope* is the incremental path: :func:`scoped_engine` copies the events of some batteries
(and a range of new event ids) out of the store into an in-memory DuckDB, where the same rules
run over just what new events touched. The new events themselves may come from memory
(:class:`Fresh`, what the importer just wrote) instead of being read back. That path runs the
rules' cached SQL on a plain DuckDB connection: Ibis is imported only to compile.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from pathlib import Path
from typing import Any, Final

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from battrace.domain.corrections import apply_corrections
from battrace.domain.events import Material
from battrace.domain.quantities import to_aware_datetime
from battrace.errors import ValidationError
from battrace.store.base import Store
from battrace.store.rows import db_time, json_text
from battrace.supervision.calendar import day_number
from battrace.supervision.tables import (
    BODY_TYPES,
    EXPORT_TABLES,
    VIN_TYPES,
    LogTable,
    arrow_rows,
    body_vin,
)

MATERIALS: Final = tuple(m.value for m in Material)
CHINA_TIME: Final = timezone(timedelta(hours=8))
DUCKDB_MEMORY: Final = "3GB"  # the most memory a DuckDB evaluation takes before spilling


@dataclass(frozen=True, slots=True)
class _Dialect:
    name: str
    day: str  # local day number of a stored UTC timestamp text column
    text: str  # a JSON text field at a dotted path
    number: str  # a JSON number (or numeric text) field at a dotted path
    first: str  # the first element of a JSON array column
    temp: str  # CREATE ... TABLE prefix for scratch tables
    real: str  # the floating-point type's name


def _sqlite_path(path: str) -> str:
    return "$." + path


def _pg_path(path: str) -> str:
    return "{" + ",".join(path.split(".")) + "}"


_SQLITE = _Dialect(
    name="sqlite",
    day="CAST(julianday(substr({c}, 1, 19)) + 8.0 / 24 - 2440587.5 AS INTEGER)",
    # CAST everywhere: a table made by CREATE ... AS takes its column types from them
    text="CAST({c} ->> '{p}' AS TEXT)",
    number="CAST({c} ->> '{p}' AS REAL)",
    first="CAST({c} ->> '$[0]' AS TEXT)",
    temp="CREATE TEMP TABLE",
    real="REAL",
)
_POSTGRES = _Dialect(
    name="postgres",
    day="FLOOR((EXTRACT(EPOCH FROM CAST(substr({c}, 1, 19) AS TIMESTAMP)) + 28800) / 86400)"
    "::bigint",
    text="(CAST({c} AS jsonb) #>> '{p}')",
    number="CAST(CAST({c} AS jsonb) #>> '{p}' AS DOUBLE PRECISION)",
    first="(CAST({c} AS jsonb) ->> 0)",
    temp="CREATE TEMP TABLE",
    real="DOUBLE PRECISION",
)
_DUCKDB = _Dialect(
    name="duckdb",
    day="CAST(FLOOR((epoch(CAST(substr({c}, 1, 19) AS TIMESTAMP)) + 28800) / 86400) AS BIGINT)",
    text="json_extract_string({c}, '{p}')",
    number="TRY_CAST(json_extract_string({c}, '{p}') AS DOUBLE)",
    first="json_extract_string({c}, '$[0]')",
    temp="CREATE TEMP TABLE",
    real="DOUBLE",
)


def _path(dialect: _Dialect, path: str) -> str:
    return _pg_path(path) if dialect.name == "postgres" else _sqlite_path(path)


class _Sql:
    """The dialect's decoding expressions, filled in."""

    def __init__(self, dialect: _Dialect) -> None:
        self.d = dialect

    def day(self, column: str) -> str:
        return self.d.day.format(c=column)

    def text(self, column: str, path: str) -> str:
        return self.d.text.format(c=column, p=_path(self.d, path))

    def number(self, column: str, path: str) -> str:
        return self.d.number.format(c=column, p=_path(self.d, path))

    def first(self, column: str) -> str:
        return self.d.first.format(c=column)


def _when(sql: _Sql, types: tuple[str, ...], expression: str, kind: str) -> str:
    """``expression`` for events of ``types`` only (NULL otherwise): most bodies hold none of
    the fields, and decoding JSON is the costly part of building the facts."""
    listed = ", ".join(f"'{t}'" for t in types)
    return f"CAST(CASE WHEN e.type IN ({listed}) THEN {expression} END AS {kind})"


#: the scratch table of corrected events' effective fields (:meth:`Engine.build`)
_FIX: Final = "sv_fix"


def _corrected(source: str) -> str:
    """``source`` (rows of ``events``) with the effective date, place and body of the events
    corrected (``sv_fix``, :func:`battrace.domain.corrections.apply_corrections`)."""
    return (
        "(SELECT c.id AS id, c.type AS type, c.actor AS actor, c.counterparty AS counterparty,"
        " COALESCE(f.occurred_at, c.occurred_at) AS occurred_at, c.reported_at AS reported_at,"
        " COALESCE(f.place, c.place) AS place, c.batteries AS batteries,"
        f" COALESCE(f.body, c.body) AS body FROM {source} c LEFT JOIN {_FIX} f ON f.id = c.id)"
    )


def _event_select(sql: _Sql, where: str, source: str = "events", fixed: bool = False) -> str:
    """The ``sv_ev`` rows of ``source``; ``fixed``: with the corrections in ``sv_fix``
    applied (left out when nothing is corrected: the join is not free on a large log)."""
    if fixed:
        source = _corrected(source)
    real, text = sql.d.real, "TEXT" if sql.d.name != "duckdb" else "VARCHAR"
    recycled = ("recycled",)
    # a vehicle maker's 15 working days run from the conformity certificate (2018 Interim
    # Provisions): the day it names, read as local midnight
    certificate = sql.day(f"({sql.text('e.body', 'certificate_date')} || 'T00:00:00')")
    outputs = ",\n  ".join(
        f"{_when(sql, recycled, sql.number('e.body', f'outputs.{m}'), real)} AS out_{m}"
        for m in MATERIALS
    )
    return f"""SELECT e.id AS id, e.type AS type, e.actor AS actor,
  e.counterparty AS counterparty, e.place AS place,
  {sql.day("e.occurred_at")} AS occ_day,
  {sql.day("e.reported_at")} AS rep_day,
  {sql.first("e.batteries")} AS first_battery,
  {_when(sql, ("installed",), certificate, "BIGINT")} AS trigger_day,
  {_when(sql, VIN_TYPES, sql.text("e.body", "vin"), text)} AS vin,
  {_when(sql, ("replaced", "swapped"), sql.text("e.body", "new"), text)} AS new_code,
  {_when(sql, ("repurposed",), sql.text("e.body", "product"), text)} AS product,
  {_when(sql, ("repurposed",), sql.number("e.body", "spec.mass_kg"), real)} AS product_mass,
  {_when(sql, recycled, sql.number("e.body", "input_mass_kg"), real)} AS input_mass,
  {outputs}
FROM {source} e {where}"""


def _stored_time(value: str, fallback: str) -> str:
    """A corrected ``occurred_at`` in the stored form (UTC text), ``fallback`` if unreadable
    (the domain checked it on the way in)."""
    try:
        return db_time(to_aware_datetime(value))
    except (TypeError, ValueError):
        return fallback


def _seq_select(links: str, events: str) -> str:
    """Every (battery, event) pair with the event's columns: most rules walk a battery's
    events in order, so the join is made once."""
    return (
        "SELECT x.code AS code, e.id AS id, e.type AS type, e.actor AS actor,"
        " e.counterparty AS counterparty, e.occ_day AS occ_day, e.vin AS vin,"
        " e.new_code AS new_code, e.product AS product"
        f" FROM {links} x JOIN {events} e ON e.id = x.event_id"
    )


def _battery_select(sql: _Sql, where: str) -> str:
    # composition is read for what was recycled or repurposed (mass balance, recovery)
    treated = "b.state IN ('recycled', 'disposed', 'repurposed', 'dismantled')"
    comps = ",\n  ".join(
        f"CAST(CASE WHEN {treated} THEN"
        f" COALESCE({sql.number('b.spec', f'composition.{m}')}, 0) END AS {sql.d.real})"
        f" AS comp_{m}"
        for m in MATERIALS
    )
    return f"""SELECT b.code AS code, b.level AS level, b.maker AS maker, b.state AS state,
  b.holder AS holder, b.vin AS vin, b.province AS province, b.last_event AS last_event,
  b.produced_event AS produced_event,
  b.second_life AS second_life, {sql.text("b.spec", "chemistry")} AS chemistry,
  {sql.number("b.spec", "mass_kg")} AS mass_kg,
  {sql.number("b.spec", "energy_kwh")} AS energy_kwh,
  {comps}
FROM batteries b {where}"""


def _rejection_select(sql: _Sql) -> str:
    return f"""SELECT r.id AS id, r.actor AS actor, r.type AS type, r.rule AS rule,
  r.field AS field, {sql.first("r.batteries")} AS battery,
  {sql.day("r.received_at")} AS rec_day
FROM rejections r"""


_SQL_TYPES: Final = {"string": "TEXT", "int64": "BIGINT", "double": "DOUBLE PRECISION"}


@dataclass(frozen=True, slots=True)
class Scope:
    """The part of the log an incremental evaluation looks at: every event of ``batteries``
    and the events with ids ``first_id`` .. ``last_id`` (new events naming no battery)."""

    batteries: tuple[str, ...]
    first_id: int
    last_id: int


class Engine:
    """An Ibis connection holding the fact tables of one evaluation."""

    def __init__(
        self,
        con: Any,
        dialect: _Dialect,
        temp_database: str | None,
        scope: frozenset[str] | None = None,
    ) -> None:
        self.con = con
        self.sql = _Sql(dialect)
        self.dialect = dialect.name
        self._temp = temp_database
        self._tables: dict[str, Any] = {}
        # the batteries a scoped engine holds every event of (None: the whole log)
        self.scope = scope
        self._arrow: dict[str, pa.Table] = {}  # Arrow tables DuckDB reads in place
        # the ids of the new events whose facts a Stage made on this connection
        self.staged: tuple[int, int] | None = None
        # the batteries of a scope whose every event is here (new corrections touch them)
        self.rejudged: frozenset[str] = frozenset()
        self._owns = True  # closing the engine closes its connection

    # -- building -----------------------------------------------------------------------------
    def _done(self, result: Any) -> None:
        # SQLite and psycopg hand back a cursor to close; DuckDB hands back the connection
        if self.dialect != "duckdb":
            result.close()

    def _run(self, statement: str) -> None:
        self._done(self.con.raw_sql(statement))

    def _fetch(self, statement: str) -> list[tuple[Any, ...]]:
        result = self.con.raw_sql(statement)
        try:
            rows: list[tuple[Any, ...]] = list(result.fetchall())
        finally:
            self._done(result)
        return rows

    def rows(self, sql: str) -> list[dict[str, Any]]:
        """The rows of a query, as dicts by column name."""
        result = self.con.raw_sql(sql)
        try:
            names = [d[0] for d in result.description]
            return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
        finally:
            self._done(result)

    def _temp_table(self, name: str, select: str) -> None:
        self._drop(name)
        self._run(f"{self.sql.d.temp} {name} AS {select}")

    def _drop(self, name: str) -> None:
        """Drop the scratch table or view ``name`` (a stage's connection, lent to evaluation
        after evaluation, may hold either under a name)."""
        try:
            self._run(f"DROP TABLE IF EXISTS {name}")
        except Exception as exc:
            if self.dialect != "duckdb":
                raise
            import duckdb

            if not isinstance(exc, duckdb.CatalogException):  # not "it is a view"
                raise
            self._run(f"DROP VIEW IF EXISTS {name}")

    def _upload(self, name: str, table: pa.Table) -> None:
        """A scratch table holding ``table`` (small: dimensions, a scope's codes)."""
        if self.dialect == "duckdb":  # DuckDB reads the Arrow table in place: no copy
            raw = self.con.con
            if name in self._arrow:
                raw.unregister(name)
            raw.register(name, table)
            self._arrow[name] = table  # kept alive while DuckDB may read it
            return
        self._run(f"DROP TABLE IF EXISTS {name}")
        columns = ", ".join(f"{col.name} {_SQL_TYPES[str(col.type)]}" for col in table.schema)
        self._run(f"{self.sql.d.temp} {name} ({columns})")
        if not table.num_rows:
            return
        mark = "%s" if self.dialect == "postgres" else "?"
        marks = ", ".join([mark] * table.num_columns)
        rows = list(zip(*(c.to_pylist() for c in table.columns), strict=True))
        raw = self.con.con
        statement = f"INSERT INTO {name} VALUES ({marks})"
        if self.dialect == "postgres":
            with raw.cursor() as cur:
                cur.executemany(statement, rows)
        else:
            raw.executemany(statement, rows)

    def build(self, dimensions: dict[str, pa.Table]) -> None:
        """(Re)build the fact tables from the engine's log tables."""
        for name, table in dimensions.items():
            self._upload(name, table)
        self._tables.clear()
        fixes = self._fixes()
        fixed = fixes is not None
        if fixes is not None:
            self._upload(_FIX, fixes)
            if self.staged is not None:
                ids = fixes.column("id")
                first, last = self.staged
                if pc.any(pc.and_(pc.greater_equal(ids, first), pc.less_equal(ids, last))).as_py():
                    # a staged event was corrected: its staged facts are not the effective
                    # ones; all are made again from the events
                    self.staged = None
        if self.staged is not None:  # the new events' facts were made as they came
            self._staged_build(fixed)
            return
        self._temp_table("sv_ev", _event_select(self.sql, "", fixed=fixed))
        self._temp_table("sv_eb", "SELECT code, event_id FROM event_batteries")
        self._temp_table("sv_bat", _battery_select(self.sql, ""))
        # every (battery, event) pair with the event's columns: most rules walk a battery's
        # events in order, so the join is made once
        self._temp_table("sv_seq", _seq_select(self._qualified("sv_eb"), self._qualified("sv_ev")))
        self._temp_table("sv_rej", _rejection_select(self.sql))
        if self.dialect == "duckdb":
            return  # DuckDB scans and hashes; an index would only cost time to build
        for index in (
            "CREATE INDEX sv_seq_code ON sv_seq (code, occ_day, id)",
            "CREATE INDEX sv_ev_id ON sv_ev (id)",
            "CREATE INDEX sv_bat_code ON sv_bat (code)",
            "CREATE INDEX sv_bat_vin ON sv_bat (vin)",
        ):
            self._run(index)

    def _staged_build(self, fixed: bool) -> None:
        """The facts when a :class:`Stage` made those of the new events (ids ``staged``):
        the same statements over the other events, and views adding the staged rows (no copy
        of them)."""
        assert self.staged is not None
        first, last = self.staged
        outside = f"WHERE e.id < {int(first)} OR e.id > {int(last)}"
        self._temp_table("sv_ev_rest", _event_select(self.sql, outside, fixed=fixed))
        self._view("sv_ev", f"SELECT * FROM sv_ev_rest UNION ALL SELECT * FROM {_STAGED_EV}")
        self._view("sv_eb", "SELECT code, event_id FROM event_batteries")
        self._temp_table("sv_bat", _battery_select(self.sql, ""))
        older = (
            "(SELECT x.code, x.event_id FROM event_batteries x"
            f" WHERE x.event_id < {int(first)} OR x.event_id > {int(last)})"
        )
        self._temp_table("sv_seq_rest", _seq_select(older, "sv_ev_rest"))
        self._view("sv_seq", f"SELECT * FROM sv_seq_rest UNION ALL SELECT * FROM {_STAGED_SEQ}")
        self._temp_table("sv_rej", _rejection_select(self.sql))

    def _fixes(self) -> pa.Table | None:
        """The effective ``occurred_at``, ``place`` and ``body`` of every corrected event of
        the engine's log (its corrections applied in order: :mod:`battrace.domain.corrections`),
        or None when nothing is corrected. Corrections are few: they are folded here, in
        Python, and the facts join the result."""
        rows = self._fetch(
            "SELECT corrects, body FROM events WHERE corrects IS NOT NULL ORDER BY id"
        )
        if not rows:
            return None
        changes: dict[int, list[Any]] = {}
        for corrects, body in rows:
            changes.setdefault(int(corrects), []).append(orjson.loads(body))
        wanted = sorted(changes)
        columns: tuple[list[Any], ...] = ([], [], [], [])
        for start in range(0, len(wanted), _CHUNK):
            listed = ", ".join(str(i) for i in wanted[start : start + _CHUNK])  # ints only
            for event_id, occurred_at, place, body in self._fetch(
                f"SELECT id, occurred_at, place, body FROM events WHERE id IN ({listed})"
            ):
                fixed = apply_corrections(
                    str(occurred_at), place, orjson.loads(body), changes[int(event_id)]
                )
                for column, value in zip(
                    columns,
                    (
                        int(event_id),
                        _stored_time(fixed.occurred_at, str(occurred_at)),
                        fixed.place,
                        json_text(fixed.body),
                    ),
                    strict=True,
                ):
                    column.append(value)
        if not columns[0]:  # the corrected events are not in this extract
            return None
        kinds = (pa.int64(), pa.string(), pa.string(), pa.string())
        names = ("id", "occurred_at", "place", "body")
        return pa.table({n: pa.array(c, k) for n, c, k in zip(names, columns, kinds, strict=True)})

    def _view(self, name: str, select: str) -> None:
        self._drop(name)
        self._run(f"CREATE TEMP VIEW {name} AS {select}")

    def _qualified(self, name: str) -> str:
        return f"{self._temp}.{name}" if self._temp and self.dialect == "sqlite" else name

    def table(self, name: str) -> Any:
        """The Ibis table ``name`` (a fact or dimension table of this evaluation)."""
        found = self._tables.get(name)
        if found is None:
            if self._temp is not None:
                found = self.con.table(name, database=self._temp)
            else:
                found = self.con.table(name)
            self._tables[name] = found
        return found

    # -- plain reads (small) ------------------------------------------------------------------
    def enterprises(self) -> list[tuple[str, str, str]]:
        """(id, JSON roles, province) of every enterprise."""
        return [
            (str(a), str(b), str(c))
            for a, b, c in self._fetch("SELECT id, roles, province FROM enterprises")
        ]

    def whitelist(self) -> list[tuple[str, bool, date]]:
        """(enterprise, listed, effective date) of every whitelist change, in order."""
        rows = self._fetch(
            "SELECT enterprise_id, listed, effective_date FROM whitelist_changes"
            " ORDER BY enterprise_id, effective_date, id"
        )
        return [(str(e), bool(listed), date.fromisoformat(str(d)[:10])) for e, listed, d in rows]

    def data_day(self) -> int | None:
        """Local day number of the latest fact in the log (None when it is empty): the day the
        data reaches, which is "today" on a live platform and the end of a historical load."""
        rows = self._fetch("SELECT MAX(occurred_at) FROM events")
        if not rows or rows[0][0] is None:
            return None
        latest = to_aware_datetime(str(rows[0][0])).astimezone(CHINA_TIME)
        return day_number(latest.date())

    def close(self) -> None:
        if not self._owns:
            return
        disconnect = getattr(self.con, "disconnect", None)
        if disconnect is not None:
            disconnect()


def store_engine(store: Store) -> Engine:
    """An engine over the store's own database (SQLite file or PostgreSQL)."""
    if store.location == ":memory:":
        raise ValidationError(
            "db: supervision reads the database through its own connection; an in-memory"
            " SQLite database has none to share",
            field="db",
            rule="file_database",
        )
    import ibis

    if store.dialect == "sqlite":
        con = ibis.sqlite.connect(store.location)
        return Engine(con, _SQLITE, "temp")
    con = ibis.connect(store.location)
    return Engine(con, _POSTGRES, None)


PARQUET_TABLES: Final = tuple(t.name for t in EXPORT_TABLES)


def _copy(
    store: Store, table: LogTable, where: str, params: list[Any], lean: bool = False
) -> pa.Table:
    """Rows of ``table`` as Arrow; ``lean`` leaves out what no per-battery rule reads (bodies
    of events without a rule field, specs of batteries not treated, battery columns the facts
    do not use)."""
    leaner = _LEAN.get(table.name, {}) if lean else {}
    names = ", ".join(leaner.get(c, c) for c, _ in table.columns)
    rows = store._connection().query(f"SELECT {names} FROM {table.name} {where}", params)
    return arrow_rows(table, rows)


_LEAN: Final = {
    "events": {
        "body": "CASE WHEN type IN ("
        + ", ".join(f"'{t}'" for t in sorted(BODY_TYPES))
        + ") THEN body ELSE '{}' END AS body",
        "ref": "NULL AS ref",
    },
    "batteries": {
        "spec": "CASE WHEN state IN ('recycled', 'disposed', 'repurposed', 'dismantled')"
        " THEN spec ELSE '{}' END AS spec",
        # not read by the facts (_battery_select)
        **{
            c: f"NULL AS {c}"
            for c in (
                "battery_type",
                "predecessors",
                "pending_to",
                "pending_event",
                "parent",
                "place",
                "soh_percent",
            )
        },
    },
}


def _in_chunks(
    store: Store,
    table: LogTable,
    column: str,
    values: list[Any],
    extra: str = "",
    extra_params: list[Any] | None = None,
) -> list[pa.Table]:
    conn = store._connection()
    parts = []
    for start in range(0, len(values), _CHUNK):
        clause, params = conn.codes_clause(column, values[start : start + _CHUNK])
        params = [*params, *(extra_params or [])]
        parts.append(_copy(store, table, f"WHERE {clause}{extra}", params, lean=True))
    return parts or [arrow_rows(table, [])]


def _rows_of(
    store: Store,
    table: LogTable,
    codes: list[str],
    written: pa.Table | None,
    have: dict[str, int],
) -> list[pa.Table]:
    """Rows of the batteries ``codes``: from ``written`` (at ``have``) when there, the others
    read from the store."""
    if written is None:
        return _in_chunks(store, table, "code", codes)
    found = [have[c] for c in codes if c in have]
    rest = [c for c in codes if c not in have]
    parts = [written.take(found)] if found else []
    if rest or not parts:
        parts += _in_chunks(store, table, "code", rest)
    return parts


def _codes_in_chunks(store: Store, column: str, values: list[Any]) -> set[str]:
    """Codes of the batteries whose ``column`` is one of ``values``."""
    conn = store._connection()
    codes: set[str] = set()
    for start in range(0, len(values), _CHUNK):
        clause, params = conn.codes_clause(column, values[start : start + _CHUNK])
        rows = conn.query(f"SELECT code FROM batteries WHERE {clause}", params)
        codes.update(str(row[0]) for row in rows)
    return codes


#: event types the per-battery rules follow through a battery's history
_HISTORY: Final = ", ".join(
    f"'{t}'"
    for t in (
        "installed",
        "replaced",
        "swapped",
        "removed",
        "vehicle_scrapped",
        "shipped",
        "received",
        "collected",
        "repurposed",
        "recycled",
        "correction",  # what a rule reads of the events above may have been corrected
    )
)


_CHUNK: Final = 20_000


@dataclass(frozen=True, slots=True)
class Fresh:
    """The new events of a scope as they were written (an importer's sink kept them), so
    that :func:`scoped_engine` need not read them back: every event ``first_id .. last_id``
    as rows of ``events`` (``body`` lean: ``{}`` unless its type is one of
    :data:`BODY_TYPES`), their ``event_batteries`` links, the VINs their bodies name, and
    possibly the current rows of the batteries they changed (lean)."""

    events: pa.Table
    links: pa.Table
    vins: frozenset[str]
    # the stored rows (lean) of batteries these events changed, when known to be current
    batteries: pa.Table | None = None


def scoped_engine(
    store: Store, scope: Scope, fresh: Fresh | None = None, stage: Stage | None = None
) -> Engine:
    """An engine on an in-memory DuckDB holding every event of ``scope``'s batteries, of the
    packs bound to the same vehicles, and the new events ``first_id .. last_id`` (read from
    the store, or given as ``fresh``); with the enterprises, the whitelist and the refused
    reports. Reads go through the store's indexes (battery code, event id), so the cost
    follows the scope, not the log. Only the per-battery rules may run on it: JSON no such
    rule reads is left out.

    A ``stage`` that made the facts of exactly these new events (``fresh``) as they came lends
    its connection: only the facts of the rest are made then."""
    tables = {t.name: t for t in EXPORT_TABLES}
    fresh_ids = range(scope.first_id, scope.last_id + 1)
    if stage is not None and (fresh is None or stage.ids != (scope.first_id, scope.last_id)):
        raise ValueError(f"the stage holds {stage.ids}, not {scope.first_id} .. {scope.last_id}")
    if fresh is None:
        new_events = _copy(
            store,
            tables["events"],
            "WHERE id BETWEEN ? AND ?",
            [scope.first_id, scope.last_id],
            lean=True,
        )
        vins = {
            v
            for kind, body in zip(
                new_events.column("type").to_pylist(),
                new_events.column("body").to_pylist(),
                strict=True,
            )
            if (v := body_vin(kind, orjson.loads(body))) is not None
        }
    else:
        new_events = fresh.events
        ids = new_events.column("id")
        if new_events.num_rows != len(fresh_ids) or (
            len(fresh_ids)
            and (pc.min(ids).as_py() != scope.first_id or pc.max(ids).as_py() != scope.last_id)
        ):
            raise ValueError(
                f"fresh events do not cover {scope.first_id} .. {scope.last_id}"
                f" ({new_events.num_rows} rows)"
            )
        vins = set(fresh.vins)
    codes = set(scope.batteries)
    # the rows of the batteries: those the new events wrote when given, the others read
    written = fresh.batteries if fresh is not None else None
    have: dict[str, int] = {}
    if written is not None:
        have = {c: i for i, c in enumerate(written.column("code").to_pylist())}
    listed = _rows_of(store, tables["batteries"], sorted(codes), written, have)
    for part in listed:
        vins.update(v for v in part.column("vin").to_pylist() if v)
    # the packs bound to the same vehicles: their codes first, then the rows not already read
    known = set(codes)
    sharing_codes = _codes_in_chunks(store, "vin", sorted(vins))
    extra = sorted(c for c in sharing_codes if c not in known)
    sharing = _rows_of(store, tables["batteries"], extra, written, have) if extra else []
    codes.update(sharing_codes)
    batteries = pa.concat_tables([*listed, *sharing])
    # a pack listed twice (never from these queries, but cheap to be sure): keep its first row
    first: dict[str, int] = {}
    for index, code in enumerate(batteries.column("code").to_pylist()):
        first.setdefault(code, index)
    if len(first) != batteries.num_rows:
        batteries = batteries.take(sorted(first.values()))
    ordered = sorted(codes)
    if fresh is None:
        links = pa.concat_tables(_in_chunks(store, tables["event_batteries"], "code", ordered))
    else:
        # the links of the new events are known; the store holds those of older (and of any
        # later) events
        outside = " AND (event_id < ? OR event_id > ?)"
        stored = _in_chunks(
            store,
            tables["event_batteries"],
            "code",
            ordered,
            outside,
            [scope.first_id, scope.last_id],
        )
        # every code the new events link is in the scope: the sink noted them all
        if not pc.all(
            pc.is_in(fresh.links.column("code"), value_set=pa.array(ordered, pa.string()))
        ).as_py():
            raise ValueError("the new events link batteries outside the scope")
        links = pa.concat_tables([fresh.links.cast(stored[0].schema), *stored])
    # older events: those of the types a per-battery rule follows (a late report is judged on
    # the new event alone), and each battery's last event (how long it has been quiet); every
    # event of a battery a new correction touches (its late reports are judged again: the
    # corrected date may have made one late, or on time)
    rejudged = _corrected_batteries(new_events, links)
    linked = set(links.column("event_id").to_pylist())
    every: set[int] = set()
    if rejudged:
        mask = pc.is_in(links.column("code"), value_set=pa.array(sorted(rejudged), pa.string()))
        every = set(links.column("event_id").filter(mask).to_pylist())
    ids = sorted(i for i in linked if i not in fresh_ids and i not in every)
    older = _in_chunks(store, tables["events"], "id", ids, f" AND (type IN ({_HISTORY}))")
    if every:
        whole = sorted(i for i in every if i not in fresh_ids)
        older += _in_chunks(store, tables["events"], "id", whole)
    last = set(batteries.column("last_event").to_pylist())
    quiet = sorted(i for i in last if i not in fresh_ids and i is not None and i not in every)
    older += _in_chunks(store, tables["events"], "id", quiet, f" AND type NOT IN ({_HISTORY})")
    events = pa.concat_tables([new_events, *older])
    data = {
        "events": events,
        "event_batteries": links,
        "batteries": batteries,
        "enterprises": _copy(store, tables["enterprises"], "", []),
        "whitelist_changes": _copy(store, tables["whitelist_changes"], "", []),
        "rejections": _copy(store, tables["rejections"], "", []),
    }
    if stage is None:
        engine = _duckdb_engine(data, frozenset(codes))
    else:
        engine = Engine(stage.con, _DUCKDB, None, frozenset(codes))
        engine.staged, engine._owns = stage.ids, False
        for name, table in data.items():
            engine._upload(name, table)
    engine.rejudged = frozenset(rejudged)
    return engine


def _corrected_batteries(new_events: pa.Table, links: pa.Table) -> set[str]:
    """The batteries the corrections among ``new_events`` touch."""
    corrections = new_events.filter(pc.equal(new_events.column("type"), "correction"))
    if not corrections.num_rows:
        return set()
    mask = pc.is_in(links.column("event_id"), value_set=corrections.column("id"))
    return set(links.column("code").filter(mask).to_pylist())


_STAGED_EV: Final = "staged_ev"
_STAGED_SEQ: Final = "staged_seq"


class Stage:
    """The facts of new events made as they come (by a worker, while the import goes on):
    ``sv_ev`` rows and ``sv_seq`` pairs of each chunk of events, in a DuckDB connection of
    its own that :func:`scoped_engine` then lends to the evaluation, which makes only the
    facts of the other events. Chunks come in id order; ids that come again (a rolled-back
    batch) replace what they replaced."""

    def __init__(self) -> None:
        self.con = _DuckDB()
        self.con.raw_sql("SET threads = 1")
        self._sql = _Sql(_DUCKDB)
        self.ids: tuple[int, int] | None = None  # the ids staged, first and last
        self._made = False

    def add(self, first: int, last: int, events: pa.Table, links: pa.Table) -> None:
        """Stage the facts of events ``first .. last`` (rows of ``events``, lean) and of
        their ``links``; the ids from ``first`` on that were staged before are dropped."""
        raw = self.con.con
        raw.register("stage_events", events)
        raw.register("stage_links", links)
        try:
            select_ev = _event_select(self._sql, "", "stage_events")
            if not self._made:
                raw.execute(f"CREATE TEMP TABLE {_STAGED_EV} AS {select_ev} LIMIT 0")
                seq = _seq_select("stage_links", _STAGED_EV)
                raw.execute(f"CREATE TEMP TABLE {_STAGED_SEQ} AS {seq} LIMIT 0")
                self._made = True
            if self.ids is not None and first <= self.ids[1]:
                self.drop_from(first)
            raw.execute(f"INSERT INTO {_STAGED_EV} {select_ev}")
            seq = _seq_select("stage_links", f"(SELECT * FROM {_STAGED_EV} WHERE id >= {first})")
            raw.execute(f"INSERT INTO {_STAGED_SEQ} {seq}")
        finally:
            raw.unregister("stage_events")
            raw.unregister("stage_links")
        self.ids = (first if self.ids is None else self.ids[0], last)

    def drop_from(self, first: int) -> None:
        """Forget the staged ids from ``first`` on."""
        if self.ids is None:
            return
        raw = self.con.con
        raw.execute(f"DELETE FROM {_STAGED_EV} WHERE id >= {int(first)}")
        raw.execute(f"DELETE FROM {_STAGED_SEQ} WHERE id >= {int(first)}")
        self.ids = None if first <= self.ids[0] else (self.ids[0], first - 1)

    def clear(self) -> None:
        """Forget everything staged."""
        if self.ids is not None:
            self.drop_from(self.ids[0])


def blank_engine() -> Engine:
    """A scoped engine whose log tables are empty: the rules' SQL compiles on it as on any
    (a worker loads or compiles it ahead of the first evaluation)."""
    return _duckdb_engine({t.name: arrow_rows(t, []) for t in EXPORT_TABLES}, frozenset())


def _duckdb_engine(data: dict[str, pa.Table], scope: frozenset[str]) -> Engine:
    con = _DuckDB()
    # small data: one thread answers sooner than several that must be coordinated, and leaves
    # the other core to the importer
    con.raw_sql("SET threads = 1")
    engine = Engine(con, _DUCKDB, None, scope)
    for name, table in data.items():
        engine._upload(name, table)  # read in place by DuckDB
    return engine


class _DuckDB:
    """A plain in-memory DuckDB connection with what :class:`Engine` calls on an Ibis one
    (``raw_sql``, ``con``, ``disconnect``), set up as Ibis sets its own (UTC session time
    zone, no replacement scans of Python variables). Ibis is imported only when a rule must
    be compiled (``table``, ``compile``), over this same connection."""

    def __init__(self) -> None:
        import duckdb

        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET python_enable_replacements = false")
        self._ibis: Any = None

    def raw_sql(self, statement: str) -> Any:
        return self.con.execute(statement)

    def _backend(self) -> Any:
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis

    def table(self, name: str) -> Any:
        return self._backend().table(name)

    def compile(self, expression: Any) -> Any:
        return self._backend().compile(expression)

    def disconnect(self) -> None:
        self.con.close()


def parquet_engine(directory: str | Path, *, threads: int | None = None) -> Engine:
    """An engine on DuckDB (in memory) over a Parquet export made by :mod:`.export`."""
    root = Path(directory)
    missing = [t for t in PARQUET_TABLES if not (root / t).is_dir()]
    if missing:
        raise ValidationError(
            f"parquet: {root} is not a battrace Parquet export (missing {', '.join(missing)})",
            field="parquet",
            rule="export_layout",
        )
    import ibis

    con = ibis.duckdb.connect(temp_directory=tempfile.gettempdir())
    # DuckDB takes 80 % of the machine's memory by default; past this it spills to disk
    con.raw_sql(f"SET memory_limit = '{DUCKDB_MEMORY}'")
    if threads is not None:
        con.raw_sql(f"SET threads = {int(threads)}")
    for table in PARQUET_TABLES:
        pattern = str(root / table / "*.parquet").replace("'", "''")
        con.raw_sql(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{pattern}')")
    return Engine(con, _DUCKDB, None)


__all__ = [
    "BODY_TYPES",
    "MATERIALS",
    "PARQUET_TABLES",
    "Engine",
    "Fresh",
    "Scope",
    "Stage",
    "blank_engine",
    "parquet_engine",
    "scoped_engine",
    "store_engine",
]

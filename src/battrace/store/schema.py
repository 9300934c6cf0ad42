"""The relational schema, one list of migrations written once for SQLite and PostgreSQL.

Each migration is a list of statements; ``{id}`` becomes the integer key type of the
dialect, ``{serial}`` a self-numbering key and ``{blob}`` its binary type. Timestamps are
stored as fixed-width UTC text (``2024-05-01T02:00:00.000000Z``) so they sort as text and
read the same on every engine;
JSON columns hold canonical JSON text (sorted keys).
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    [
        # key/value facts about this database: schema version, log origin ...
        """CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        """CREATE TABLE enterprises (
            id TEXT PRIMARY KEY,              -- unified social credit code (GB 32100)
            name TEXT NOT NULL,
            roles TEXT NOT NULL,              -- JSON array of role names
            division TEXT NOT NULL,           -- GB/T 2260 code of the seat
            province TEXT NOT NULL,           -- GB/T 2260 province code, for filters
            manufacturer_code TEXT UNIQUE,    -- GB/T 34014 positions 1-3, makers only
            registered_at TEXT NOT NULL
        )""",
        """CREATE TABLE whitelist_changes (
            id {serial},
            enterprise_id TEXT NOT NULL REFERENCES enterprises(id),
            listed INTEGER NOT NULL,          -- 1 entered the whitelist, 0 left it
            effective_date TEXT NOT NULL,     -- ISO date from which the change holds
            batch TEXT,                       -- published batch, e.g. "2024-01 batch 5"
            note TEXT,
            recorded_at TEXT NOT NULL
        )""",
        "CREATE INDEX whitelist_changes_by_enterprise ON whitelist_changes (enterprise_id)",
        """CREATE TABLE events (
            id {id} PRIMARY KEY,              -- 1, 2, 3 ... in acceptance order (leaf index + 1)
            type TEXT NOT NULL,
            actor TEXT NOT NULL,              -- reporting enterprise
            counterparty TEXT,                -- receiver of a shipment, sender of a receipt ...
            occurred_at TEXT NOT NULL,        -- when the fact happened (as reported)
            reported_at TEXT NOT NULL,        -- when the platform accepted the report
            place TEXT,                       -- GB/T 2260 code where it happened
            ref TEXT,                         -- the reporter's own id, unique per actor
            corrects BIGINT,                  -- for a correction: the event it corrects
            batteries TEXT NOT NULL,          -- JSON array of the listed battery codes
            body TEXT NOT NULL                -- JSON of the type-specific body
        )""",
        # partial: most events carry no ref and correct nothing, and bulk import pays per index
        "CREATE UNIQUE INDEX events_actor_ref ON events (actor, ref) WHERE ref IS NOT NULL",
        "CREATE INDEX events_corrects ON events (corrects) WHERE corrects IS NOT NULL",
        # every battery an event touches (listed or named in its body), for history queries
        """CREATE TABLE event_batteries (
            code TEXT NOT NULL,
            event_id BIGINT NOT NULL,
            PRIMARY KEY (code, event_id)
        ){without_rowid}""",
        """CREATE TABLE batteries (
            code TEXT PRIMARY KEY,            -- GB/T 34014 code: the battery's identity
            level TEXT NOT NULL,              -- pack / module / cell
            battery_type TEXT NOT NULL,       -- GB/T 34014 position 5 letter
            maker TEXT NOT NULL,              -- enterprise that registered it
            spec TEXT NOT NULL,               -- JSON: chemistry, ratings, mass, composition
            second_life INTEGER NOT NULL,
            predecessors TEXT NOT NULL,       -- JSON array: originals of a second-life product
            produced_event BIGINT NOT NULL,
            -- the fold of its events, rewritten only by accepted events:
            state TEXT NOT NULL,
            holder TEXT,                      -- enterprise with custody; NULL: owner or parent
            pending_to TEXT,                  -- receiver of a shipment not yet received
            pending_event BIGINT,
            parent TEXT,                      -- unit it is assembled into
            vin TEXT,                         -- vehicle it is bound to
            place TEXT,                       -- GB/T 2260 code of its last event
            province TEXT,                    -- province of place, for filters
            soh_percent TEXT,                 -- last tested state of health
            last_event BIGINT NOT NULL
        )""",
        "CREATE INDEX batteries_holder ON batteries (holder, code)",
        "CREATE INDEX batteries_state ON batteries (state, code)",
        "CREATE INDEX batteries_maker ON batteries (maker, code)",
        "CREATE INDEX batteries_province ON batteries (province, code)",
        "CREATE INDEX batteries_pending ON batteries (pending_to) WHERE pending_to IS NOT NULL",
        "CREATE INDEX batteries_parent ON batteries (parent) WHERE parent IS NOT NULL",
        "CREATE INDEX batteries_vin ON batteries (vin) WHERE vin IS NOT NULL",
    ],
    [
        # the tamper-evident log (docs/log-format.md): one leaf per event, same transaction
        "ALTER TABLE events ADD COLUMN salt {blob}",  # secret salt of the leaf commitment
        "ALTER TABLE events ADD COLUMN leaf {blob}",  # the exact public leaf bytes
        # perfect subtree hashes of the Merkle tree from level 4 up; lower ones are rebuilt
        # from at most 16 leaves (services/log.py MIN_STORED_LEVEL)
        """CREATE TABLE log_nodes (
            level INTEGER NOT NULL,
            idx BIGINT NOT NULL,              -- covers leaves [idx * 2**level, (idx+1) * 2**level)
            hash {blob} NOT NULL,
            PRIMARY KEY (level, idx)
        ){without_rowid}""",
        """CREATE TABLE checkpoints (
            size BIGINT PRIMARY KEY,          -- tree size the checkpoint commits to
            root {blob} NOT NULL,             -- RFC 9162 root hash at that size
            note TEXT NOT NULL,               -- the signed note, exactly as served
            published_at TEXT NOT NULL
        )""",
    ],
    [
        # enterprise signing keys and the signed submissions they made (ledger/submission.py)
        """CREATE TABLE enterprise_keys (
            key_id TEXT PRIMARY KEY,          -- 16 hex of SHA-256(public key)
            enterprise_id TEXT NOT NULL REFERENCES enterprises(id),
            public_key {blob} NOT NULL,       -- 32-byte Ed25519 public key
            valid_from TEXT NOT NULL,         -- signatures accepted from this time ...
            revoked_at TEXT,                  -- ... until this one (NULL: not revoked)
            registered_at TEXT NOT NULL
        )""",
        "CREATE INDEX enterprise_keys_by_enterprise ON enterprise_keys (enterprise_id)",
        """CREATE TABLE submissions (
            key_id TEXT NOT NULL,
            nonce {blob} NOT NULL,            -- private: with it the signature can be checked
            digest {blob} NOT NULL,           -- SHA-256 over the canonical submitted events
            signature {blob} NOT NULL,
            first_event BIGINT NOT NULL,      -- the events are first_event .. + events - 1
            events INTEGER NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (key_id, nonce)       -- a nonce is accepted once per key: no replays
        )""",
        "ALTER TABLE events ADD COLUMN submitted TEXT",  # canonical JSON as signed, if signed
    ],
    [
        # HTTP API bearer tokens (docs/api.md): only a hash of each token is kept
        """CREATE TABLE api_tokens (
            token_id TEXT PRIMARY KEY,        -- 16 hex of SHA-256(token): names it in lists
            token_hash {blob} NOT NULL,       -- SHA-256(token); the token itself is never stored
            enterprise_id TEXT NOT NULL REFERENCES enterprises(id),
            label TEXT,                       -- what the token is for ("ERP connector")
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,         -- refused from this time on ...
            revoked_at TEXT                   -- ... or from this one (NULL: not revoked)
        )""",
        "CREATE INDEX api_tokens_by_enterprise ON api_tokens (enterprise_id)",
        # the first answer to each write sent with an Idempotency-Key, replayed on a retry
        """CREATE TABLE idempotency_keys (
            enterprise_id TEXT NOT NULL,      -- the caller: each enterprise has its own keys
            key TEXT NOT NULL,                -- the Idempotency-Key header as sent
            request_hash {blob} NOT NULL,     -- SHA-256 of method, path, signature and body
            status INTEGER NOT NULL,          -- HTTP status of the first answer
            response {blob} NOT NULL,         -- its JSON body, replayed byte for byte
            created_at TEXT NOT NULL,         -- forgotten after BATTRACE_API_IDEMPOTENCY_HOURS
            PRIMARY KEY (enterprise_id, key)
        )""",
    ],
    [
        # supervision (docs/supervision.md): what the rules found, as alerts with a lifecycle
        """CREATE TABLE alerts (
            id TEXT PRIMARY KEY,              -- the finding's id: 16 hex of SHA-256(identity)
            rule TEXT NOT NULL,               -- the rule that found it
            severity TEXT NOT NULL,           -- low / medium / high / critical
            status TEXT NOT NULL,             -- open / acknowledged / resolved
            battery TEXT,                     -- the battery concerned, if one
            enterprise TEXT,                  -- the enterprise concerned, if one
            province TEXT,                    -- GB/T 2260 province where it happened
            subject TEXT NOT NULL,            -- tells two breaches of one rule and party apart
            evidence TEXT NOT NULL,           -- JSON array of the ids of the events showing it
            detail TEXT NOT NULL,             -- what was found, for people
            day TEXT,                         -- ISO date it became a breach
            first_seen TEXT NOT NULL,         -- the evaluation that first found it ...
            last_seen TEXT NOT NULL,          -- ... and the latest that found it
            found INTEGER NOT NULL,           -- 1 while the latest evaluation finds it, else 0
            acknowledged_by TEXT,             -- credit code of the regulator, while acknowledged
            acknowledged_at TEXT,
            resolved_by TEXT,                 -- a regulator, or 'system' (no longer found)
            resolved_at TEXT,
            comment TEXT                      -- of the latest change of status
        )""",
        "CREATE INDEX alerts_status_rule ON alerts (status, rule)",
        "CREATE INDEX alerts_battery ON alerts (battery)",
        "CREATE INDEX alerts_enterprise ON alerts (enterprise)",
        "CREATE INDEX alerts_province ON alerts (province)",
        # every change of an alert's status, oldest first
        """CREATE TABLE alert_history (
            id {serial},
            alert_id TEXT NOT NULL,
            at TEXT NOT NULL,
            status TEXT NOT NULL,             -- the status the alert entered
            by_whom TEXT,                     -- credit code of the regulator, or 'system'
            comment TEXT
        )""",
        "CREATE INDEX alert_history_by_alert ON alert_history (alert_id)",
        # reports the platform refused for a state, custody or identity rule (not for their
        # format or signature), each in its own transaction after the batch was rolled back
        """CREATE TABLE rejections (
            id {serial},
            received_at TEXT NOT NULL,        -- when the platform refused it
            actor TEXT,                       -- the reporter it named
            type TEXT,                        -- event type
            batteries TEXT NOT NULL,          -- JSON array of the battery codes it listed
            occurred_at TEXT,                 -- when the fact happened, as reported
            rule TEXT NOT NULL,               -- the rule it broke
            field TEXT,                       -- the field at fault
            message TEXT NOT NULL,            -- the refusal, as the reporter got it
            event TEXT                        -- canonical JSON of the event as sent, if JSON
        )""",
        "CREATE INDEX rejections_by_rule ON rejections (rule)",
    ],
    [
        # a maker's batteries are the codes starting with its manufacturer code (GB/T 34014
        # positions 1-3: a battery is registered only by the maker whose code it carries, and
        # manufacturer codes are unique), a range of the primary key (Store.list_batteries):
        # this index cost every registration a write to a random page and served nothing else
        "DROP INDEX IF EXISTS batteries_maker",
    ],
    [
        # the enterprises party to each battery (actor or counterparty of one of its events),
        # in code order per enterprise: an enterprise's list of batteries is a range of this
        # key instead of a walk of every battery testing its events (Store.list_batteries;
        # 0.9 s a page for a small firm on a store of 190,000 batteries, growing with it)
        """CREATE TABLE battery_parties (
            party TEXT NOT NULL,
            code TEXT NOT NULL,
            PRIMARY KEY (party, code)
        ){without_rowid}""",
        """INSERT INTO battery_parties (party, code)
            SELECT e.actor, l.code FROM event_batteries l JOIN events e ON e.id = l.event_id
            UNION
            SELECT e.counterparty, l.code FROM event_batteries l JOIN events e
                ON e.id = l.event_id WHERE e.counterparty IS NOT NULL""",
        # the few events that touch no battery (a vehicle scrapped without its pack): its
        # parties' EPCIS queries find them here, the rest through battery_parties
        "CREATE INDEX events_batteryless_actor ON events (actor) WHERE batteries = '[]'",
        """CREATE INDEX events_batteryless_counterparty ON events (counterparty)
            WHERE batteries = '[]'""",
    ],
]

SCHEMA_VERSION = len(MIGRATIONS)

DIALECT_WORDS = {
    "sqlite": {
        "id": "INTEGER",
        "serial": "INTEGER PRIMARY KEY",
        "blob": "BLOB",
        "without_rowid": " WITHOUT ROWID",
    },
    "postgres": {
        "id": "BIGINT",
        "serial": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        "blob": "BYTEA",
        "without_rowid": "",
    },
}


def migration_statements(dialect: str, version: int) -> list[str]:
    """The statements of migration ``version`` (1-based) for ``dialect``."""
    words = DIALECT_WORDS[dialect]
    return [stmt.format(**words) for stmt in MIGRATIONS[version - 1]]

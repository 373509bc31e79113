import Foundation
import PostgresNIO

/// The PostgreSQL schema, versioned: `koerier init` applies what is missing (under an
/// advisory lock, so daemons started together cannot apply a version twice); a daemon
/// refuses a store whose schema is older or newer than it knows.
///
/// Differences from the SQLite schema, each for several writers:
/// - no maintained counts table: its few rows would serialize every enqueue of every daemon
///   (`counts` is a GROUP BY over the state index instead);
/// - partial indexes on the due states, so claims and lane walks touch only waiting rows;
/// - audit entries commit with their change to `audit_pending`, and are chained in batches
///   right after, under an advisory lock (`AuditSealer`).
enum PostgresSchema {
    struct Migration {
        let version: Int
        let name: String
        let statements: [String]
    }

    /// Keys of the transaction-scoped advisory locks (arbitrary, fixed: "koer" and a purpose).
    static let migrationLock: Int64 = 0x6B6F_6572_0001
    static let auditChainLock: Int64 = 0x6B6F_6572_0002
    /// The first key of the two-key advisory locks that serialize one lane's claims (the
    /// second is the recipient id's hash).
    static let laneLockSpace: Int32 = 0x6B6F_6572
    /// The first key of the transaction locks units of work take on a key of theirs (see
    /// `serialize(on:)`); the second is the key's hash.
    static let unitLockSpace: Int32 = 0x6B6F_6574

    static let migrations: [Migration] = [
        Migration(
            version: 1, name: "outbox, inbox, trajectories, consent, audit",
            statements: [
                """
                CREATE TABLE outbox (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    message_id text NOT NULL, recipient_id text NOT NULL, kind text NOT NULL, recipient_type text NOT NULL,
                    transaction_id text NOT NULL, urgency integer NOT NULL, state text NOT NULL, attempts integer NOT NULL DEFAULT 0,
                    next_attempt_at double precision NOT NULL, lease_owner text, lease_expires_at double precision, lease_token text,
                    last_error text, receipt_id text, client_ref text, created_at double precision NOT NULL,
                    updated_at double precision NOT NULL, key_id text NOT NULL, payload bytea NOT NULL,
                    prepared boolean NOT NULL DEFAULT false, sent_message_id text, sent_digest text,
                    UNIQUE (message_id, recipient_id))
                """,
                "CREATE INDEX outbox_due ON outbox (urgency DESC, next_attempt_at, id) WHERE state IN ('queued', 'retrying')",
                """
                CREATE INDEX outbox_lane_order ON outbox (recipient_id, urgency DESC, next_attempt_at, id)
                    WHERE state IN ('queued', 'retrying')
                """,
                "CREATE INDEX outbox_leases ON outbox (lease_expires_at) WHERE state = 'sending'",
                "CREATE INDEX outbox_lease_owner ON outbox (lease_owner) WHERE state = 'sending'",
                "CREATE INDEX outbox_state_type ON outbox (state, recipient_type)",
                "CREATE INDEX outbox_pending_age ON outbox (state, created_at)",
                "CREATE INDEX outbox_finished ON outbox (updated_at) WHERE state IN ('delivered', 'acknowledged')",
                "CREATE INDEX outbox_sent ON outbox (sent_message_id)",
                """
                CREATE TABLE inbox (
                    message_id text PRIMARY KEY, kind text NOT NULL, sender text NOT NULL, state text NOT NULL, reason text,
                    client_ref text, received_at double precision NOT NULL, updated_at double precision NOT NULL,
                    key_id text NOT NULL, payload bytea NOT NULL)
                """,
                "CREATE INDEX inbox_state ON inbox (state, received_at)",
                """
                CREATE TABLE trajectory (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, referral_message_id text NOT NULL UNIQUE,
                    transaction_id text NOT NULL, client_ref text NOT NULL, referrer_recipient_id text, current_phase text,
                    opened_at double precision NOT NULL, updated_at double precision NOT NULL,
                    closed_at double precision, closed_reason text)
                """,
                "CREATE INDEX trajectory_transaction ON trajectory (transaction_id)",
                """
                CREATE TABLE phase_letter (
                    trajectory_id bigint NOT NULL REFERENCES trajectory, phase text NOT NULL, amendment integer NOT NULL,
                    message_id text NOT NULL, created_at double precision NOT NULL, PRIMARY KEY (trajectory_id, phase, amendment))
                """,
                """
                CREATE TABLE issued_receipt (
                    message_id text PRIMARY KEY, receipt bytea NOT NULL, issued_at double precision NOT NULL)
                """,
                """
                CREATE TABLE trajectory_consent (
                    trajectory_id bigint NOT NULL REFERENCES trajectory, version integer NOT NULL, parties text NOT NULL,
                    recorded_on text NOT NULL, source text NOT NULL, recorded_at double precision NOT NULL,
                    PRIMARY KEY (trajectory_id, version))
                """,
                """
                CREATE TABLE audit (
                    sequence bigint PRIMARY KEY, at double precision NOT NULL, kind text NOT NULL, actor text NOT NULL,
                    on_behalf_of text, client_ref text, message_id text, access_point text NOT NULL, outcome text NOT NULL,
                    previous_hash text NOT NULL, hash text NOT NULL)
                """,
                "CREATE INDEX audit_message ON audit (message_id)",
                "CREATE TABLE audit_head (id integer PRIMARY KEY, count bigint NOT NULL, last_hash text NOT NULL)",
                "INSERT INTO audit_head (id, count, last_hash) VALUES (1, 0, '\(AuditChain.genesis)')",
                // Append-only at the database level too: updates and deletes of entries fail.
                """
                CREATE FUNCTION koerier_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$
                """,
                """
                CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit
                    FOR EACH STATEMENT EXECUTE FUNCTION koerier_audit_append_only()
                """,
            ]),
        Migration(
            version: 2, name: "audit entries committed with their change, chained right after",
            statements: [
                """
                CREATE TABLE audit_pending (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at double precision NOT NULL, kind text NOT NULL,
                    actor text NOT NULL, on_behalf_of text, client_ref text, message_id text, access_point text NOT NULL,
                    outcome text NOT NULL)
                """,
                // Entries wait here for the chain; only sealing removes them (no update, no truncate).
                """
                CREATE TRIGGER audit_pending_append_only BEFORE UPDATE OR TRUNCATE ON audit_pending
                    FOR EACH STATEMENT EXECUTE FUNCTION koerier_audit_append_only()
                """,
            ]),
        Migration(
            version: 3, name: "audit retention: entries up to a checkpointed anchor may leave",
            statements: [
                "CREATE TABLE audit_anchor (id integer PRIMARY KEY CHECK (id = 1), sequence bigint NOT NULL, hash text NOT NULL)",
                "INSERT INTO audit_anchor (id, sequence, hash) VALUES (1, 0, '\(AuditChain.genesis)')",
                """
                CREATE FUNCTION koerier_audit_anchor_forward() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.sequence < OLD.sequence OR (NEW.sequence = OLD.sequence AND NEW.hash <> OLD.hash) THEN
                        RAISE EXCEPTION 'the audit anchor only moves forward';
                    END IF;
                    RETURN NEW;
                END $$
                """,
                """
                CREATE TRIGGER audit_anchor_forward BEFORE UPDATE ON audit_anchor
                    FOR EACH ROW EXECUTE FUNCTION koerier_audit_anchor_forward()
                """,
                """
                CREATE TRIGGER audit_anchor_kept BEFORE DELETE OR TRUNCATE ON audit_anchor
                    FOR EACH STATEMENT EXECUTE FUNCTION koerier_audit_append_only()
                """,
                // Deletes only of entries up to the anchor; updates and truncation never.
                "DROP TRIGGER audit_append_only ON audit",
                """
                CREATE TRIGGER audit_append_only BEFORE UPDATE OR TRUNCATE ON audit
                    FOR EACH STATEMENT EXECUTE FUNCTION koerier_audit_append_only()
                """,
                """
                CREATE FUNCTION koerier_audit_trim_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF OLD.sequence > COALESCE((SELECT sequence FROM audit_anchor WHERE id = 1), 0) THEN
                        RAISE EXCEPTION 'the audit log is append-only';
                    END IF;
                    RETURN OLD;
                END $$
                """,
                """
                CREATE TRIGGER audit_trim_only BEFORE DELETE ON audit
                    FOR EACH ROW EXECUTE FUNCTION koerier_audit_trim_only()
                """,
            ]),
    ]

    static var latest: Int { migrations.map(\.version).max() ?? 0 }

    /// Applies the missing versions, each in its own transaction; returns the versions applied.
    /// Every statement waits for its answer at most `answerTimeout` (a server that stops
    /// answering mid-migration fails the open instead of holding it forever; the server's own
    /// statement_timeout and lock_timeout bound a migration that waits for another's).
    static func migrate(on connection: PostgresConnection, answerTimeout: TimeInterval) throws -> [Int] {
        let session = PostgresTransaction(connection: connection, answerTimeout: answerTimeout)
        try session.run(
            """
            CREATE TABLE IF NOT EXISTS koerier_schema (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """)
        var applied: [Int] = []
        for migration in migrations {
            try session.run("BEGIN")
            do {
                try session.run("SELECT pg_advisory_xact_lock(\(migrationLock))")
                if try session.run("SELECT 1 FROM koerier_schema WHERE version = \(migration.version)").rows.isEmpty {
                    for statement in migration.statements { try session.run(PostgresQuery(unsafeSQL: statement)) }
                    try session.run("INSERT INTO koerier_schema (version, name) VALUES (\(migration.version), \(migration.name))")
                    applied.append(migration.version)
                }
                try session.run("COMMIT")
            } catch {
                try? session.run("ROLLBACK")
                throw error
            }
        }
        return applied
    }

    /// The newest version applied, 0 for an empty database.
    static func version(on connection: PostgresConnection, answerTimeout: TimeInterval) throws -> Int {
        let session = PostgresTransaction(connection: connection, answerTimeout: answerTimeout)
        guard try session.run("SELECT to_regclass('koerier_schema') IS NOT NULL").rows.first?.decode(Bool.self) == true else { return 0 }
        return try session.run("SELECT COALESCE(MAX(version), 0) FROM koerier_schema").rows.first?.decode(Int.self) ?? 0
    }
}

/// The store's logger for postgres-nio: quiet (its messages may carry statements).
enum PostgresStoreLog {
    static let logger: Logger = {
        var logger = Logger(label: "koerier.store.postgres")
        logger.logLevel = ProcessInfo.processInfo.environment["KOERIER_PG_DEBUG"] != nil ? .trace : .critical
        return logger
    }()
}

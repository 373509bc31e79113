import Foundation
import GRDB
import KoerierModel

extension SQLiteMessageStore {
    /// One writer at a time already: a unit of work is never interleaved with another.
    public func serialize(on key: String) throws {}

    static func migrateTrajectories(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5: trajectories") { db in
            try db.create(table: "trajectory") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("referral_message_id", .text).notNull().unique()
                table.column("transaction_id", .text).notNull()
                table.column("client_ref", .text).notNull()
                table.column("referrer_recipient_id", .text)
                table.column("current_phase", .text)
                table.column("opened_at", .double).notNull()
                table.column("updated_at", .double).notNull()
            }
            try db.create(table: "phase_letter") { table in
                table.column("trajectory_id", .integer).notNull().references("trajectory")
                table.column("phase", .text).notNull()
                table.column("amendment", .integer).notNull()
                table.column("message_id", .text).notNull()
                table.column("created_at", .double).notNull()
                table.primaryKey(["trajectory_id", "phase", "amendment"])
            }
            try db.create(table: "issued_receipt") { table in
                table.column("message_id", .text).primaryKey()
                table.column("receipt", .blob).notNull()
                table.column("issued_at", .double).notNull()
            }
        }
    }

    private static func trajectory(_ row: Row) -> TrajectoryRecord {
        TrajectoryRecord(
            id: row["id"], referralMessageID: row["referral_message_id"], transactionID: row["transaction_id"],
            clientReference: row["client_ref"], referrerRecipientID: row["referrer_recipient_id"],
            currentPhase: row["current_phase"], openedAt: Date(timeIntervalSince1970: row["opened_at"]),
            updatedAt: Date(timeIntervalSince1970: row["updated_at"]),
            closedAt: (row["closed_at"] as Double?).map(Date.init(timeIntervalSince1970:)), closedReason: row["closed_reason"])
    }

    public func trajectory(transactionID: String) throws -> TrajectoryRecord? {
        try read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM trajectory WHERE transaction_id = ? ORDER BY id LIMIT 1"),
                arguments: [transactionID]
            ).map(Self.trajectory)
        }
    }

    public func closeTrajectory(_ id: Int64, reason: String, now: Date, context: AuditContext) throws {
        try write { db in
            try db.cachedStatement(
                sql: "UPDATE trajectory SET closed_at = ?, closed_reason = ?, updated_at = ? WHERE id = ? AND closed_at IS NULL"
            ).execute(arguments: [now.timeIntervalSince1970, reason, now.timeIntervalSince1970, id])
            guard db.changesCount > 0 else { return }  // closed before: nothing changed
            try AuditChain.append(
                AuditEvent(
                    kind: .phase, actor: context.actor, onBehalfOf: context.onBehalfOf, accessPoint: context.accessPoint,
                    outcome: "trajectory \(id) closed: \(reason)"),
                at: now, in: db)
        }
    }

    public func receiveReferral(
        _ message: InboundMessage, referrerRecipientID: String?, consent: ConsentGrant, transactionID: String,
        now: Date, context: AuditContext
    ) throws -> (trajectory: TrajectoryRecord, duplicate: Bool) {
        let sealed = try seal(message.payload, boundTo: message.messageID.value)
        return try write(addsData: true) { db in
            let id = message.messageID.value
            if let existing = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM trajectory WHERE referral_message_id = ?"), arguments: [id])
            {
                try AuditChain.append(
                    AuditEvent(
                        kind: .receive, actor: context.actor, clientReference: message.clientReference, messageID: id,
                        accessPoint: context.accessPoint, outcome: "duplicate"), at: now, in: db)
                return (Self.trajectory(existing), true)
            }
            let time = now.timeIntervalSince1970
            try Self.insertProcessed(message, sealed: sealed, outcome: "accepted; trajectory opened", at: now, context: context, in: db)
            try db.cachedStatement(
                sql: """
                    INSERT INTO trajectory (referral_message_id, transaction_id, client_ref, referrer_recipient_id, opened_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [id, transactionID, message.clientReference ?? "", referrerRecipientID, time, time])
            let trajectoryID = db.lastInsertedRowID
            var grant = consent
            grant.source = id
            // A trajectory just opened: its first consent version.
            try Self.insertConsent(
                grant, trajectory: trajectoryID, version: 1, clientReference: message.clientReference, at: now, context: context, in: db)
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM trajectory WHERE id = ?"), arguments: [trajectoryID])
            else {
                throw StoreError("trajectory vanished")
            }
            return (Self.trajectory(row), false)
        }
    }

    public func trajectory(_ id: Int64) throws -> TrajectoryRecord? {
        try read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM trajectory WHERE id = ?"), arguments: [id]).map(Self.trajectory)
        }
    }

    public func trajectories(limit: Int) throws -> [TrajectoryRecord] {
        try read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM trajectory ORDER BY id DESC LIMIT ?"), arguments: [limit]).map(
                Self.trajectory)
        }
    }

    public func phaseLetters(of trajectory: Int64) throws -> [PhaseLetter] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM phase_letter WHERE trajectory_id = ? ORDER BY created_at, amendment", arguments: [trajectory]
            ).map {
                PhaseLetter(
                    trajectoryID: $0["trajectory_id"], phase: $0["phase"], amendment: $0["amendment"], messageID: $0["message_id"],
                    createdAt: Date(timeIntervalSince1970: $0["created_at"]))
            }
        }
    }

    public func recordPhaseLetter(_ letter: PhaseLetter, now: Date, context: AuditContext) throws {
        try write { db in
            try db.cachedStatement(
                sql: """
                    INSERT INTO phase_letter (trajectory_id, phase, amendment, message_id, created_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT DO NOTHING
                    """
            ).execute(
                arguments: [letter.trajectoryID, letter.phase, letter.amendment, letter.messageID, letter.createdAt.timeIntervalSince1970])
            guard db.changesCount > 0 else { return }  // recorded before: nothing changed, nothing to audit
            try db.cachedStatement(sql: "UPDATE trajectory SET current_phase = ?, updated_at = ? WHERE id = ?").execute(
                arguments: [letter.phase, now.timeIntervalSince1970, letter.trajectoryID])
            try AuditChain.append(
                AuditEvent(
                    kind: .phase, actor: context.actor, onBehalfOf: context.onBehalfOf, messageID: letter.messageID,
                    accessPoint: context.accessPoint,
                    outcome: "trajectory \(letter.trajectoryID): \(letter.phase) letter recorded (amendment \(letter.amendment))"),
                at: now, in: db)
        }
    }

    public func inboundPayload(_ messageID: String, now: Date, context: AuditContext) throws -> Data {
        let (keyID, sealed) = try write { db -> (String, Data) in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT key_id, payload, client_ref FROM inbox WHERE message_id = ?", arguments: [messageID])
            else {
                throw StoreError("no inbound message \(messageID)")
            }
            try AuditChain.append(
                AuditEvent(
                    kind: .read, actor: context.actor, onBehalfOf: context.onBehalfOf, clientReference: row["client_ref"],
                    messageID: messageID, accessPoint: context.accessPoint), at: now, in: db)
            return (row["key_id"], row["payload"])
        }
        return try openPayload(sealed, keyID: keyID, boundTo: messageID, in: .inbox)
    }

    public func issuedReceipt(for messageID: String) throws -> Data? {
        try read { db in
            try Data.fetchOne(db.cachedStatement(sql: "SELECT receipt FROM issued_receipt WHERE message_id = ?"), arguments: [messageID])
        }
    }

    public func recordIssuedReceipt(_ receipt: Data, for messageID: String, now: Date) throws {
        try write(addsData: true) { db in
            try db.cachedStatement(
                sql: "INSERT INTO issued_receipt (message_id, receipt, issued_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
            ).execute(
                arguments: [messageID, receipt, now.timeIntervalSince1970])
            guard db.changesCount > 0 else { throw ReceiptAlreadyIssued(messageID: messageID) }
            try AuditChain.append(
                AuditEvent(
                    kind: .receipt, actor: "service:koerier-intake", messageID: messageID, accessPoint: "intake",
                    outcome: "receipt issued (sha256 \(ReceiptDigest.hex(receipt)))"),
                at: now, in: db)
        }
    }
}

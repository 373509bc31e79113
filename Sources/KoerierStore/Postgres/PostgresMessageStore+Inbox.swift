import Foundation
import KoerierModel
import PostgresNIO

/// The inbound queue and the receipts issued, on PostgreSQL. The message id is the
/// primary key: the same message posted to two daemons at once is stored once (the second
/// insert waits for the first to commit, then changes nothing).
extension PostgresMessageStore {
    static let inboxColumns = "message_id, kind, sender, state, reason, received_at, updated_at"

    static func inboundRecord(_ row: PostgresRow) throws -> InboundRecord {
        let cells = row.makeRandomAccess()
        guard let state = InboundState(rawValue: try cells["state"].decode(String.self)) else {
            throw StoreError("inbound message has an unknown state")
        }
        return InboundRecord(
            messageID: try cells["message_id"].decode(String.self), kind: try cells["kind"].decode(String.self),
            sender: try cells["sender"].decode(String.self), state: state, reason: try cells["reason"].decode(String?.self),
            receivedAt: Date(timeIntervalSince1970: try cells["received_at"].decode(Double.self)),
            updatedAt: Date(timeIntervalSince1970: try cells["updated_at"].decode(Double.self)))
    }

    static func receiveEvent(_ message: InboundMessage, _ context: AuditContext, outcome: String) -> AuditEvent {
        AuditEvent(
            kind: .receive, actor: context.actor, onBehalfOf: context.onBehalfOf, clientReference: message.clientReference,
            messageID: message.messageID.value, accessPoint: context.accessPoint, outcome: outcome)
    }

    /// Inserts the message in `state` unless its id is there; the stored record when inserted.
    static func insertInbound(
        _ message: InboundMessage, state: InboundState, sealed: (keyID: String, data: Data), at now: Date, in db: PostgresTransaction
    ) throws -> InboundRecord? {
        let time = now.timeIntervalSince1970
        return try db.run(
            """
            INSERT INTO inbox (message_id, kind, sender, state, client_ref, received_at, updated_at, key_id, payload)
            VALUES (\(message.messageID.value), \(message.kind.rawValue), \(message.sender), \(state.rawValue), \(message.clientReference),
                    \(time), \(time), \(sealed.keyID), \(sealed.data))
            ON CONFLICT (message_id) DO NOTHING RETURNING \(unescaped: inboxColumns)
            """
        ).rows.first.map(inboundRecord)
    }

    /// As processed, with its audit entry; true when it was inserted (not there before).
    @discardableResult
    static func insertProcessed(
        _ message: InboundMessage, sealed: (keyID: String, data: Data), outcome: String, at now: Date, context: AuditContext,
        in db: PostgresTransaction
    ) throws -> Bool {
        let inserted = try insertInbound(message, state: .processed, sealed: sealed, at: now, in: db) != nil
        db.audit(receiveEvent(message, context, outcome: inserted ? outcome : "duplicate"), at: now)
        return inserted
    }

    func receive(_ message: InboundMessage, now: Date, context: AuditContext) throws -> (record: InboundRecord, duplicate: Bool) {
        let sealed = try sealInbound(message.payload, boundTo: message.messageID.value)
        return try write { transaction in
            if let stored = try Self.insertInbound(message, state: .received, sealed: sealed, at: now, in: transaction) {
                transaction.audit(Self.receiveEvent(message, context, outcome: "ok"), at: now)
                return (stored, false)
            }
            guard
                let existing = try transaction.run(
                    "SELECT \(unescaped: Self.inboxColumns) FROM inbox WHERE message_id = \(message.messageID.value)"
                ).rows.first.map(Self.inboundRecord)
            else { throw StoreError("received message \(message.messageID.value) vanished") }
            transaction.audit(Self.receiveEvent(message, context, outcome: "duplicate"), at: now)
            return (existing, true)
        }
    }

    func receiveProcessed(_ message: InboundMessage, now: Date, context: AuditContext) throws -> Bool {
        let sealed = try sealInbound(message.payload, boundTo: message.messageID.value)
        return try write { transaction in
            try !Self.insertProcessed(message, sealed: sealed, outcome: "processed", at: now, context: context, in: transaction)
        }
    }

    func markInbound(_ messageID: String, _ state: InboundState, reason: String?, now: Date, context: AuditContext) throws -> InboundRecord
    {
        try write { transaction in
            guard
                let row = try transaction.run(
                    "SELECT \(unescaped: Self.inboxColumns), client_ref FROM inbox WHERE message_id = \(messageID) FOR UPDATE"
                ).rows.first
            else { throw StoreError("no inbound message \(messageID)") }
            let current = try Self.inboundRecord(row)
            guard current.state == .received, state != .received else {
                throw StoreError("inbound message \(messageID) is \(current.state.rawValue); it cannot become \(state.rawValue)")
            }
            guard
                let updated = try transaction.run(
                    """
                    UPDATE inbox SET state = \(state.rawValue), reason = \(reason), updated_at = \(now.timeIntervalSince1970)
                    WHERE message_id = \(messageID) RETURNING \(unescaped: Self.inboxColumns)
                    """
                ).rows.first.map(Self.inboundRecord)
            else { throw StoreError("inbound message \(messageID) vanished") }
            transaction.audit(
                AuditEvent(
                    kind: .receive, actor: context.actor, onBehalfOf: context.onBehalfOf,
                    clientReference: try row.makeRandomAccess()["client_ref"].decode(String?.self), messageID: messageID,
                    accessPoint: context.accessPoint, outcome: state.rawValue + (reason.map { ": \($0)" } ?? "")), at: now)
            return updated
        }
    }

    func inbound(state: InboundState?, limit: Int) throws -> [InboundRecord] {
        try read { transaction in
            try transaction.run(
                """
                SELECT \(unescaped: Self.inboxColumns) FROM inbox WHERE (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
                ORDER BY received_at DESC LIMIT \(limit)
                """
            ).rows.map(Self.inboundRecord)
        }
    }

    func inboundCounts() throws -> [InboundState: Int] {
        try read { transaction in
            var counts: [InboundState: Int] = [:]
            for row in try transaction.run("SELECT state, COUNT(*)::bigint FROM inbox GROUP BY state").rows {
                let (state, count) = try row.decode((String, Int64).self)
                if let state = InboundState(rawValue: state) { counts[state] = Int(count) }
            }
            return counts
        }
    }

    func inboundPayload(_ messageID: String, now: Date, context: AuditContext) throws -> Data {
        let (keyID, sealed) = try write { transaction -> (String, Data) in
            guard let row = try transaction.run("SELECT key_id, payload, client_ref FROM inbox WHERE message_id = \(messageID)").rows.first
            else { throw StoreError("no inbound message \(messageID)") }
            let (keyID, payload, clientReference) = try row.decode((String, Data, String?).self)
            transaction.audit(
                AuditEvent(
                    kind: .read, actor: context.actor, onBehalfOf: context.onBehalfOf, clientReference: clientReference,
                    messageID: messageID, accessPoint: context.accessPoint), at: now)
            return (keyID, payload)
        }
        return try openPayload(sealed, keyID: keyID, boundTo: messageID, in: .inbox)
    }

    func issuedReceipt(for messageID: String) throws -> Data? {
        try read { transaction in
            try transaction.run("SELECT receipt FROM issued_receipt WHERE message_id = \(messageID)").rows.first?.decode(Data.self)
        }
    }

    func recordIssuedReceipt(_ receipt: Data, for messageID: String, now: Date) throws {
        try write { transaction in
            let inserted = try transaction.changes(
                """
                INSERT INTO issued_receipt (message_id, receipt, issued_at) VALUES (\(messageID), \(receipt), \(now.timeIntervalSince1970))
                ON CONFLICT DO NOTHING
                """)
            guard inserted > 0 else { throw ReceiptAlreadyIssued(messageID: messageID) }
            transaction.audit(
                AuditEvent(
                    kind: .receipt, actor: "service:koerier-intake", messageID: messageID, accessPoint: "intake",
                    outcome: "receipt issued (sha256 \(ReceiptDigest.hex(receipt)))"), at: now)
        }
    }
}

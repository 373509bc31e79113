import Foundation
import KoerierModel
import PostgresNIO

/// Trajectories, phase letters and consent on PostgreSQL.
extension PostgresMessageStore {
    static let trajectoryColumns = """
        id, referral_message_id, transaction_id, client_ref, referrer_recipient_id, current_phase, opened_at, updated_at,
        closed_at, closed_reason
        """

    static func trajectory(_ row: PostgresRow) throws -> TrajectoryRecord {
        let cells = row.makeRandomAccess()
        return TrajectoryRecord(
            id: try cells["id"].decode(Int64.self), referralMessageID: try cells["referral_message_id"].decode(String.self),
            transactionID: try cells["transaction_id"].decode(String.self), clientReference: try cells["client_ref"].decode(String.self),
            referrerRecipientID: try cells["referrer_recipient_id"].decode(String?.self),
            currentPhase: try cells["current_phase"].decode(String?.self),
            openedAt: Date(timeIntervalSince1970: try cells["opened_at"].decode(Double.self)),
            updatedAt: Date(timeIntervalSince1970: try cells["updated_at"].decode(Double.self)),
            closedAt: try cells["closed_at"].decode(Double?.self).map(Date.init(timeIntervalSince1970:)),
            closedReason: try cells["closed_reason"].decode(String?.self))
    }

    /// A transaction-scoped advisory lock: released by the commit or rollback. Outside a unit
    /// of work it would be released at once, so it is refused there.
    func serialize(on key: String) throws {
        guard let open = PostgresTransaction.current else {
            throw StoreError("serialize(on:) belongs inside a unit of work (store.transaction)")
        }
        try open.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.unitLockSpace), hashtext(\(key)))")
    }

    func receiveReferral(
        _ message: InboundMessage, referrerRecipientID: String?, consent: ConsentGrant, transactionID: String,
        now: Date, context: AuditContext
    ) throws -> (trajectory: TrajectoryRecord, duplicate: Bool) {
        let sealed = try sealInbound(message.payload, boundTo: message.messageID.value)
        return try write { transaction in
            let id = message.messageID.value
            let time = now.timeIntervalSince1970
            // The unique referral id decides between two daemons receiving the same referral.
            guard
                let opened = try transaction.run(
                    """
                    INSERT INTO trajectory (referral_message_id, transaction_id, client_ref, referrer_recipient_id, opened_at, updated_at)
                    VALUES (\(id), \(transactionID), \(message.clientReference ?? ""), \(referrerRecipientID), \(time), \(time))
                    ON CONFLICT (referral_message_id) DO NOTHING RETURNING \(unescaped: Self.trajectoryColumns)
                    """
                ).rows.first.map(Self.trajectory)
            else {
                guard
                    let existing = try transaction.run(
                        "SELECT \(unescaped: Self.trajectoryColumns) FROM trajectory WHERE referral_message_id = \(id)"
                    ).rows.first.map(Self.trajectory)
                else { throw StoreError("the trajectory of referral \(id) vanished") }
                transaction.audit(
                    AuditEvent(
                        kind: .receive, actor: context.actor, clientReference: message.clientReference, messageID: id,
                        accessPoint: context.accessPoint, outcome: "duplicate"), at: now)
                return (existing, true)
            }
            try Self.insertProcessed(
                message, sealed: sealed, outcome: "accepted; trajectory opened", at: now, context: context, in: transaction)
            var grant = consent
            grant.source = id
            try Self.insertConsent(
                grant, trajectory: opened.id, version: 1, clientReference: message.clientReference, at: now, context: context,
                in: transaction)
            return (opened, false)
        }
    }

    func trajectory(_ id: Int64) throws -> TrajectoryRecord? {
        try read {
            try $0.run("SELECT \(unescaped: Self.trajectoryColumns) FROM trajectory WHERE id = \(id)").rows.first.map(Self.trajectory)
        }
    }

    func trajectory(transactionID: String) throws -> TrajectoryRecord? {
        try read {
            try $0.run(
                "SELECT \(unescaped: Self.trajectoryColumns) FROM trajectory WHERE transaction_id = \(transactionID) ORDER BY id LIMIT 1"
            ).rows.first.map(Self.trajectory)
        }
    }

    func closeTrajectory(_ id: Int64, reason: String, now: Date, context: AuditContext) throws {
        try write { transaction in
            let time = now.timeIntervalSince1970
            let changed = try transaction.changes(
                "UPDATE trajectory SET closed_at = \(time), closed_reason = \(reason), updated_at = \(time) WHERE id = \(id) AND closed_at IS NULL"
            )
            guard changed > 0 else { return }  // closed before: nothing changed
            transaction.audit(
                AuditEvent(
                    kind: .phase, actor: context.actor, onBehalfOf: context.onBehalfOf, accessPoint: context.accessPoint,
                    outcome: "trajectory \(id) closed: \(reason)"), at: now)
        }
    }

    func trajectories(limit: Int) throws -> [TrajectoryRecord] {
        try read {
            try $0.run("SELECT \(unescaped: Self.trajectoryColumns) FROM trajectory ORDER BY id DESC LIMIT \(limit)").rows.map(
                Self.trajectory)
        }
    }

    func phaseLetters(of trajectory: Int64) throws -> [PhaseLetter] {
        try read { transaction in
            try transaction.run(
                """
                SELECT trajectory_id, phase, amendment, message_id, created_at FROM phase_letter WHERE trajectory_id = \(trajectory)
                ORDER BY created_at, amendment
                """
            ).rows.map { row in
                let (trajectoryID, phase, amendment, messageID, createdAt) = try row.decode((Int64, String, Int, String, Double).self)
                return PhaseLetter(
                    trajectoryID: trajectoryID, phase: phase, amendment: amendment, messageID: messageID,
                    createdAt: Date(timeIntervalSince1970: createdAt))
            }
        }
    }

    func recordPhaseLetter(_ letter: PhaseLetter, now: Date, context: AuditContext) throws {
        try write { transaction in
            let inserted = try transaction.changes(
                """
                INSERT INTO phase_letter (trajectory_id, phase, amendment, message_id, created_at)
                VALUES (\(letter.trajectoryID), \(letter.phase), \(letter.amendment), \(letter.messageID), \(letter.createdAt.timeIntervalSince1970))
                ON CONFLICT DO NOTHING
                """)
            guard inserted > 0 else { return }  // recorded before: nothing changed, nothing to audit
            try transaction.run(
                "UPDATE trajectory SET current_phase = \(letter.phase), updated_at = \(now.timeIntervalSince1970) WHERE id = \(letter.trajectoryID)"
            )
            transaction.audit(
                AuditEvent(
                    kind: .phase, actor: context.actor, onBehalfOf: context.onBehalfOf, messageID: letter.messageID,
                    accessPoint: context.accessPoint,
                    outcome: "trajectory \(letter.trajectoryID): \(letter.phase) letter recorded (amendment \(letter.amendment))"),
                at: now)
        }
    }

    func recordConsent(_ grant: ConsentGrant, trajectory: Int64, replacing: Int, now: Date, context: AuditContext) throws -> ConsentVersion
    {
        try write { transaction in
            // The trajectory's row lock orders consent documents arriving at two daemons at once.
            guard
                let clientReference = try transaction.run("SELECT client_ref FROM trajectory WHERE id = \(trajectory) FOR UPDATE").rows
                    .first?
                    .decode(String.self)
            else { throw StoreError("no trajectory \(trajectory)") }
            let versions = try Self.consentVersions(trajectory, in: transaction)
            if let earlier = versions.first(where: { $0.grant.source == grant.source }) { return earlier }
            let inForce = versions.last?.version ?? 0
            guard inForce == replacing else { throw ConsentConflict(trajectory: trajectory, inForce: inForce, replacing: replacing) }
            return try Self.insertConsent(
                grant, trajectory: trajectory, version: inForce + 1, clientReference: clientReference, at: now, context: context,
                in: transaction)
        }
    }

    func consent(trajectory: Int64) throws -> ConsentVersion? {
        try read { try Self.consentVersions(trajectory, in: $0).last }
    }

    func consents(transactionID: String) throws -> [ConsentVersion] {
        try read { transaction in
            try transaction.run("SELECT id FROM trajectory WHERE transaction_id = \(transactionID) ORDER BY id").rows.compactMap {
                try Self.consentVersions(try $0.decode(Int64.self), in: transaction).last
            }
        }
    }

    @discardableResult
    static func insertConsent(
        _ grant: ConsentGrant, trajectory: Int64, version number: Int, clientReference: String?, at now: Date, context: AuditContext,
        in db: PostgresTransaction
    ) throws -> ConsentVersion {
        let version = ConsentVersion(trajectoryID: trajectory, version: number, grant: grant, recordedAt: now)
        let parties = grant.parties.sorted().joined(separator: ",")
        try db.run(
            """
            INSERT INTO trajectory_consent (trajectory_id, version, parties, recorded_on, source, recorded_at)
            VALUES (\(trajectory), \(number), \(parties), \(grant.recordedOn), \(grant.source), \(now.timeIntervalSince1970))
            """)
        db.audit(ConsentAudit.event(version, parties: parties, clientReference: clientReference, context: context), at: now)
        return version
    }

    static func consentVersions(_ trajectory: Int64, in db: PostgresTransaction) throws -> [ConsentVersion] {
        try db.run(
            "SELECT version, parties, recorded_on, source, recorded_at FROM trajectory_consent WHERE trajectory_id = \(trajectory) ORDER BY version"
        ).rows.map { row in
            let (version, parties, recordedOn, source, recordedAt) = try row.decode((Int, String, String, String, Double).self)
            return ConsentVersion(
                trajectoryID: trajectory, version: version,
                grant: ConsentGrant(parties: Set(parties.split(separator: ",").map(String.init)), recordedOn: recordedOn, source: source),
                recordedAt: Date(timeIntervalSince1970: recordedAt))
        }
    }
}

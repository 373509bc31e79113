import Foundation
import GRDB
import KoerierModel

/// Consent per trajectory and per named party, versioned: each source (the referral that
/// opened the trajectory, a signed consent document) adds a version; the highest is in force.
/// Earlier versions stay, so what was allowed when is never lost.
extension SQLiteMessageStore {
    static func migrateConsent(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v10: consent per trajectory") { db in
            // v4's `consent` table (per client and recipient type, replaced by any later
            // referral) is no longer read; it stays for the record. Parties are directory ids.
            try db.create(table: "trajectory_consent") { table in
                table.column("trajectory_id", .integer).notNull().references("trajectory")
                table.column("version", .integer).notNull()
                table.column("parties", .text).notNull()  // directory ids, sorted, comma-separated
                table.column("recorded_on", .text).notNull()
                table.column("source", .text).notNull()
                table.column("recorded_at", .double).notNull()
                table.primaryKey(["trajectory_id", "version"])
            }
        }
    }

    public func recordConsent(_ grant: ConsentGrant, trajectory: Int64, replacing: Int, now: Date, context: AuditContext) throws
        -> ConsentVersion
    {
        try write(addsData: true) { db in
            guard
                let clientReference = try String.fetchOne(
                    db.cachedStatement(sql: "SELECT client_ref FROM trajectory WHERE id = ?"), arguments: [trajectory])
            else {
                throw StoreError("no trajectory \(trajectory)")
            }
            let versions = try Self.consentVersions(trajectory, in: db)
            if let earlier = versions.first(where: { $0.grant.source == grant.source }) { return earlier }
            let inForce = versions.last?.version ?? 0
            guard inForce == replacing else { throw ConsentConflict(trajectory: trajectory, inForce: inForce, replacing: replacing) }
            return try Self.insertConsent(
                grant, trajectory: trajectory, version: inForce + 1, clientReference: clientReference, at: now, context: context, in: db)
        }
    }

    public func consent(trajectory: Int64) throws -> ConsentVersion? {
        try read { db in try Self.consentVersions(trajectory, in: db).last }
    }

    public func consents(transactionID: String) throws -> [ConsentVersion] {
        try read { db in
            try Int64.fetchAll(db.cachedStatement(sql: "SELECT id FROM trajectory WHERE transaction_id = ?"), arguments: [transactionID])
                .compactMap { try Self.consentVersions($0, in: db).last }
        }
    }

    /// Version `version` (the next one: the caller has read the versions), inside the
    /// caller's transaction, with its audit entry.
    @discardableResult
    static func insertConsent(
        _ grant: ConsentGrant, trajectory: Int64, version number: Int, clientReference: String?, at now: Date, context: AuditContext,
        in db: Database
    ) throws -> ConsentVersion {
        let version = ConsentVersion(trajectoryID: trajectory, version: number, grant: grant, recordedAt: now)
        let parties = grant.parties.sorted().joined(separator: ",")
        try db.cachedStatement(
            sql: """
                INSERT INTO trajectory_consent (trajectory_id, version, parties, recorded_on, source, recorded_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [trajectory, version.version, parties, grant.recordedOn, grant.source, now.timeIntervalSince1970])
        try AuditChain.append(
            ConsentAudit.event(version, parties: parties, clientReference: clientReference, context: context), at: now, in: db)
        return version
    }

    /// Every version of a trajectory's consent, oldest first.
    static func consentVersions(_ trajectory: Int64, in db: Database) throws -> [ConsentVersion] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM trajectory_consent WHERE trajectory_id = ? ORDER BY version"), arguments: [trajectory]
        ).map { row in
            let parties: String = row["parties"]
            return ConsentVersion(
                trajectoryID: trajectory, version: row["version"],
                grant: ConsentGrant(
                    parties: Set(parties.split(separator: ",").map(String.init)), recordedOn: row["recorded_on"], source: row["source"]),
                recordedAt: Date(timeIntervalSince1970: row["recorded_at"]))
        }
    }
}

/// A consent document that replaces a version no longer in force.
public struct ConsentConflict: Error, CustomStringConvertible, Sendable {
    public let trajectory: Int64
    public let inForce: Int
    public let replacing: Int

    public var description: String {
        "replaces_version: the document replaces version \(replacing) of trajectory \(trajectory), but version \(inForce) is in force"
    }
}

/// The audit entry of a new consent version, the same on every backend.
enum ConsentAudit {
    static func event(_ version: ConsentVersion, parties: String, clientReference: String?, context: AuditContext) -> AuditEvent {
        AuditEvent(
            kind: .consent, actor: context.actor, onBehalfOf: context.onBehalfOf, clientReference: clientReference,
            messageID: version.grant.source, accessPoint: context.accessPoint,
            outcome: "trajectory \(version.trajectoryID) consent version \(version.version): \(parties.isEmpty ? "no party" : parties)")
    }
}

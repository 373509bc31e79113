import ArgumentParser
import Foundation
import KoerierConfig
import KoerierDelivery
import KoerierModel
import KoerierStore

extension GlobalOptions {
    /// The configured store, opened with its payload keys (`configuration` when the caller
    /// has already loaded it).
    func openStore(_ loaded: KoerierConfiguration? = nil, migrate: Bool = false) throws -> (KoerierConfiguration, any MessageStore) {
        let configuration = try loaded ?? loadConfiguration()
        guard FileManager.default.fileExists(atPath: configuration.payloadKeyFile.path) else {
            throw CommandFailure(
                "\(configuration.payloadKeyFile.path): no payload key file; run `koerier init` first",
                exitCode: .configurationError)
        }
        do {
            let keys = try PayloadKeyRing.load(file: configuration.payloadKeyFile)
            if let file = configuration.auditKeyFile, !FileManager.default.fileExists(atPath: file.path) {
                throw CommandFailure("\(file.path): no audit key file; run `koerier init` first", exitCode: .configurationError)
            }
            let auditKey = try configuration.auditKeyFile.map(AuditKey.load)
            return (
                configuration,
                try ConfiguredStore.open(configuration, keys: keys, auditKey: auditKey, migrate: migrate)
            )
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure("\(error)", exitCode: .configurationError)
        }
    }
}

/// Who acts through the CLI, for the audit log: the OS user, on this machine.
enum CLIContext {
    static var audit: AuditContext { audit(onBehalfOf: nil) }

    static func audit(onBehalfOf: String?) -> AuditContext {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count)
        return AuditContext(
            actor: "os-user:" + NSUserName(), onBehalfOf: onBehalfOf,
            accessPoint: "cli@" + String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}

/// Runs a store operation; store failures become one clear line and exit 1.
func storeOperation<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as StoreError {
        throw CommandFailure(error.description)
    } catch let error as PayloadKeyRing.Failure {
        throw CommandFailure(error.description)
    }
}

/// `--json` for scripts; a readable table otherwise.
struct OutputFormat: ParsableArguments {
    @Flag(help: "Print JSON (for scripts) instead of a table.")
    var json = false
}

enum Table {
    static func print(_ header: [String], _ rows: [[String]]) {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        Swift.print(line(header))
        for row in rows { Swift.print(line(row)) }
    }
}

enum JSONOutput {
    static func print(_ object: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        Swift.print(String(decoding: data, as: UTF8.self))
    }
}

/// `YYYY-MM-DD` (midnight UTC) or a full timestamp with zone.
func parseMoment(_ text: String, option: String) throws -> Date {
    if let date = try? CalendarDate(parsing: text) {
        return Date(timeIntervalSince1970: Double(date.daysSinceEpoch) * 86_400)
    }
    if let timestamp = try? Timestamp(parsing: text) { return timestamp.instant }
    throw CommandFailure(
        "\(option): '\(text)' is not a date (YYYY-MM-DD) or a timestamp (2026-11-24T10:00:00+01:00)",
        exitCode: .configurationError)
}

func iso(_ date: Date) -> String { Timestamp(instant: date, timeZone: TimeZone(identifier: "UTC")!).description }

extension OutboundRecord {
    var json: [String: Any] {
        var object: [String: Any] = [
            "id": id, "message_id": messageID, "kind": kind, "recipient_id": recipientID, "recipient_type": recipientType,
            "transaction_id": transactionID, "urgency": urgency.rawValue, "state": state.rawValue, "attempts": attempts,
            "next_attempt_at": iso(nextAttemptAt), "created_at": iso(createdAt), "updated_at": iso(updatedAt), "key_id": keyID,
        ]
        object["last_error"] = lastError
        object["receipt_id"] = receiptID
        object["lease_owner"] = leaseOwner
        return object
    }
}

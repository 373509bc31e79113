import Foundation
import PostgresNIO

extension PostgresMessageStore: InstanceClaims {
    /// A session advisory lock on a connection of its own, outside the pool, kept open for
    /// the daemon's life: PostgreSQL drops it when that session ends (the process died, or
    /// the connection was lost, after which a second daemon under the name could start).
    func claimInstance(_ owner: String) throws -> InstanceClaim {
        let connection: PostgresConnection
        do {
            let settings = try location.connectionConfiguration(timeouts: timeouts)
            connection = try blockingAwait {
                try await PostgresConnection.connect(configuration: settings, id: 1, logger: PostgresStoreLog.logger)
            }
        } catch {
            throw StoreError("\(location.description): cannot claim the instance name: \(PostgresFailure.explain(error))")
        }
        let close: @Sendable () -> Void = { _ = try? blockingAwait { try await connection.close() } }
        let granted: Bool
        do {
            let session = PostgresTransaction(connection: connection, answerTimeout: answerTimeout)
            granted =
                try session.run("SELECT pg_try_advisory_lock(hashtextextended(\("koerier-instance:" + owner), 0))").rows.first?
                .decode(Bool.self) ?? false
        } catch {
            close()
            throw PostgresFailure.explain(error)
        }
        guard granted else {
            close()
            throw StoreError(
                "another Koerier daemon runs as \(owner) on this database: give each daemon its own store.instance "
                    + "(two under one name would take over each other's leases and send those letters twice)")
        }
        return InstanceClaim(release: close)
    }
}

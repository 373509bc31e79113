import Foundation
import GRDB

/// Group commit for units of work that arrive concurrently (intake answering many
/// partners at once): the first caller leads and runs every waiting unit in one write
/// transaction, each inside its own savepoint, so one flush commits them all. A unit that
/// throws is rolled back alone and its caller gets its error; a failed commit fails them all.
final class GroupedTransactions: @unchecked Sendable {
    private final class Unit {
        let work: () throws -> Void
        var failure: (any Error)?
        var finished = false
        init(_ work: @escaping () throws -> Void) { self.work = work }
    }

    private let condition = NSCondition()
    private var waiting: [Unit] = []
    private var leading = false

    /// Runs `work` inside a shared transaction opened by `write`; returns once it committed.
    func run(_ work: @escaping () throws -> Void, write: ((Database) throws -> Void) throws -> Void) throws {
        let unit = Unit(work)
        condition.lock()
        waiting.append(unit)
        while !unit.finished {
            if leading {
                condition.wait()
                continue
            }
            leading = true
            let batch = waiting
            waiting.removeAll()
            condition.unlock()
            var commitFailure: (any Error)?
            do {
                try write { db in
                    for member in batch {
                        do {
                            try db.inSavepoint {
                                try member.work()
                                return .commit
                            }
                        } catch {
                            member.failure = error
                        }
                    }
                }
            } catch {
                commitFailure = error
            }
            condition.lock()
            for member in batch {
                if let commitFailure { member.failure = commitFailure }
                member.finished = true
            }
            leading = false
            condition.broadcast()
        }
        condition.unlock()
        if let failure = unit.failure { throw failure }
    }
}

/// Retention in batches, each its own transaction, so it never holds many locks or builds one
/// huge transaction, and the daemon's writes go on in between: `batch` removes at most `size`
/// and says how many it removed; `progress` gets the total after each. Inside a caller's unit
/// of work there is one transaction only, so one batch is all.
enum Batched {
    static let size = 1000

    static func run(
        size: Int = Batched.size, insideUnitOfWork: Bool, progress: (Int) -> Void = { _ in }, _ batch: () throws -> Int
    ) rethrows -> Int {
        var total = 0
        while true {
            let removed = try batch()
            total += removed
            progress(total)
            if removed < size || insideUnitOfWork { return total }
        }
    }
}

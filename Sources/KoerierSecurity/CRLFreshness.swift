import Foundation

/// Whether a CRL file still vouches for anything. `doctor`, `status`, the status page and
/// the daemon's watch judge it by this one rule: fresh until its nextUpdate, stale from then.
public enum CRLFreshness: Sendable, Equatable {
    /// The file holds no CRL that can be read.
    case unreadable
    /// Past its nextUpdate: it no longer says which certificates are revoked now.
    case stale(nextUpdate: Date)
    case fresh(nextUpdate: Date)

    public init(nextUpdate: Date?, now: Date) {
        guard let nextUpdate else {
            self = .unreadable
            return
        }
        self = nextUpdate > now ? .fresh(nextUpdate: nextUpdate) : .stale(nextUpdate: nextUpdate)
    }

    /// The file's CRLs read now (the earliest nextUpdate of them counts).
    public static func of(file: URL, now: Date) -> CRLFreshness {
        CRLFreshness(nextUpdate: TrustStore.crlNextUpdate(file: file), now: now)
    }

    public var isFresh: Bool {
        if case .fresh = self { return true }
        return false
    }

    public var nextUpdate: Date? {
        switch self {
        case .unreadable: return nil
        case .stale(let next), .fresh(let next): return next
        }
    }
}

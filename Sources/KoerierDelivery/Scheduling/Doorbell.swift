import Foundation

/// Lets another process on this machine (the CLI after `enqueue` or a phase completion)
/// wake the running daemon's scheduler at once: a Unix datagram socket beside the store,
/// owner-only. A ring carries no data; a lost ring only means the scheduler's own timer
/// (at most a second) finds the letter instead.
public final class Doorbell: @unchecked Sendable {
    private let descriptor: Int32
    private let path: String

    /// `<store>.wake`, when it fits a socket address (108 bytes on Linux).
    public static func path(forStore storePath: String) -> String? {
        let path = storePath + ".wake"
        return path.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) ? path : nil
    }

    /// Binds the doorbell and calls `ring` on its own thread for every ring.
    public init?(storePath: String, ring: @escaping @Sendable () -> Void) {
        guard let path = Self.path(forStore: storePath) else { return nil }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        unlink(path)
        let previous = umask(0o177)
        let bound = Self.withAddress(path) { bind(descriptor, $0, $1) } == 0
        umask(previous)
        guard bound else {
            close(descriptor)
            return nil
        }
        self.descriptor = descriptor
        self.path = path
        let thread = Thread {
            var byte: UInt8 = 0
            while recv(descriptor, &byte, 1, 0) >= 0 { ring() }
        }
        thread.name = "koerier-doorbell"
        thread.start()
    }

    deinit {
        unlink(path)
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
    }

    /// Rings the daemon of this store, if one listens; never fails the caller.
    public static func ring(storePath: String) {
        guard let path = path(forStore: storePath) else { return }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var byte: UInt8 = 1
        _ = withAddress(path) { sendto(descriptor, &byte, 1, Int32(MSG_DONTWAIT), $0, $1) }
    }

    private static func withAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            let bytes = Array(path.utf8.prefix(buffer.count - 1))
            buffer.copyBytes(from: bytes + [0])
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}

import Foundation

/// Loopback sockets the tests hold open themselves, with the port the kernel chose (never
/// a port picked, released and hoped for).
public final class LoopbackSocket: @unchecked Sendable {
    public let descriptor: Int32
    public let port: Int

    /// Binds 127.0.0.1:0. With `listen`, connections are accepted by the kernel's backlog
    /// and never answered (a hung partner); without it, connecting is refused (a partner
    /// that is down), and no other program can take the port while this socket lives.
    public init(listen: Bool) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else {
            close(descriptor)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EADDRINUSE)
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        if listen { Glibc.listen(descriptor, 128) }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// A partner that accepts each connection and then says nothing, ever.
    public static func hungPartner() throws -> LoopbackSocket {
        let socket = try LoopbackSocket(listen: true)
        let descriptor = socket.descriptor
        let thread = Thread {
            var held: [Int32] = []
            while true {
                let client = accept(descriptor, nil, nil)
                if client < 0 { break }
                held.append(client)
            }
            for client in held { close(client) }
        }
        thread.start()  // ends when deinit shuts the socket down
        return socket
    }

    deinit {
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
    }
}

/// The TCP ports a process listens on, read from /proc (for peers that do not say).
public enum ListeningPorts {
    public static func of(pid: Int32) -> [Int] {
        let fdFolder = "/proc/\(pid)/fd"
        let links = (try? FileManager.default.contentsOfDirectory(atPath: fdFolder)) ?? []
        let inodes = Set(
            links.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fdFolder)/\($0)") }
                .filter { $0.hasPrefix("socket:[") }.map { String($0.dropFirst(8).dropLast()) })
        var ports: [Int] = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let text = (try? String(contentsOfFile: table, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; field 9 is the inode.
                guard fields.count > 9, fields[3] == "0A", inodes.contains(String(fields[9])),
                    let port = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) })
                else { continue }
                ports.append(port)
            }
        }
        return ports
    }
}

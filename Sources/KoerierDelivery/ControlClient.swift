import CCurl
import Foundation

/// The CLI's side of a running daemon's control socket: one JSON POST over the Unix domain
/// socket, through libcurl. The daemon learns who is calling from the kernel, so the audit
/// log names the person, not only the daemon's user.
public struct ControlClient: Sendable {
    public let socket: URL
    public let onBehalfOf: String?
    /// The daemon's user (the store's owner): a socket anyone else made is not the daemon's,
    /// and gets no phase report.
    public let daemonUser: uid_t

    public init(socket: URL, onBehalfOf: String?, daemonUser: uid_t) {
        self.socket = socket
        self.onBehalfOf = onBehalfOf
        self.daemonUser = daemonUser
    }

    public enum Outcome {
        /// The daemon answered: its status and JSON object.
        case answered(status: Int, body: [String: Any]?)
        /// Nobody listens there (no daemon running): the caller works on the store itself.
        case noDaemon
    }

    public func post(_ path: String, json: [String: Any] = [:]) throws -> Outcome {
        // No socket there: no daemon. A socket someone else made is not the daemon's.
        var status = stat()
        guard lstat(socket.path, &status) == 0, status.st_mode & S_IFMT == S_IFSOCK else { return .noDaemon }
        guard status.st_uid == daemonUser else {
            throw ControlFailure("\(socket.path): the socket belongs to uid \(status.st_uid), not to the daemon's user (uid \(daemonUser))")
        }
        let curl = try CurlHandle(
            url: "http://localhost\(path)", protocols: "http", anchors: URL(fileURLWithPath: "/dev/null"), connectTimeout: 5,
            totalTimeout: 120)
        try curl.set(CURLOPT_UNIX_SOCKET_PATH, socket.path)
        let body = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
        try curl.set(CURLOPT_POSTFIELDSIZE_LARGE, size: body.utf8.count)
        try curl.set(CURLOPT_COPYPOSTFIELDS, body)
        try curl.set(CURLOPT_HTTPHEADER, list: ["Content-Type: application/json"] + (onBehalfOf.map { ["On-Behalf-Of: \($0)"] } ?? []))
        let answer = ResponseBuffer(limit: 1 << 20)
        try curl.set(CURLOPT_WRITEFUNCTION, callback: ResponseBuffer.write)
        try curl.set(CURLOPT_WRITEDATA, pointer: Unmanaged.passUnretained(answer).toOpaque())
        let (code, message) = withExtendedLifetime(answer) { curl.perform() }
        // A socket left by a daemon that was killed: nobody accepts, and the store is free.
        if code == CURLE_COULDNT_CONNECT { return .noDaemon }
        guard code == CURLE_OK else { throw ControlFailure("\(socket.path): \(message)") }
        return .answered(status: curl.responseCode, body: (try? JSONSerialization.jsonObject(with: answer.data)) as? [String: Any])
    }
}

public struct ControlFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

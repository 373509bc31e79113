import CCurl
import Foundation

/// Hands a complete mail to a relay over SMTP with STARTTLS required (`CURLUSESSL_ALL`:
/// no TLS, no mail), the relay verified against configured anchors. Sessions are kept per
/// relay and mailbox (`CurlHandlePool`), so several mails share one connection.
public final class SMTPTransport: Sendable {
    let timeouts: TransportTimeouts
    let mailFrom: String
    private let handles = CurlHandlePool()

    public init(mailFrom: String, timeouts: TransportTimeouts) {
        self.mailFrom = mailFrom
        self.timeouts = timeouts
    }

    public func send(_ mail: Data, to target: SMTPTarget) -> TransportOutcome {
        do {
            // Everything a handle was configured with: two entries that share a relay but not
            // credentials or anchors never share a session.
            let key = [
                "\(target.relayHost):\(target.relayPort)", target.mailbox, target.username ?? "", target.passwordFile?.path ?? "",
                target.relayAnchors.path,
            ].joined(separator: "|")
            return try handles.with(
                key, make: { try handle(for: target) },
                transfer: { curl in
                    let source = UploadSource(mail)
                    try curl.set(CURLOPT_INFILESIZE_LARGE, size: mail.count)
                    try curl.set(CURLOPT_READDATA, pointer: Unmanaged.passUnretained(source).toOpaque())
                    let result = withExtendedLifetime(source) { curl.perform() }
                    let status = curl.responseCode
                    if result.code == CURLE_OK { return .answered(status: status == 0 ? 250 : status, body: Data(), retryAfter: nil) }
                    // Only a refusal (4xx/5xx) is the relay's answer; a failure after a 2xx/3xx
                    // reply (e.g. no STARTTLS on offer) is ours, and the mail did not go.
                    guard status >= 400 else { return .noAnswer(reason: "SMTP: \(result.message)") }
                    return .answered(status: status, body: Data("SMTP \(status): \(result.message)".utf8), retryAfter: nil)
                })
        } catch let failure as SMTPSetupFailure {
            return .noAnswer(reason: failure.description)
        } catch {
            return .noAnswer(reason: "\(error)")
        }
    }

    /// A handle that reaches the relay as every mail does: STARTTLS required, the relay
    /// verified against its anchors (also for `PartnerProbe`).
    static func connection(to target: SMTPTarget, timeouts: TransportTimeouts) throws -> CurlHandle {
        let curl = try CurlHandle(
            url: "smtp://\(target.relayHost):\(target.relayPort)", protocols: "smtp",
            anchors: target.relayAnchors, connectTimeout: timeouts.connect, totalTimeout: timeouts.total)
        try curl.set(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
        return curl
    }

    private func handle(for target: SMTPTarget) throws -> CurlHandle {
        let curl = try Self.connection(to: target, timeouts: timeouts)
        try curl.set(CURLOPT_MAIL_FROM, "<\(mailFrom)>")
        try curl.set(CURLOPT_MAIL_RCPT, list: ["<\(target.mailbox)>"])
        if let username = target.username {
            try curl.set(CURLOPT_USERNAME, username)
            if let file = target.passwordFile {
                guard let password = try? String(contentsOf: file, encoding: .utf8) else {
                    throw SMTPSetupFailure(description: "SMTP: cannot read the password file \(file.path)")
                }
                try curl.set(CURLOPT_PASSWORD, password.trimmingCharacters(in: .newlines))
            }
        }
        try curl.set(CURLOPT_UPLOAD, 1)
        try curl.set(CURLOPT_READFUNCTION, callback: UploadSource.read)
        return curl
    }
}

struct SMTPSetupFailure: Error, CustomStringConvertible {
    let description: String
}

import CCurl
import Foundation

/// Hands a complete mail to a relay over SMTP with STARTTLS required (`CURLUSESSL_ALL`:
/// no TLS, no mail), the relay verified against configured anchors.
public struct SMTPTransport: Sendable {
    let timeouts: TransportTimeouts
    let mailFrom: String

    public init(mailFrom: String, timeouts: TransportTimeouts) {
        self.mailFrom = mailFrom
        self.timeouts = timeouts
    }

    public func send(_ mail: Data, to target: SMTPTarget) -> TransportOutcome {
        do {
            let curl = try CurlHandle(
                url: "smtp://\(target.relayHost):\(target.relayPort)", protocols: "smtp",
                anchors: target.relayAnchors, connectTimeout: timeouts.connect, totalTimeout: timeouts.total)
            try curl.set(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
            try curl.set(CURLOPT_MAIL_FROM, "<\(mailFrom)>")
            try curl.set(CURLOPT_MAIL_RCPT, list: ["<\(target.mailbox)>"])
            if let username = target.username {
                try curl.set(CURLOPT_USERNAME, username)
                if let file = target.passwordFile {
                    guard let password = try? String(contentsOf: file, encoding: .utf8) else {
                        return .failed(reason: "SMTP: cannot read the password file \(file.path)")
                    }
                    try curl.set(CURLOPT_PASSWORD, password.trimmingCharacters(in: .newlines))
                }
            }
            let source = UploadSource(mail)
            try curl.set(CURLOPT_UPLOAD, 1)
            try curl.set(CURLOPT_INFILESIZE_LARGE, size: mail.count)
            try curl.set(CURLOPT_READFUNCTION, callback: UploadSource.read)
            try curl.set(CURLOPT_READDATA, pointer: Unmanaged.passUnretained(source).toOpaque())
            let result = withExtendedLifetime(source) { curl.perform() }
            let status = curl.responseCode
            if result.code == CURLE_OK { return .accepted(status: status, body: Data()) }
            // The relay's own verdict decides: 5xx is final, 4xx (and no answer) is worth a retry.
            if (500..<600).contains(status) { return .refused(status: status, reason: "SMTP \(status): \(result.message)") }
            return .failed(reason: status > 0 ? "SMTP \(status): \(result.message)" : "SMTP: \(result.message)")
        } catch {
            return .failed(reason: "\(error)")
        }
    }
}

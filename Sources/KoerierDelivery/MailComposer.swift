import Foundation
import KoerierSecurity

/// What a mail's attachment is: Koerier XML, or an EDIFACT interchange (RFC 1767).
public struct MailAttachmentType: Sendable, Equatable {
    public let contentType: String
    public let fileExtension: String

    public static let xml = MailAttachmentType(contentType: "application/xml", fileExtension: "xml")
    public static let edifact = MailAttachmentType(contentType: "application/EDIFACT", fileExtension: "edi")
}

/// The mail that carries one signed message: a short body that says nothing clinical, the
/// message as attachment, the whole signed and encrypted as S/MIME.
public enum MailComposer {
    public static func mail(
        from: String, to: String, messageID: String, kind: String, signer: SMIMESigner, recipientCertificate: Certificate,
        attachment: Data, attachmentType: MailAttachmentType = .xml, now: Date = Date()
    ) throws -> Data {
        let boundary = "koerier-" + UUID().uuidString.lowercased()
        let encoded = attachment.base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        let inner = [
            "Content-Type: multipart/mixed; boundary=\"\(boundary)\"",
            "",
            "--\(boundary)",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 7bit",
            "",
            "Bijgaand een beveiligd bericht (\(kind)), kenmerk \(messageID).",
            "Open de bijlage in uw berichtensysteem; de inhoud staat niet in deze tekst.",
            "--\(boundary)",
            "Content-Type: \(attachmentType.contentType); name=\"\(messageID).\(attachmentType.fileExtension)\"",
            "Content-Disposition: attachment; filename=\"\(messageID).\(attachmentType.fileExtension)\"",
            "Content-Transfer-Encoding: base64",
            "",
            encoded,
            "--\(boundary)--",
            "",
        ].joined(separator: "\r\n")
        let secured = try SMIME.signAndEncrypt(Data(inner.utf8), signer: signer, recipient: recipientCertificate)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let domain = from.split(separator: "@").last.map(String.init) ?? "localhost"
        let headers =
            [
                "From: <\(from)>",
                "To: <\(to)>",
                "Subject: Beveiligd bericht \(messageID)",
                "Date: \(formatter.string(from: now))",
                "Message-ID: <\(messageID).\(UUID().uuidString.lowercased())@\(domain)>",
            ].joined(separator: "\r\n") + "\r\n"
        return Data(headers.utf8) + secured
    }
}

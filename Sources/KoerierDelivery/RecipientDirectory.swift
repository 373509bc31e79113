import Foundation
import KoerierConfig
import KoerierEDIFACT
import KoerierModel
import Yams

/// One party Koerier delivers to, as the directory describes it.
public struct Recipient: Sendable {
    public let id: String
    public let name: String
    public let type: RecipientType
    public let agb: AGBCode?
    public let ura: URANumber?
    public let transport: TransportTarget
    /// What goes on the wire, after the adapter has decided what this recipient may see.
    public let format: LetterFormat
    /// Records for this recipient in flight at once.
    public let concurrency: Int

    public init(
        id: String, name: String, type: RecipientType, agb: AGBCode?, ura: URANumber?, transport: TransportTarget,
        format: LetterFormat = .koerierXML, concurrency: Int
    ) {
        self.id = id
        self.name = name
        self.type = type
        self.agb = agb
        self.ura = ura
        self.transport = transport
        self.format = format
        self.concurrency = concurrency
    }

    /// The party as it appears in an envelope addressed to this recipient.
    public var party: Party {
        Party(type: PartyType(rawValue: type.rawValue) ?? .huisarts, organisation: name, agb: agb, ura: ura)
    }
}

public enum TransportTarget: Sendable {
    case https(HTTPSTarget)
    case smtp(SMTPTarget)
    /// A folder an EDI client collects from (MEDVRI only).
    case folder(URL)
}

/// The format a recipient's record system reads.
public enum LetterFormat: Sendable, Equatable {
    /// Signed Koerier XML (another Koerier gateway).
    case koerierXML
    /// EDIFACT MEDVRI to a GP's record system, addressed by its numeric Zorgmail EDI address.
    case medvri(ediAddress: String, charset: EDIFACTCharset)
    /// A FHIR STU3 document Bundle POSTed to `{base}/Bundle`.
    case fhirSTU3

    public var name: String {
        switch self {
        case .koerierXML: return "koerier-xml"
        case .medvri: return "medvri"
        case .fhirSTU3: return "fhir-stu3"
        }
    }
}

public struct HTTPSTarget: Sendable {
    /// `https://NAME:PORT/PATH`; NAME is the server name its certificate must carry.
    public let url: URL
    /// PEM anchors the server's certificate must chain to (not the system store).
    public let serverAnchors: URL
    /// Connect here instead of resolving NAME (e.g. 127.0.0.1), still verifying NAME.
    public let address: String?

    public init(url: URL, serverAnchors: URL, address: String? = nil) {
        self.url = url
        self.serverAnchors = serverAnchors
        self.address = address
    }
}

public struct SMTPTarget: Sendable {
    public let mailbox: String
    public let relayHost: String
    public let relayPort: Int
    /// PEM anchors for the relay's STARTTLS certificate.
    public let relayAnchors: URL
    /// The recipient's S/MIME certificate (PEM, optionally followed by its intermediate
    /// CAs); without a valid one nothing is mailed.
    public let certificate: URL?
    /// PEM anchors that certificate must chain to; nil: the gateway's `trust.anchors`
    /// (and `trust.crl`). Set, they are used without a CRL.
    public let smimeAnchors: URL?
    public let username: String?
    /// A file holding the relay password (never in the directory itself).
    public let passwordFile: URL?
}

/// The recipient directory (`recipients.yaml`), read strictly: every problem is reported
/// with its file and line when it is loaded, not when a message is due.
public struct RecipientDirectory: Sendable {
    public let recipients: [String: Recipient]

    public init(recipients: [Recipient]) {
        self.recipients = Dictionary(recipients.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public subscript(id: String) -> Recipient? { recipients[id] }

    /// The relay password files the entries name: secrets the file checks cover.
    public var passwordFiles: [URL] {
        recipients.values.compactMap { recipient in
            if case .smtp(let target) = recipient.transport { return target.passwordFile }
            return nil
        }
    }

    public static func load(file: URL, displayPath: String? = nil) throws -> RecipientDirectory {
        let shown = displayPath ?? file.path
        guard let data = FileManager.default.contents(atPath: file.path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: shown, line: nil, message: "cannot read the recipient directory")
        }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ConfigError(file: shown, line: nil, message: "the directory is empty")
            }
            root = node
        } catch let error as YamlError {
            throw ConfigError(file: shown, line: nil, message: "not valid YAML: \(error)")
        }
        let base = file.deletingLastPathComponent()
        func resolve(_ path: String) -> URL { URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL }
        let fields = try YAMLFields(root, file: shown, path: "")
        try fields.rejectUnknown(allowed: ["recipients"])
        var seen: Set<String> = []
        let entries = try (fields.list("recipients") ?? []).map { entry -> Recipient in
            let recipient = try recipient(entry, resolve: resolve)
            guard seen.insert(recipient.id).inserted else {
                throw ConfigError(file: shown, line: entry.line(of: "id"), message: "recipient id '\(recipient.id)' appears twice")
            }
            return recipient
        }
        return RecipientDirectory(recipients: entries)
    }

    private static func recipient(_ entry: YAMLFields, resolve: (String) -> URL) throws -> Recipient {
        try entry.rejectUnknown(allowed: [
            "id", "name", "type", "agb", "ura", "https", "smtp", "folder", "concurrency", "format", "edi_address", "edi_charset",
        ])
        let id = try entry.requiredString("id")
        func problem(_ key: String, _ message: String) -> ConfigError {
            ConfigError(file: entry.file, line: entry.line(of: key), message: "recipient '\(id)': \(message)")
        }
        let typeName = try entry.requiredString("type")
        guard let type = RecipientType(rawValue: typeName) else {
            throw problem("type", "unknown type '\(typeName)'; one of \(RecipientType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let agb = try entry.string("agb").map { text in
            do { return try AGBCode(text) } catch { throw problem("agb", "'\(text)' is not an AGB code: \(error)") }
        }
        let ura = try entry.string("ura").map { text in
            do { return try URANumber(text) } catch { throw problem("ura", "'\(text)' is not a URA number: \(error)") }
        }
        let https = try entry.section("https")
        let smtp = try entry.section("smtp")
        let folder = try entry.string("folder")
        let transport: TransportTarget
        if let folder {
            guard https == nil, smtp == nil else { throw problem("folder", "has a folder and another transport; choose one") }
            transport = .folder(resolve(folder))
        } else {
            transport = try networkTransport(https: https, smtp: smtp, problem: problem, resolve: resolve)
        }
        let format = try letterFormat(entry, type: type, transport: transport, problem: problem)
        return Recipient(
            id: id, name: try entry.string("name") ?? id, type: type, agb: agb, ura: ura, transport: transport, format: format,
            concurrency: try entry.integer("concurrency", range: 1...64) ?? 2)
    }

    /// `format`, its EDI fields, and whether the transport can carry it: every combination
    /// that could not deliver is refused here, with its line, rather than at the first letter.
    private static func letterFormat(
        _ entry: YAMLFields, type: RecipientType, transport: TransportTarget, problem: (String, String) -> ConfigError
    ) throws -> LetterFormat {
        let name = try entry.string("format") ?? "koerier-xml"
        let ediAddress = try entry.string("edi_address")
        let charsetName = try entry.string("edi_charset")
        let isHTTPS: Bool
        let isMailOrFolder: Bool
        switch transport {
        case .https: (isHTTPS, isMailOrFolder) = (true, false)
        case .smtp: (isHTTPS, isMailOrFolder) = (false, true)
        case .folder: (isHTTPS, isMailOrFolder) = (false, true)
        }
        if name != "medvri" {
            if ediAddress != nil { throw problem("edi_address", "'edi_address' belongs to format medvri, not \(name)") }
            if charsetName != nil { throw problem("edi_charset", "'edi_charset' belongs to format medvri, not \(name)") }
        }
        if name != "koerier-xml", !type.mayReceiveClinicalContent || type == .centrum {
            throw problem(
                "format", "format \(name) carries return letters; a \(type.rawValue) gets Koerier XML only (koerier-xml)")
        }
        switch name {
        case "koerier-xml":
            if case .folder = transport { throw problem("folder", "a folder carries format medvri only") }
            return .koerierXML
        case "medvri":
            guard isMailOrFolder else {
                throw problem("format", "format medvri goes by S/MIME mail ('smtp') or to a 'folder', not over https")
            }
            guard let ediAddress else { throw problem("format", "format medvri needs 'edi_address' (the numeric Zorgmail address)") }
            guard MEDVRIAddressing.isEDIAddress(ediAddress) else {
                throw problem("edi_address", "'\(ediAddress)' is not a numeric EDI address (1-35 digits)")
            }
            let charset = try charsetName.map { text in
                guard let charset = EDIFACTCharset(rawValue: text) else {
                    throw problem("edi_charset", "'\(text)' is not a character set Koerier writes; one of UNOA, UNOC")
                }
                return charset
            }
            return .medvri(ediAddress: ediAddress, charset: charset ?? .unoa)
        case "fhir-stu3":
            guard isHTTPS else { throw problem("format", "format fhir-stu3 is POSTed over https; its url is the FHIR base URL") }
            return .fhirSTU3
        default:
            throw problem("format", "unknown format '\(name)'; one of koerier-xml, medvri, fhir-stu3")
        }
    }

    private static func networkTransport(
        https: YAMLFields?, smtp: YAMLFields?, problem: (String, String) -> ConfigError, resolve: (String) -> URL
    ) throws -> TransportTarget {
        let transport: TransportTarget
        switch (https, smtp) {
        case (let https?, nil):
            try https.rejectUnknown(allowed: ["url", "server_anchors", "address"])
            let text = try https.requiredString("url")
            guard let url = URL(string: text), url.scheme == "https", url.host != nil else {
                throw problem("https", "'\(text)' is not an https:// URL (plain HTTP is never used)")
            }
            transport = .https(
                HTTPSTarget(
                    url: url, serverAnchors: resolve(try https.requiredString("server_anchors")),
                    address: try https.string("address")))
        case (nil, let smtp?):
            try smtp.rejectUnknown(allowed: [
                "to", "relay", "port", "relay_anchors", "certificate", "smime_anchors", "username", "password_file",
            ])
            let mailbox = try smtp.requiredString("to")
            guard mailbox.contains("@"), !mailbox.contains(where: { $0 == "<" || $0 == ">" || $0.isWhitespace || $0.isNewline }) else {
                throw problem("smtp", "'\(mailbox)' is not a mail address")
            }
            transport = .smtp(
                SMTPTarget(
                    mailbox: mailbox, relayHost: try smtp.requiredString("relay"),
                    relayPort: try smtp.integer("port", range: 1...65535) ?? 25,
                    relayAnchors: resolve(try smtp.requiredString("relay_anchors")),
                    certificate: try smtp.string("certificate").map(resolve),
                    smimeAnchors: try smtp.string("smime_anchors").map(resolve),
                    username: try smtp.string("username"),
                    passwordFile: try smtp.string("password_file").map(resolve)))
        case (nil, nil):
            throw problem("id", "needs a transport: 'https', 'smtp' or 'folder'")
        case (.some, .some):
            throw problem("smtp", "has both 'https' and 'smtp'; choose one")
        }
        return transport
    }
}

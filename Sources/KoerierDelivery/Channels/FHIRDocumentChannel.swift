import Foundation

/// A return letter as a FHIR STU3 document Bundle, POSTed to `{base}/Bundle` over mutual
/// TLS, as ZorgDomein pushes documents: a 2xx with a Location header is delivered (the only
/// acknowledgement a FHIR server gives; no Koerier receipt follows).
struct FHIRDocumentChannel: OutboundChannel {
    let recipientID: String
    let target: HTTPSTarget
    let transport: HTTPSTransport

    static let headers = [
        "Content-Type: application/fhir+json; charset=UTF-8", "Accept: application/fhir+json", "Prefer: return=minimal",
    ]

    /// The directory's url is the FHIR base; documents go to its Bundle endpoint.
    static func bundleEndpoint(of base: HTTPSTarget) -> HTTPSTarget {
        let text = base.url.absoluteString
        let trimmed = text.hasSuffix("/") ? String(text.dropLast()) : text
        let url = URL(string: trimmed + "/Bundle") ?? base.url
        return HTTPSTarget(url: url, serverAnchors: base.serverAnchors, address: base.address)
    }

    func prepare(_ letter: OutgoingMessage) throws(ChannelProblem) -> Data { letter.bytes }

    func send(_ wire: Data, for letter: OutgoingMessage) -> TransportOutcome { transport.post(wire, to: target, headers: Self.headers) }

    func interpret(_ outcome: TransportOutcome, for letter: OutgoingMessage) -> ChannelVerdict {
        guard case .answered(let status, let body, let retryAfter, let location) = outcome else {
            if case .noAnswer(let reason) = outcome { return .retryLater(reason: reason, after: nil) }
            return .retryLater(reason: "no answer", after: nil)
        }
        // A FHIR server's OperationOutcome may quote patient values: only its issue codes are kept.
        let summary = "HTTP \(status)" + Self.issueCodes(body).map { ": OperationOutcome \($0)" }.joined()
        switch status {
        case 200..<300:
            guard let location, !location.isEmpty else {
                // A FHIR server names what it stored; an answer without it is no acceptance.
                return .refused(reason: "HTTP \(status) without a Location header: not taken as delivered")
            }
            return .delivered(note: "Location: \(location.prefix(200))")
        case _ where KoerierHTTPSChannel.retryableStatuses.contains(status), 500..<600:
            return .retryLater(reason: summary, after: retryAfter)
        default:
            return .refused(reason: summary)
        }
    }

    /// The codes of an OperationOutcome's issues (`invalid, required`), or nil for any other body.
    static func issueCodes(_ body: Data) -> [String] {
        guard body.count <= 1 << 20, let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
            object["resourceType"] as? String == "OperationOutcome", let issues = object["issue"] as? [[String: Any]]
        else { return [] }
        let codes = issues.prefix(10).compactMap { $0["code"] as? String }.filter {
            $0.count <= 40 && $0.allSatisfy { $0.isLetter || $0 == "-" }
        }
        return codes.isEmpty ? [] : [codes.joined(separator: ", ")]
    }
}

import Foundation
import KoerierModel

/// What the reader takes from a ZorgDomein Bundle before it builds the referral, and
/// where each part came from (for the model's rules to point back at).
struct ZorgDomeinContent {
    var documentType: ZDDocumentType
    var zdNumber: TransactionID
    var created: Timestamp
    var sender: Party
    var patient: Patient
    var urgency: Urgency
    var question: String
    var history: String?
    var medication: String?
    var locations: RuleLocations
}

extension ElementReader {
    /// Reads the Composition and what it references; nil when any problem was recorded.
    mutating func content(of index: BundleIndex) -> ZorgDomeinContent? {
        let composition = index.composition
        let path = composition.path
        let resource = composition.resource
        let zdNumber = zdNumber(resource, at: path)
        let documentType = documentType(resource, at: path)
        let created = created(resource, at: path)
        var sender: (party: Party, organisationPath: String)?
        if let role = senderRole(resource, at: path, in: index) { sender = self.sender(role, in: index) }
        let patientEntry = reference(resource, "subject", at: path, in: index, type: "Patient", required: true)
        let patient = patientEntry.flatMap { self.patient($0) }
        let urgency = urgency(in: index)
        var text: ReferralText?
        if let documentType { text = referralText(documentType, composition: composition) }
        guard problems.isEmpty, let zdNumber, let documentType, let created, let sender, let patientEntry, let patient,
            let text
        else {
            if problems.isEmpty { problem("Bundle", "incomplete", "the Bundle could not be read") }
            return nil
        }
        let locations = RuleLocations(
            composition: path, patient: patientEntry.path, organisation: sender.organisationPath,
            priority: urgency.path, question: text.questionPath)
        return ZorgDomeinContent(
            documentType: documentType, zdNumber: zdNumber, created: created, sender: sender.party, patient: patient,
            urgency: urgency.value, question: text.question, history: text.history, medication: text.medication,
            locations: locations)
    }

    /// `Composition.identifier`: the ZD-number system (see `FHIRSystems.zdNumber`) and
    /// `ZD`/`ZP` + 9 digits, optionally `_ANTW` (dropped: the transaction is the same).
    private mutating func zdNumber(_ resource: Object, at path: String) -> TransactionID? {
        guard let identifier = object(resource, "identifier", at: path, required: true) else { return nil }
        let identifierPath = path + ".identifier"
        let system = string(identifier, "system", at: identifierPath, required: true)
        if let system, system != FHIRSystems.zdNumber {
            problem(
                identifierPath + ".system", "identifier-system",
                "the Composition identifier must use the ZD-number system \(FHIRSystems.zdNumber)")
        }
        guard let value = string(identifier, "value", at: identifierPath, required: true) else { return nil }
        var digits = Substring(value)
        if digits.hasSuffix("_ANTW") { digits = digits.dropLast(5) }
        guard ZDNumber.isValid(digits), let transaction = try? TransactionID(String(digits))
        else {
            problem(
                identifierPath + ".value", "zd-number-format",
                "the ZD-number must be ZD or ZP and 9 digits, optionally followed by _ANTW")
            return nil
        }
        return system == FHIRSystems.zdNumber ? transaction : nil
    }

    /// `Composition.type`: a code of the ZorgDomein document-type system Koerier takes.
    private mutating func documentType(_ resource: Object, at path: String) -> ZDDocumentType? {
        guard let type = object(resource, "type", at: path, required: true) else { return nil }
        for (position, coding) in objects(type, "coding", at: path + ".type")
        where coding["system"] == .string(FHIRSystems.zdDocumentType) {
            let codePath = path + ".type.coding[\(position)]"
            guard let code = string(coding, "code", at: codePath, required: true) else { return nil }
            if let documentType = ZDDocumentType(rawValue: code) { return documentType }
            // Only codes ZorgDomein defines are echoed; anything else could be any text.
            let known = ["request-form", "questionnaire"].contains(code)
            problem(
                codePath + ".code", "document-type-unsupported",
                known
                    ? "Koerier does not take ZorgDomein '\(code)' documents"
                    : "the document type is not one Koerier takes (appointment-request, referral-letter, supplement, cancellation)")
            return nil
        }
        problem(
            path + ".type.coding", "document-type-unsupported",
            "Composition.type must carry a code of the system \(FHIRSystems.zdDocumentType)")
        return nil
    }

    /// `Composition.date`, which must fix the moment: a time with its zone.
    private mutating func created(_ resource: Object, at path: String) -> Timestamp? {
        guard let text = string(resource, "date", at: path, required: true) else { return nil }
        switch FHIRDateTime.timestamp(text) {
        case .success(let timestamp):
            return timestamp
        case .failure(.noZone):
            problem(path + ".date", "datetime-zone", "date must give a time of day with a time zone")
        case .failure(.format):
            problem(path + ".date", "datetime-format", "date must be a FHIR dateTime (YYYY-MM-DDThh:mm:ss and a zone)")
        }
        return nil
    }

    /// The PractitionerRole the sender extension (see `FHIRSystems.zdSender`) references.
    private mutating func senderRole(_ resource: Object, at path: String, in index: BundleIndex) -> BundleEntry? {
        for (position, element) in objects(resource, "extension", at: path)
        where element["url"] == .string(FHIRSystems.zdSender) {
            return reference(
                element, "valueReference", at: path + ".extension[\(position)]", in: index, type: "PractitionerRole", required: true)
        }
        problem(path + ".extension", "required", "the Composition must name its sender in the extension \(FHIRSystems.zdSender)")
        return nil
    }

    /// Urgency from a ReferralRequest's `priority`: urgent, asap and stat are urgent;
    /// routine or no ReferralRequest is routine.
    private mutating func urgency(in index: BundleIndex) -> (value: Urgency, path: String?) {
        guard let request = index.first(ofType: "ReferralRequest") else { return (.routine, nil) }
        let path = request.path + ".priority"
        switch string(request.resource, "priority", at: request.path, required: false) {
        case nil, "routine": return (.routine, path)
        case "urgent", "asap", "stat": return (.urgent, path)
        default:
            problem(path, "priority-code", "priority must be routine, urgent, asap or stat")
            return (.routine, path)
        }
    }
}

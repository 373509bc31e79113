import Foundation
import KoerierModel

/// The people and organisations of a ZorgDomein Bundle, read into the model.
extension ElementReader {
    /// The Patient: BSN (elfproef checked by `BSN`), name, birth date, gender.
    mutating func patient(_ entry: BundleEntry) -> Patient? {
        let path = entry.path
        let identifiers = identifiers(entry.resource, at: path, allowed: [FHIRSystems.bsn], owner: "Patient")
        var bsn: BSN?
        if let found = identifiers.values[FHIRSystems.bsn] {
            bsn = formatted(at: found.path) { try BSN(found.value) }
        } else if !identifiers.foreignSystem {
            problem(path + ".identifier", "required", "the Patient must carry a BSN (system \(FHIRSystems.bsn))")
        }
        let name = patientName(entry.resource, at: path)
        var birthDate: CalendarDate?
        if let text = string(entry.resource, "birthDate", at: path, required: true) {
            birthDate = try? CalendarDate(parsing: text)
            if birthDate == nil { problem(path + ".birthDate", "date-format", "birthDate must be a full date (YYYY-MM-DD)") }
        }
        var sex = Sex.unknown
        if let text = string(entry.resource, "gender", at: path, required: false) {
            if let code = Sex(rawValue: text) {
                sex = code
            } else {
                problem(path + ".gender", "gender-code", "gender must be male, female, other or unknown")
            }
        }
        guard let bsn, let name, let birthDate else { return nil }
        return Patient(bsn: bsn, name: name, birthDate: birthDate, sex: sex)
    }

    /// The official name (else the first): family with its prefix, the given names.
    private mutating func patientName(_ resource: Object, at path: String) -> PersonName? {
        let names = objects(resource, "name", at: path)
        guard let chosen = names.first(where: { $0.object["use"] == .string("official") }) ?? names.first else {
            problem(path + ".name", "required", "the Patient must carry a name")
            return nil
        }
        let namePath = path + ".name[\(chosen.position)]"
        let family = familyName(chosen.object, at: namePath, required: true)
        let given = strings(chosen.object, "given", at: namePath)
        if given.isEmpty { problem(namePath + ".given", "required", "the Patient name must have a given name") }
        guard let family, !given.isEmpty else { return nil }
        return PersonName(given: given.joined(separator: " "), prefix: family.prefix, family: family.name)
    }

    /// A Dutch family name as nl-core writes it: `family` holds the whole name ("de
    /// Vries"), and the `humanname-own-prefix` / `humanname-own-name` extensions on
    /// `_family` split it. Without the extensions the family name is read whole, with no
    /// prefix: nothing is guessed from spaces ("van den Berg" stays one family name).
    private mutating func familyName(_ name: Object, at path: String, required: Bool) -> (prefix: String?, name: String)? {
        guard let family = string(name, "family", at: path, required: required) else { return nil }
        var ownPrefix: String?
        var ownName: String?
        if let element = object(name, "_family", at: path, required: false) {
            for (position, extensionObject) in objects(element, "extension", at: path + "._family") {
                let extensionPath = path + "._family.extension[\(position)]"
                switch extensionObject["url"]?.stringValue {
                case FHIRSystems.ownPrefix: ownPrefix = string(extensionObject, "valueString", at: extensionPath, required: true)
                case FHIRSystems.ownName: ownName = string(extensionObject, "valueString", at: extensionPath, required: true)
                default: continue
                }
            }
        }
        if let ownName { return (ownPrefix, ownName) }
        if let ownPrefix, family.hasPrefix(ownPrefix + " ") {
            return (ownPrefix, String(family.dropFirst(ownPrefix.count + 1)).trimmingCharacters(in: .whitespaces))
        }
        return (ownPrefix, family)
    }

    /// The sender: the PractitionerRole's Organization (name, AGB, URA, address) and
    /// Practitioner (name, AGB). The organisation's AGB is the party's; the
    /// practitioner's stands in when the organisation has none.
    mutating func sender(_ role: BundleEntry, in index: BundleIndex) -> (party: Party, organisationPath: String)? {
        let organisation = reference(role.resource, "organization", at: role.path, in: index, type: "Organization", required: true)
        let practitioner = reference(role.resource, "practitioner", at: role.path, in: index, type: "Practitioner", required: false)
        var practitionerName: String?
        var practitionerAGB: AGBCode?
        if let practitioner {
            let identifiers = identifiers(
                practitioner.resource, at: practitioner.path, allowed: [FHIRSystems.agb, FHIRSystems.big], owner: "Practitioner")
            if let found = identifiers.values[FHIRSystems.agb] { practitionerAGB = formatted(at: found.path) { try AGBCode(found.value) } }
            practitionerName = displayName(practitioner.resource, at: practitioner.path)
        }
        guard let organisation else { return nil }
        let resource = organisation.resource
        let path = organisation.path
        let name = string(resource, "name", at: path, required: true)
        let identifiers = identifiers(resource, at: path, allowed: [FHIRSystems.agb, FHIRSystems.ura], owner: "Organization")
        let agb = identifiers.values[FHIRSystems.agb].flatMap { found in formatted(at: found.path) { try AGBCode(found.value) } }
        let ura = identifiers.values[FHIRSystems.ura].flatMap { found in formatted(at: found.path) { try URANumber(found.value) } }
        let address = self.address(resource, at: path)
        guard let name else { return nil }
        let party = Party(
            type: .huisarts, organisation: name, practitioner: practitionerName, agb: agb ?? practitionerAGB, ura: ura,
            address: address)
        return (party, path)
    }

    /// A practitioner's name for display: `text`, else prefixes, given names and family.
    private mutating func displayName(_ resource: Object, at path: String) -> String? {
        guard let (position, name) = objects(resource, "name", at: path).first else { return nil }
        let namePath = path + ".name[\(position)]"
        if let text = string(name, "text", at: namePath, required: false) { return text }
        let family = familyName(name, at: namePath, required: false)
        let parts =
            strings(name, "prefix", at: namePath) + strings(name, "given", at: namePath)
            + [family?.prefix, family?.name].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: " ")
    }

    /// The first address with a street line, postal code and city. Street and house
    /// number come from the ISO 21090 `_line` extensions when present, else from the
    /// line's last word when it starts with a digit ("Lindelaan 12").
    private mutating func address(_ resource: Object, at path: String) -> Address? {
        guard let (position, address) = objects(resource, "address", at: path).first else { return nil }
        let addressPath = path + ".address[\(position)]"
        let line = strings(address, "line", at: addressPath).first
        let postalCode = string(address, "postalCode", at: addressPath, required: false)
        let city = string(address, "city", at: addressPath, required: false)
        var street: String?
        var houseNumber: String?
        if case .array(let lineElements)? = address["_line"], let first = lineElements.first?.objectValue {
            for (extensionPosition, part) in objects(first, "extension", at: addressPath + "._line[0]") {
                let partPath = addressPath + "._line[0].extension[\(extensionPosition)]"
                switch part["url"]?.stringValue {
                case "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-streetName":
                    street = string(part, "valueString", at: partPath, required: true)
                case "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-houseNumber":
                    houseNumber = string(part, "valueString", at: partPath, required: true)
                default: continue
                }
            }
        }
        if street == nil || houseNumber == nil, let line, let space = line.lastIndex(of: " "),
            line[line.index(after: space)...].first?.isNumber == true
        {
            street = String(line[..<space]).trimmingCharacters(in: .whitespaces)
            houseNumber = String(line[line.index(after: space)...])
        }
        guard let street, !street.isEmpty, let houseNumber, let postalCode, let city else { return nil }
        return Address(street: street, houseNumber: houseNumber, postalCode: postalCode, city: city)
    }

    /// A model value whose initializer checks its format; a failure becomes a problem
    /// with the model's rule (`bsn-elfproef`, `agb-format`, …) and its value-free wording.
    private mutating func formatted<Value>(at path: String, _ make: () throws -> Value) -> Value? {
        do {
            return try make()
        } catch let error as FieldFormatError {
            problem(path, error.rule, error.message)
        } catch {
            problem(path, "value-format", "the value has the wrong format")
        }
        return nil
    }
}

/// Identifier systems, code systems and extension URLs Koerier reads and writes.
///
/// Settled (CHANNELS.md, Dutch nl-core): BSN, AGB, URA, BIG, the ZorgDomein document-type
/// code system, LOINC, the HL7 human-name extensions.
///
/// *Unconfirmed* (nothing public settled them; chosen as a receiving system would accept
/// them, and kept in this one file so a confirmed value is a one-line change):
/// `zdNumber` (the system of `Composition.identifier`) and `zdSender` (the Composition
/// extension naming the sending PractitionerRole). The reader is strict about both: a
/// Bundle using another system or URL is refused, not guessed at.
public enum FHIRSystems {
    public static let bsn = "http://fhir.nl/fhir/NamingSystem/bsn"
    public static let agb = "http://fhir.nl/fhir/NamingSystem/agb-z"
    public static let ura = "http://fhir.nl/fhir/NamingSystem/ura"
    public static let big = "http://fhir.nl/fhir/NamingSystem/big"
    public static let zdDocumentType = "http://zorgdomein.nl/terminology/code-system/document-type"
    /// *Unconfirmed*: the ZD-number's identifier system.
    public static let zdNumber = "http://fhir.zorgdomein.nl/NamingSystem/zd-number"
    /// *Unconfirmed*: the Composition extension (valueReference) naming the sender's PractitionerRole.
    public static let zdSender = "http://zorgdomein.nl/fhir/StructureDefinition/zd-sender"

    /// RFC 3986 URIs as identifiers (`urn:uuid:…`), for Bundle.identifier and relatesTo.
    public static let uri = "urn:ietf:rfc:3986"
    /// A Koerier transaction id that is not a ZD-number (Koerier's own trajectories).
    public static let koerierTransaction = "urn:koerier:transaction-id"
    /// Koerier's local codes for instruments LOINC does not cover (4DKL, Positieve Gezondheid).
    public static let koerierMeasurement = "urn:koerier:measurement"

    public static let loinc = "http://loinc.org"
    public static let icpc = "http://hl7.org/fhir/sid/icpc-1-nl"
    public static let ucum = "http://unitsofmeasure.org"
    public static let observationCategory = "http://hl7.org/fhir/observation-category"

    /// The prefix (tussenvoegsel) and own family name of a Dutch name, on `_family`.
    public static let ownPrefix = "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix"
    public static let ownName = "http://hl7.org/fhir/StructureDefinition/humanname-own-name"
    /// nl-core (STU3) link from a Practitioner reference to the PractitionerRole it acts in:
    /// STU3's Composition.author cannot reference a PractitionerRole directly.
    public static let practitionerRoleReference = "http://nictiz.nl/fhir/StructureDefinition/practitionerrole-reference"
}

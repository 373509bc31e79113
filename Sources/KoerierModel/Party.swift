/// Who a party is. The five recipient types of the domain plus the centre itself.
public enum PartyType: String, CaseIterable, Sendable {
    case huisarts, bedrijfsarts, ggz, werkgever
    case sociaalDomein = "sociaal-domein"
    case centrum

    /// The recipient type this party is addressed as, or nil for the centre itself.
    public var recipientType: RecipientType? { RecipientType(rawValue: rawValue) }
}

/// The kinds of recipient an adapter exists for; what each may see differs (DOMAIN.md).
public enum RecipientType: String, CaseIterable, Sendable {
    case huisarts, bedrijfsarts, ggz, werkgever
    case sociaalDomein = "sociaal-domein"
    /// The centre itself, as a referrer's gateway addresses it (a GP practice running Koerier).
    case centrum

    /// Employers and the social domain never receive clinical content.
    public var mayReceiveClinicalContent: Bool {
        switch self {
        case .huisarts, .bedrijfsarts, .ggz, .centrum: return true
        case .werkgever, .sociaalDomein: return false
        }
    }
}

public struct Address: Hashable, Sendable {
    public var street: String
    public var houseNumber: String
    public var postalCode: String
    public var city: String

    public init(street: String, houseNumber: String, postalCode: String, city: String) {
        self.street = street
        self.houseNumber = houseNumber
        self.postalCode = postalCode
        self.city = city
    }
}

/// Sender or receiver of a message: an organisation, optionally a named practitioner.
public struct Party: Hashable, Sendable {
    public var type: PartyType
    public var organisation: String
    public var practitioner: String?
    public var agb: AGBCode?
    public var ura: URANumber?
    public var address: Address?

    public init(
        type: PartyType, organisation: String, practitioner: String? = nil,
        agb: AGBCode? = nil, ura: URANumber? = nil, address: Address? = nil
    ) {
        self.type = type
        self.organisation = organisation
        self.practitioner = practitioner
        self.agb = agb
        self.ura = ura
        self.address = address
    }
}

public enum Sex: String, CaseIterable, Sendable {
    case male, female, other, unknown
}

/// Dutch personal name: given name, optional prefix (tussenvoegsel), family name.
public struct PersonName: Hashable, Sendable {
    public var given: String
    public var prefix: String?
    public var family: String

    public init(given: String, prefix: String? = nil, family: String) {
        self.given = given
        self.prefix = prefix
        self.family = family
    }

    public var formatted: String { [given, prefix, family].compactMap { $0 }.joined(separator: " ") }
}

public struct Patient: Hashable, Sendable {
    public var bsn: BSN
    public var name: PersonName
    public var birthDate: CalendarDate
    public var sex: Sex

    public init(bsn: BSN, name: PersonName, birthDate: CalendarDate, sex: Sex) {
        self.bsn = bsn
        self.name = name
        self.birthDate = birthDate
        self.sex = sex
    }
}

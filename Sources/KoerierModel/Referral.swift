/// Consult: advice, the sender keeps the client. Refer: the client is handed over.
public enum RequestType: String, CaseIterable, Sendable {
    case consult, refer
}

public enum Urgency: String, CaseIterable, Sendable, Comparable {
    case routine, soon, urgent

    /// Order for queues: routine 0, soon 1, urgent 2.
    public var rank: Int {
        switch self {
        case .routine: return 0
        case .soon: return 1
        case .urgent: return 2
        }
    }

    public init?(rank: Int) {
        guard let urgency = Urgency.allCases.first(where: { $0.rank == rank }) else { return nil }
        self = urgency
    }
    public static func < (lhs: Urgency, rhs: Urgency) -> Bool { lhs.rank < rhs.rank }
}

/// Referral reasons from the multidisciplinary stress visual (seed 001), grouped by route.
public enum ReasonCode: String, CaseIterable, Sendable {
    // huisarts -> bedrijfsarts
    case werkverzuim, arbeidsconflict
    case stressgerelateerdeKlachten = "stressgerelateerde-klachten"
    case verbandKlachtenWerk = "verband-klachten-werk"
    // bedrijfsarts -> huisarts
    case somatischeComorbiditeit = "somatische-comorbiditeit"
    case inschakelenSpecialistischeZorg = "inschakelen-specialistische-zorg"
    case beleidNietInLijn = "beleid-niet-in-lijn"
    case oorzaakPrive = "oorzaak-prive"
    // huisarts / bedrijfsarts -> ggz
    case stagnatieHerstel = "stagnatie-herstel"
    case interventiesZonderEffect = "interventies-zonder-effect"
    case ernstigDisfunctioneren = "ernstig-disfunctioneren"
    case psychiatrischeComorbiditeit = "psychiatrische-comorbiditeit"
    case vermoedenSuicidaliteit = "vermoeden-suicidaliteit"
    // ggz -> huisarts
    case behandelingAfgerond = "behandeling-afgerond"
    case stabielChronisch = "stabiel-chronisch"
    case onvoldoendeEffect = "onvoldoende-effect"
    case medicatiecontrole
    case somatischeDiagnostiek = "somatische-diagnostiek"
    case medebeoordeling
    case geenDsmClassificatie = "geen-dsm-classificatie"
    // ggz -> bedrijfsarts
    case werkgerelateerdeKlachten = "werkgerelateerde-klachten"
    case langdurigZonderEffect = "langdurig-zonder-effect"
    case remissie
    // bedrijfsarts -> werkgever-georganiseerde zorg
    case aanhoudendeKlachten = "aanhoudende-klachten"
    case psychischeOndersteuning = "psychische-ondersteuning"
    case socialeLoopbaanFinancieleProblemen = "sociale-loopbaan-financiele-problemen"
    case conflict
    // sociaal domein
    case huisvesting, financien
    case geenDagbesteding = "geen-dagbesteding"
    case eenzaamheid
    case relatieOpvoeding = "relatie-opvoeding"
    // to the centre's programme
    case stressBurnoutProgramma = "stress-burnout-programma"
}

/// HASP "Kern" of a referral.
public struct ReferralCore: Hashable, Sendable {
    public var reasons: [ReasonCode]
    public var question: String
    public var episodes: [IcpcCode]
    public var history: String?
    public var medication: String?
    public var fourDKL: FourDKL?
    public var phq9: PHQ9?

    public init(
        reasons: [ReasonCode], question: String, episodes: [IcpcCode] = [], history: String? = nil,
        medication: String? = nil, fourDKL: FourDKL? = nil, phq9: PHQ9? = nil
    ) {
        self.reasons = reasons
        self.question = question
        self.episodes = episodes
        self.history = history
        self.medication = medication
        self.fourDKL = fourDKL
        self.phq9 = phq9
    }
}

/// The client's recorded consent: which recipient types may receive feedback.
public struct Consent: Hashable, Sendable {
    public var recordedOn: CalendarDate
    public var allowed: [RecipientType]

    public init(recordedOn: CalendarDate, allowed: [RecipientType]) {
        self.recordedOn = recordedOn
        self.allowed = allowed
    }

    public func allows(_ type: RecipientType) -> Bool { allowed.contains(type) }
}

/// Verwijzing: a request for consultation or a referral, HASP style.
public struct Referral: Hashable, Sendable {
    public var envelope: Envelope
    public var patient: Patient
    public var requestType: RequestType
    public var urgency: Urgency
    /// The message this one forwards (a bedrijfsarts referral routed through the GP).
    public var forwards: MessageID?
    public var core: ReferralCore
    public var consent: Consent
    public var attachments: [Attachment]

    public init(
        envelope: Envelope, patient: Patient, requestType: RequestType, urgency: Urgency, forwards: MessageID? = nil,
        core: ReferralCore, consent: Consent, attachments: [Attachment] = []
    ) {
        self.envelope = envelope
        self.patient = patient
        self.requestType = requestType
        self.urgency = urgency
        self.forwards = forwards
        self.core = core
        self.consent = consent
        self.attachments = attachments
    }
}

/// The phases of a client's trajectory (seed 000); a return letter follows each.
public enum Phase: String, CaseIterable, Sendable {
    case intake
    case fase1 = "fase-1"
    case fase2 = "fase-2"
    case fase3 = "fase-3"
    case afsluiting

    /// Longest period a letter for this phase may cover: about twice the programme's
    /// nominal length (intake 1–2 weeks, fase 1 4 weeks, fase 2 8, fase 3 12–16), and a
    /// year for the closing letter, which covers the whole trajectory.
    public var maximumPeriodDays: Int {
        switch self {
        case .intake: return 6 * 7
        case .fase1: return 8 * 7
        case .fase2: return 16 * 7
        case .fase3: return 32 * 7
        case .afsluiting: return 52 * 7
        }
    }
}

public struct Period: Hashable, Sendable {
    public var start: CalendarDate
    public var end: CalendarDate

    public init(start: CalendarDate, end: CalendarDate) {
        self.start = start
        self.end = end
    }

    public var lengthInDays: Int { start.days(until: end) + 1 }
}

/// One SOEP line; S and E may carry ICPC codes, O and P never do.
public struct SoepLine: Hashable, Sendable {
    public var text: String
    public var icpc: [IcpcCode]

    public init(text: String, icpc: [IcpcCode] = []) {
        self.text = text
        self.icpc = icpc
    }
}

public struct Soep: Hashable, Sendable {
    public var subjective: SoepLine
    public var objective: String
    public var evaluation: SoepLine
    public var plan: String

    public init(subjective: SoepLine, objective: String, evaluation: SoepLine, plan: String) {
        self.subjective = subjective
        self.objective = objective
        self.evaluation = evaluation
        self.plan = plan
    }
}

public struct Measurements: Hashable, Sendable {
    public var fourDKL: FourDKL?
    public var phq9: PHQ9?
    public var positiveHealth: PositiveHealth?

    public init(fourDKL: FourDKL? = nil, phq9: PHQ9? = nil, positiveHealth: PositiveHealth? = nil) {
        self.fourDKL = fourDKL
        self.phq9 = phq9
        self.positiveHealth = positiveHealth
    }

    public var isEmpty: Bool { fourDKL == nil && phq9 == nil && positiveHealth == nil }
}

public enum GoalStatus: String, CaseIterable, Sendable {
    case open
    case inProgress = "in-progress"
    case achieved, adjusted, stopped
}

/// A SMART goal of the personal plan.
public struct Goal: Hashable, Sendable {
    public var description: String
    public var measure: String
    public var targetDate: CalendarDate
    public var status: GoalStatus

    public init(description: String, measure: String, targetDate: CalendarDate, status: GoalStatus) {
        self.description = description
        self.measure = measure
        self.targetDate = targetDate
        self.status = status
    }
}

/// Terugkoppeling: the SOEP letter to the referrer after intake, a phase, or closure.
public struct ReturnLetter: Hashable, Sendable {
    public var envelope: Envelope
    public var patient: Patient
    public var phase: Phase
    public var period: Period
    /// Set on a correction: the letter this one replaces.
    public var corrects: MessageID?
    public var soep: Soep
    public var measurements: Measurements
    public var goals: [Goal]
    public var adviceToReferrer: String
    public var nextStep: String

    public init(
        envelope: Envelope, patient: Patient, phase: Phase, period: Period, corrects: MessageID? = nil, soep: Soep,
        measurements: Measurements = Measurements(), goals: [Goal] = [], adviceToReferrer: String, nextStep: String
    ) {
        self.envelope = envelope
        self.patient = patient
        self.phase = phase
        self.period = period
        self.corrects = corrects
        self.soep = soep
        self.measurements = measurements
        self.goals = goals
        self.adviceToReferrer = adviceToReferrer
        self.nextStep = nextStep
    }
}

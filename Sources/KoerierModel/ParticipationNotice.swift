public enum ParticipationStatus: String, CaseIterable, Sendable {
    case aangemeld, actief, gepauzeerd, afgerond, gestopt
}

/// The participant as an employer or social team may know them: a name and an employee
/// number, never a BSN or birth date.
public struct Participant: Hashable, Sendable {
    public var name: PersonName
    public var employeeNumber: String?

    public init(name: PersonName, employeeNumber: String? = nil) {
        self.name = name
        self.employeeNumber = employeeNumber
    }
}

/// A numbered block of the programme. Deliberately no phase name: "fase-3" would tell an
/// employer the burn-out is severe.
public struct ProgrammeBlock: Hashable, Sendable {
    public var sequence: Int
    public var start: CalendarDate
    public var end: CalendarDate?

    public init(sequence: Int, start: CalendarDate, end: CalendarDate? = nil) {
        self.sequence = sequence
        self.start = start
        self.end = end
    }
}

public struct Attendance: Hashable, Sendable {
    public var planned: Int
    public var attended: Int

    public init(planned: Int, attended: Int) {
        self.planned = planned
        self.attended = attended
    }
}

/// Work-related advice the client agreed to share, with the date of that agreement.
public struct AgreedAdvice: Hashable, Sendable {
    public var text: String
    public var agreedOn: CalendarDate

    public init(text: String, agreedOn: CalendarDate) {
        self.text = text
        self.agreedOn = agreedOn
    }
}

/// Deelnamebericht for an employer or the social domain: participation only, no clinical content.
public struct ParticipationNotice: Hashable, Sendable {
    public var envelope: Envelope
    public var participant: Participant
    public var status: ParticipationStatus
    public var programme: [ProgrammeBlock]
    public var attendance: Attendance
    public var workAdvice: [AgreedAdvice]

    public init(
        envelope: Envelope, participant: Participant, status: ParticipationStatus, programme: [ProgrammeBlock],
        attendance: Attendance, workAdvice: [AgreedAdvice] = []
    ) {
        self.envelope = envelope
        self.participant = participant
        self.status = status
        self.programme = programme
        self.attendance = attendance
        self.workAdvice = workAdvice
    }
}

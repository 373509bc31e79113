import Foundation
import KoerierModel
import KoerierTestSupport
import Testing

/// Each case breaks exactly one rule of a valid fixture and expects exactly that violation.
@Suite struct RuleTests {
    private func violations(_ message: Message) -> [String] {
        message.ruleViolations().map { "\($0.rule) @ \($0.field)" }
    }

    @Test(arguments: Fixtures.allKinds)
    func fixturesAreSound(_ message: Message) {
        #expect(message.ruleViolations().isEmpty)
    }

    @Test func periodMustNotEndBeforeItStarts() {
        var letter = Fixtures.returnLetter()
        letter.period = Period(start: Fixtures.date("2026-05-01"), end: Fixtures.date("2026-04-30"))
        #expect(violations(.returnLetter(letter)) == ["period-order @ Period/End"])
    }

    @Test(arguments: [(Phase.intake, 42), (.fase1, 56), (.fase2, 112), (.fase3, 224), (.afsluiting, 364)])
    func phasePeriodHasAnUpperBound(_ phase: Phase, _ maximum: Int) {
        var letter = Fixtures.returnLetter()
        letter.phase = phase
        let end = Fixtures.date("2026-06-05")
        letter.period = Period(start: end.adding(days: -(maximum - 1)), end: end)
        #expect(violations(.returnLetter(letter)).isEmpty)
        letter.period = Period(start: end.adding(days: -maximum), end: end)
        #expect(violations(.returnLetter(letter)) == ["phase-period @ Period"])
    }

    @Test func periodMayNotEndAfterTheLetterWasWritten() {
        var letter = Fixtures.returnLetter()
        letter.period.end = Fixtures.date("2026-06-09")
        #expect(violations(.returnLetter(letter)) == ["date-after-created @ Period/End"])
    }

    @Test func correctionsNameTheLetterTheyCorrect() {
        var letter = Fixtures.returnLetter()
        letter.envelope.documentKind = .terugkoppelingCorrectie
        #expect(violations(.returnLetter(letter)) == ["correction-link @ Envelope/DocumentKind"])
        letter.corrects = Fixtures.id("0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5")
        #expect(violations(.returnLetter(letter)).isEmpty)
        letter.envelope.documentKind = .terugkoppeling
        #expect(violations(.returnLetter(letter)) == ["correction-link @ Corrects"])
    }

    @Test func clinicalKindsNeverGoToEmployersOrTheSocialDomain() {
        for receiver in [Party(type: .werkgever, organisation: "HR"), Party(type: .sociaalDomein, organisation: "Wijkteam")] {
            var letter = Fixtures.returnLetter()
            letter.envelope.receiver = receiver
            #expect(violations(.returnLetter(letter)) == ["clinical-to-non-clinical @ Envelope/Receiver/Type"])
            var referral = Fixtures.referral()
            referral.envelope.receiver = receiver
            #expect(violations(.referral(referral)) == ["clinical-to-non-clinical @ Envelope/Receiver/Type"])
        }
    }

    @Test func participationNoticesGoOnlyToEmployersOrTheSocialDomain() {
        var notice = Fixtures.participationNotice()
        notice.envelope.receiver = Fixtures.gp
        #expect(violations(.participationNotice(notice)) == ["participation-receiver @ Envelope/Receiver/Type"])
    }

    @Test func documentKindMustFitTheMessage() {
        var letter = Fixtures.returnLetter()
        letter.envelope.documentKind = .verwijzing
        #expect(violations(.returnLetter(letter)) == ["document-kind @ Envelope/DocumentKind"])
    }

    @Test func suspectedSuicidalityIsUrgent() {
        var referral = Fixtures.referral()
        referral.core.reasons.append(.vermoedenSuicidaliteit)
        #expect(violations(.referral(referral)) == ["suicidality-urgent @ Urgency"])
        referral.urgency = .urgent
        #expect(violations(.referral(referral)).isEmpty)
    }

    @Test func supplementsAndCancellationsReferToTheReferral() {
        var referral = Fixtures.referral()
        referral.envelope.documentKind = .annulering
        #expect(violations(.referral(referral)) == ["follow-up-reference @ Envelope/InReplyTo"])
    }

    @Test func gpsAndMentalHealthProvidersCarryAnAGBCode() {
        var referral = Fixtures.referral()
        referral.envelope.sender.agb = nil
        #expect(violations(.referral(referral)) == ["agb-required @ Envelope/Sender/AGB"])
    }

    @Test func scoresOutsideTheInstrumentRangesAreNamed() {
        var letter = Fixtures.returnLetter()
        letter.measurements.phq9?.total = 28
        letter.measurements.fourDKL?.angst = -1
        letter.measurements.positiveHealth?.zingeving = 11
        #expect(
            Set(violations(.returnLetter(letter))) == [
                "score-range @ Measurements/PHQ9/Total", "score-range @ Measurements/FourDKL/Angst",
                "score-range @ Measurements/PositiveHealth/Zingeving",
            ])
    }

    @Test func blankTextIsNotText() {
        var letter = Fixtures.returnLetter()
        letter.soep.objective = " \n\t "
        #expect(violations(.returnLetter(letter)) == ["text-blank @ Soep/O/Text"])
    }

    @Test func duplicatesInConsentAndReasons() {
        var referral = Fixtures.referral()
        referral.consent.allowed.append(.huisarts)
        referral.core.reasons.append(.werkverzuim)
        #expect(Set(violations(.referral(referral))) == ["duplicate @ Consent/Allow[3]", "duplicate @ Core/Reasons/Reason[3]"])
    }

    @Test func attachmentSizeMustMatch() {
        var referral = Fixtures.referral()
        referral.attachments[0].declaredSize += 1
        #expect(violations(.referral(referral)) == ["attachment-size @ Attachments/Attachment[1]/@size"])
    }

    @Test func programmeBlocksAreNumberedChronologicalAndOnlyTheLastIsOpen() {
        var notice = Fixtures.participationNotice()
        notice.programme[1].sequence = 3
        #expect(violations(.participationNotice(notice)) == ["block-sequence @ Programme/Block[2]/@sequence"])
        notice = Fixtures.participationNotice()
        notice.programme[1].start = Fixtures.date("2026-04-01")
        #expect(violations(.participationNotice(notice)) == ["block-overlap @ Programme/Block[2]/Start"])
        notice = Fixtures.participationNotice()
        notice.programme[0].end = nil
        #expect(violations(.participationNotice(notice)) == ["open-block @ Programme/Block[1]/End"])
        notice = Fixtures.participationNotice()
        notice.attendance.attended = 25
        #expect(violations(.participationNotice(notice)) == ["attendance @ Attendance/Attended"])
    }

    @Test func receiptsAnswerTheMessageTheyNameAndComeAfterIt() {
        var receipt = Fixtures.receipt()
        receipt.envelope.inReplyTo = Fixtures.id("0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5")
        #expect(violations(.receipt(receipt)) == ["receipt-reply @ Envelope/InReplyTo"])
        receipt = Fixtures.receipt()
        receipt.receivedAt = Fixtures.timestamp("2026-06-08T09:15:01Z")
        #expect(violations(.receipt(receipt)) == ["received-after-created @ ReceivedAt"])
    }

    @Test func birthDateIsInThePastAndPlausible() {
        var letter = Fixtures.returnLetter()
        letter.patient.birthDate = Fixtures.date("2027-01-01")
        #expect(violations(.returnLetter(letter)) == ["date-after-created @ Patient/BirthDate"])
        letter.patient.birthDate = Fixtures.date("1890-01-01")
        #expect(violations(.returnLetter(letter)) == ["birth-date-range @ Patient/BirthDate"])
    }

    @Test func datesInAReferralMayNotLieAfterItsCreation() {
        let tomorrow = Fixtures.date("2026-06-09")
        var referral = Fixtures.referral()
        referral.patient.birthDate = tomorrow
        #expect(violations(.referral(referral)) == ["date-after-created @ Patient/BirthDate"])
        referral = Fixtures.referral()
        referral.consent.recordedOn = tomorrow
        #expect(violations(.referral(referral)) == ["date-after-created @ Consent/RecordedOn"])
        referral = Fixtures.referral()
        referral.core.phq9?.measuredOn = tomorrow
        #expect(violations(.referral(referral)).map { $0.hasPrefix("date-after-created @ Core/Measurements/PHQ9") } == [true])
    }

    @Test func gpAndMentalHealthPartiesCarryTheirAGB() {
        var referral = Fixtures.referral()
        referral.envelope.sender.agb = nil
        #expect(violations(.referral(referral)) == ["agb-required @ Envelope/Sender/AGB"])
        var letter = Fixtures.returnLetter()
        letter.envelope.receiver = Party(type: .ggz, organisation: "GGZ Voorbeeld")
        #expect(violations(.returnLetter(letter)) == ["agb-required @ Envelope/Receiver/AGB"])
    }

    @Test(arguments: [DocumentKind.aanvulling, .annulering])
    func followUpsNameTheReferralTheyBelongTo(_ kind: DocumentKind) {
        var referral = Fixtures.referral()
        referral.envelope.documentKind = kind
        #expect(violations(.referral(referral)) == ["follow-up-reference @ Envelope/InReplyTo"])
        referral.envelope.inReplyTo = Fixtures.id("9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")
        #expect(violations(.referral(referral)).isEmpty)
    }

    @Test func noMessageAnswersForwardsOrCorrectsItself() {
        var letter = Fixtures.returnLetter()
        letter.envelope.inReplyTo = letter.envelope.messageID
        #expect(violations(.returnLetter(letter)) == ["reply-to-self @ Envelope/InReplyTo"])

        var referral = Fixtures.referral()
        referral.forwards = referral.envelope.messageID
        #expect(violations(.referral(referral)) == ["forwards-self @ Forwards"])

        letter = Fixtures.returnLetter()
        letter.envelope.documentKind = .terugkoppelingCorrectie
        letter.corrects = letter.envelope.messageID
        #expect(violations(.returnLetter(letter)) == ["corrects-self @ Corrects"])
    }
}

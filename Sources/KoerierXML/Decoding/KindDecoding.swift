import Foundation
import KoerierModel

extension Element {
    func referral() throws -> Referral {
        let core = try child("Core")
        let measurements = core.optional("Measurements")
        let consent = try child("Consent")
        return Referral(
            envelope: try envelope(),
            patient: try patient(),
            requestType: try child("RequestType").choice(),
            urgency: try child("Urgency").choice(),
            forwards: try optional("Forwards")?.value { try MessageID($0) },
            core: ReferralCore(
                reasons: try core.child("Reasons").all("Reason").map { try $0.choice() },
                question: try core.child("Question").text,
                episodes: try core.optional("Episodes")?.icpcCodes() ?? [],
                history: core.optionalText("History"),
                medication: core.optionalText("Medication"),
                fourDKL: try measurements?.optional("FourDKL")?.fourDKL(),
                phq9: try measurements?.optional("PHQ9")?.phq9()
            ),
            consent: Consent(
                recordedOn: try consent.child("RecordedOn").date(),
                allowed: try consent.all("Allow").map { try $0.choice() }),
            attachments: try optional("Attachments")?.all("Attachment").map { try $0.attachment() } ?? []
        )
    }

    func attachment() throws -> Attachment {
        guard let data = Data(base64Encoded: collapsedText, options: .ignoreUnknownCharacters) else {
            throw problem("schema", "attachment is not valid base64")
        }
        guard let size = Int(xsdTrimmed(try attribute("size"))) else {
            throw problem("schema", "attachment size is not an integer", field: attributePath("size"))
        }
        return Attachment(
            mimeType: try convert(try attribute("mimeType")) {
                guard let type = AttachmentMimeType(rawValue: $0) else {
                    throw FieldFormatError(rule: "schema", message: "unknown MIME type")
                }
                return type
            },
            fileName: try attribute("fileName"), data: data, declaredSize: size)
    }

    func returnLetter() throws -> ReturnLetter {
        let period = try child("Period")
        let soep = try child("Soep")
        let measurements = optional("Measurements")
        return ReturnLetter(
            envelope: try envelope(),
            patient: try patient(),
            phase: try child("Phase").choice(),
            period: Period(start: try period.child("Start").date(), end: try period.child("End").date()),
            corrects: try optional("Corrects")?.value { try MessageID($0) },
            soep: Soep(
                subjective: SoepLine(text: try soep.child("S").child("Text").text, icpc: try soep.child("S").icpcCodes()),
                objective: try soep.child("O").child("Text").text,
                evaluation: SoepLine(text: try soep.child("E").child("Text").text, icpc: try soep.child("E").icpcCodes()),
                plan: try soep.child("P").child("Text").text
            ),
            measurements: Measurements(
                fourDKL: try measurements?.optional("FourDKL")?.fourDKL(),
                phq9: try measurements?.optional("PHQ9")?.phq9(),
                positiveHealth: try measurements?.optional("PositiveHealth")?.positiveHealth()
            ),
            goals: try optional("Goals")?.all("Goal").map { goal in
                Goal(
                    description: try goal.child("Description").text, measure: try goal.child("Measure").text,
                    targetDate: try goal.child("TargetDate").date(), status: try goal.child("Status").choice())
            } ?? [],
            adviceToReferrer: try child("AdviceToReferrer").text,
            nextStep: try child("NextStep").text
        )
    }

    func participationNotice() throws -> ParticipationNotice {
        let participant = try child("Participant")
        let attendance = try child("Attendance")
        return ParticipationNotice(
            envelope: try envelope(),
            participant: Participant(
                name: try participant.child("Name").personName(),
                employeeNumber: participant.optionalText("EmployeeNumber")),
            status: try child("Status").choice(),
            programme: try child("Programme").all("Block").map { block in
                guard let sequence = Int(xsdTrimmed(try block.attribute("sequence"))) else {
                    throw block.problem("schema", "block sequence is not an integer")
                }
                return ProgrammeBlock(
                    sequence: sequence, start: try block.child("Start").date(),
                    end: try block.optional("End")?.date())
            },
            attendance: Attendance(
                planned: try attendance.child("Planned").integer(),
                attended: try attendance.child("Attended").integer()),
            workAdvice: try all("WorkAdvice").map { AgreedAdvice(text: $0.text, agreedOn: try $0.dateAttribute("agreedOn")) }
        )
    }

    func receipt() throws -> Receipt {
        let answered = try child("AnsweredMessage")
        let outcomeElement = try child("Outcome")
        let outcome: ReceiptOutcome
        if let rejected = outcomeElement.optional("Rejected") {
            outcome = .rejected(
                code: try rejected.convert(try rejected.attribute("code"), field: "Outcome/Rejected/@code") {
                    guard let code = RejectionCode(rawValue: $0) else {
                        throw FieldFormatError(rule: "schema", message: "unknown rejection code")
                    }
                    return code
                },
                text: rejected.text)
        } else {
            _ = try outcomeElement.child("Accepted")
            outcome = .accepted
        }
        return Receipt(
            envelope: try envelope(),
            answeredMessageID: try answered.child("MessageId").value { try MessageID($0) },
            answeredDigest: try answered.child("Sha256").value { try SHA256Hex($0) },
            outcome: outcome,
            receivedAt: try child("ReceivedAt").timestamp()
        )
    }
}

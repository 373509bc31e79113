import KoerierModel

extension XMLWriter {
    func referral(_ referral: Referral) throws {
        try envelope(referral.envelope)
        try patient(referral.patient)
        try leaf("RequestType", referral.requestType.rawValue)
        try leaf("Urgency", referral.urgency.rawValue)
        try leaf("Forwards", referral.forwards?.value)
        let core = referral.core
        try element("Core") {
            try element("Reasons") {
                for reason in core.reasons { try leaf("Reason", reason.rawValue) }
            }
            try leaf("Question", core.question)
            if !core.episodes.isEmpty { try element("Episodes") { try icpc(core.episodes) } }
            try leaf("History", core.history)
            try leaf("Medication", core.medication)
            if core.fourDKL != nil || core.phq9 != nil {
                try element("Measurements") {
                    try fourDKL(core.fourDKL)
                    try phq9(core.phq9)
                }
            }
        }
        try element("Consent") {
            try leaf("RecordedOn", referral.consent.recordedOn.description)
            for type in referral.consent.allowed { try leaf("Allow", type.rawValue) }
        }
        if !referral.attachments.isEmpty {
            try element("Attachments") {
                for attachment in referral.attachments {
                    try leaf(
                        "Attachment", attachment.data.base64EncodedString(),
                        attributes: [
                            ("mimeType", attachment.mimeType.rawValue), ("fileName", attachment.fileName),
                            ("size", String(attachment.declaredSize)),
                        ])
                }
            }
        }
    }

    func returnLetter(_ letter: ReturnLetter) throws {
        try envelope(letter.envelope)
        try patient(letter.patient)
        try leaf("Phase", letter.phase.rawValue)
        try element("Period") {
            try leaf("Start", letter.period.start.description)
            try leaf("End", letter.period.end.description)
        }
        try leaf("Corrects", letter.corrects?.value)
        try element("Soep") {
            try element("S") {
                try leaf("Text", letter.soep.subjective.text)
                try icpc(letter.soep.subjective.icpc)
            }
            try element("O") { try leaf("Text", letter.soep.objective) }
            try element("E") {
                try leaf("Text", letter.soep.evaluation.text)
                try icpc(letter.soep.evaluation.icpc)
            }
            try element("P") { try leaf("Text", letter.soep.plan) }
        }
        if !letter.measurements.isEmpty {
            try element("Measurements") {
                try fourDKL(letter.measurements.fourDKL)
                try phq9(letter.measurements.phq9)
                try positiveHealth(letter.measurements.positiveHealth)
            }
        }
        if !letter.goals.isEmpty {
            try element("Goals") {
                for goal in letter.goals {
                    try element("Goal") {
                        try leaf("Description", goal.description)
                        try leaf("Measure", goal.measure)
                        try leaf("TargetDate", goal.targetDate.description)
                        try leaf("Status", goal.status.rawValue)
                    }
                }
            }
        }
        try leaf("AdviceToReferrer", letter.adviceToReferrer)
        try leaf("NextStep", letter.nextStep)
    }

    func participationNotice(_ notice: ParticipationNotice) throws {
        try envelope(notice.envelope)
        try element("Participant") {
            try personName(notice.participant.name)
            try leaf("EmployeeNumber", notice.participant.employeeNumber)
        }
        try leaf("Status", notice.status.rawValue)
        try element("Programme") {
            for block in notice.programme {
                try element("Block", attributes: [("sequence", String(block.sequence))]) {
                    try leaf("Start", block.start.description)
                    try leaf("End", block.end?.description)
                }
            }
        }
        try element("Attendance") {
            try leaf("Planned", String(notice.attendance.planned))
            try leaf("Attended", String(notice.attendance.attended))
        }
        for advice in notice.workAdvice {
            try leaf("WorkAdvice", advice.text, attributes: [("agreedOn", advice.agreedOn.description)])
        }
    }

    func receipt(_ receipt: Receipt) throws {
        try envelope(receipt.envelope)
        try element("AnsweredMessage") {
            try leaf("MessageId", receipt.answeredMessageID.value)
            try leaf("Sha256", receipt.answeredDigest.value)
        }
        try element("Outcome") {
            switch receipt.outcome {
            case .accepted:
                try element("Accepted") {}
            case .rejected(let code, let text):
                try leaf("Rejected", text, attributes: [("code", code.rawValue)])
            }
        }
        try leaf("ReceivedAt", receipt.receivedAt.description)
    }
}

extension RuleCheck {
    mutating func checkReferral(_ referral: Referral) {
        let created = referral.envelope.created
        checkPatient(referral.patient, created: created)
        if referral.envelope.documentKind == .aanvulling || referral.envelope.documentKind == .annulering {
            require(
                referral.envelope.inReplyTo != nil, "Envelope/InReplyTo", "follow-up-reference",
                "a \(referral.envelope.documentKind.rawValue) must name the referral it belongs to in InReplyTo")
        }
        // Suspected suicidality is the explicit urgency criterion: it must jump the queue.
        if referral.core.reasons.contains(.vermoedenSuicidaliteit) {
            require(
                referral.urgency == .urgent, "Urgency", "suicidality-urgent",
                "this referral reason requires urgency 'urgent'")
        }
        if let forwards = referral.forwards {
            require(forwards != referral.envelope.messageID, "Forwards", "forwards-self", "a referral cannot forward itself")
        }
        requireNoDuplicates(referral.core.reasons, { "Core/Reasons/Reason[\($0)]" }, what: "reason")
        requireText(referral.core.question, "Core/Question")
        if let scores = referral.core.fourDKL { checkFourDKL(scores, "Core/Measurements/FourDKL", created: created) }
        if let scores = referral.core.phq9 { checkPHQ9(scores, "Core/Measurements/PHQ9", created: created) }
        requireNotAfterCreated(referral.consent.recordedOn, created, "Consent/RecordedOn", what: "consent date")
        requireNoDuplicates(referral.consent.allowed, { "Consent/Allow[\($0)]" }, what: "recipient type")
        for (index, attachment) in referral.attachments.enumerated() {
            let field = "Attachments/Attachment[\(index + 1)]"
            require(
                attachment.data.count <= Attachment.maxBytes, field, "attachment-size",
                "attachment is \(attachment.data.count) bytes; the limit is \(Attachment.maxBytes)")
            require(
                attachment.declaredSize == attachment.data.count, field + "/@size", "attachment-size",
                "attachment declares size \(attachment.declaredSize) but holds \(attachment.data.count) bytes")
        }
    }
}

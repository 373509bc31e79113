extension RuleCheck {
    mutating func checkReceipt(_ receipt: Receipt) {
        require(
            receipt.envelope.inReplyTo == receipt.answeredMessageID, "Envelope/InReplyTo", "receipt-reply",
            "a receipt's InReplyTo must equal AnsweredMessage/MessageId (\(receipt.answeredMessageID))")
        require(
            receipt.receivedAt.instant <= receipt.envelope.created.instant, "ReceivedAt", "received-after-created",
            "the message cannot be received after its receipt was created")
        if case .rejected(_, let text) = receipt.outcome {
            requireText(text, "Outcome/Rejected")
        }
    }
}

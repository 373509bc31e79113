extension RuleCheck {
    mutating func checkParticipationNotice(_ notice: ParticipationNotice) {
        let receiver = notice.envelope.receiver.type
        require(
            receiver == .werkgever || receiver == .sociaalDomein, "Envelope/Receiver/Type", "participation-receiver",
            "a participation notice is for a werkgever or sociaal-domein, not a \(receiver.rawValue)")
        require(
            notice.attendance.attended <= notice.attendance.planned, "Attendance/Attended", "attendance",
            "attended sessions exceed planned sessions")

        var previousEnd: CalendarDate?
        for (index, block) in notice.programme.enumerated() {
            let path = "Programme/Block[\(index + 1)]"
            require(
                block.sequence == index + 1, path + "/@sequence", "block-sequence",
                "block \(index + 1) is numbered \(block.sequence); blocks are numbered 1, 2, 3 in order")
            if let end = block.end {
                require(block.start <= end, path + "/End", "period-order", "block ends before it starts")
            } else {
                require(
                    index == notice.programme.count - 1, path + "/End", "open-block",
                    "only the last block may be open (without End)")
            }
            if let previousEnd {
                require(
                    block.start > previousEnd, path + "/Start", "block-overlap",
                    "block starts before the previous block ended")
            }
            previousEnd = block.end ?? block.start
        }
        for (index, advice) in notice.workAdvice.enumerated() {
            let path = "WorkAdvice[\(index + 1)]"
            requireText(advice.text, path)
            requireNotAfterCreated(advice.agreedOn, notice.envelope.created, path + "/@agreedOn", what: "date of the client's agreement")
        }
    }
}

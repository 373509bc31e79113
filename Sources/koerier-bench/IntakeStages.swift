import Foundation
import KoerierModel
import KoerierSecurity
import KoerierStore
import KoerierXML

/// Where an accepted letter's processor time goes: the intake's steps run one after the
/// other on one thread for distinct referrals, each timed with the thread's CPU clock (not
/// wall time, so a flush's wait is not counted). The steps are those `ReceiptingResponder`
/// takes; the rest of a letter's cost (TLS, HTTP, the clients, handing work between
/// threads) is the process's CPU per letter minus their sum.
struct IntakeStages {
    var decode = 0.0, verify = 0.0, duplicateCheck = 0.0, receipt = 0.0, store = 0.0
    var total: Double { decode + verify + duplicateCheck + receipt + store }

    /// Microseconds per letter for each step, over `referrals` (distinct, never sent before).
    static func measure(_ referrals: [Data], parts: BenchLoopback.IntakeParts, store: any MessageStore, codec: MessageCodec) throws
        -> IntakeStages
    {
        var sums = IntakeStages()
        for bytes in referrals {
            let (message, document) = try timed(&sums.decode) { try codec.decodeKeepingDocument(bytes) }
            let envelope = message.envelope
            let signer = try timed(&sums.verify) {
                let signer = try parts.verifier.verify(document)
                try parts.verifier.requireSender(envelope.sender, matches: signer)
                return signer
            }
            guard try timed(&sums.duplicateCheck, { try store.issuedReceipt(for: envelope.messageID.value) }) == nil else {
                throw CommandFailure("a stage referral was already received")
            }
            let acceptance = try timed(&sums.receipt) {
                let us = try parts.signing.ownParty(policy: parts.verifier.identities, as: envelope.receiver)
                return try parts.signing.receipt(answering: envelope, bytes: bytes, outcome: .accepted, from: us)
            }
            try timed(&sums.store) {
                try parts.processor.accept(message, bytes: bytes, sender: signer.organisation ?? signer.subject, receipt: acceptance)
            }
        }
        let count = Double(max(1, referrals.count))
        return IntakeStages(
            decode: sums.decode / count, verify: sums.verify / count, duplicateCheck: sums.duplicateCheck / count,
            receipt: sums.receipt / count, store: sums.store / count)
    }

    var json: [String: Double] {
        ["decode": decode, "verify": verify, "duplicate_check": duplicateCheck, "receipt": receipt, "store": store].mapValues {
            ($0 * 10).rounded() / 10
        }
    }

    private static func timed<T>(_ sum: inout Double, _ body: () throws -> T) rethrows -> T {
        let start = cpuSeconds(CLOCK_THREAD_CPUTIME_ID)
        defer { sum += (cpuSeconds(CLOCK_THREAD_CPUTIME_ID) - start) * 1e6 }
        return try body()
    }
}

/// Processor time in seconds on `clock`: CLOCK_THREAD_CPUTIME_ID for the calling thread,
/// CLOCK_PROCESS_CPUTIME_ID for all the process's threads.
func cpuSeconds(_ clock: clockid_t) -> Double {
    var time = timespec()
    clock_gettime(clock, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

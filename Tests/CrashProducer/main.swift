// Test helper for the crash test (never shipped): enqueues as fast as it can and prints
// each message id only after its enqueue returned, until it is killed.
// Arguments: STORE_PATH KEY_FILE [MAX_IDS] (with MAX_IDS it exits 0 after that many)
import Foundation
import KoerierModel
import KoerierStore

let arguments = CommandLine.arguments
let store = try MessageStores.embedded(path: arguments[1], keys: try PayloadKeyRing.load(file: URL(fileURLWithPath: arguments[2])))
let context = AuditContext(actor: "crash-producer", accessPoint: "crash-test")
let transaction = try TransactionID("ZD20260302007")
let limit = arguments.count > 3 ? Int(arguments[3]) ?? Int.max : Int.max
var printed = 0
while printed < limit {
    let id = MessageID.generate()
    let message = OutboundMessage(
        messageID: id, kind: .returnLetter, recipientID: "gp", recipientType: .huisarts,
        transactionID: transaction, urgency: .routine, payload: Data("payload of \(id.value)".utf8))
    do {
        _ = try store.enqueue(message, now: Date(), context: context)
    } catch {
        // A refused enqueue is reported and ends the run: exit 3, the error on stderr.
        FileHandle.standardError.write(Data("enqueue failed: \(error)\n".utf8))
        exit(3)
    }
    // Unbuffered: the id is written only after its enqueue returned.
    FileHandle.standardOutput.write(Data((id.value + "\n").utf8))
    printed += 1
}

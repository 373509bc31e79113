// Test helper for the crash test (never shipped): enqueues as fast as it can and prints
// each message id only after its enqueue returned, until it is killed.
// Arguments: STORE_PATH KEY_FILE
import Foundation
import KoerierModel
import KoerierStore

let arguments = CommandLine.arguments
let store = try SQLiteMessageStore(path: arguments[1], keys: try PayloadKeyRing.load(file: URL(fileURLWithPath: arguments[2])))
let context = AuditContext(actor: "crash-producer", accessPoint: "crash-test")
let transaction = try TransactionID("ZD20260302007")
while true {
    let id = MessageID.generate()
    let message = OutboundMessage(
        messageID: id, kind: .returnLetter, recipientID: "gp", recipientType: .huisarts,
        transactionID: transaction, urgency: .routine, payload: Data("payload of \(id.value)".utf8))
    _ = try store.enqueue(message, now: Date(), context: context)
    // Unbuffered: the id is written only after its enqueue returned.
    FileHandle.standardOutput.write(Data((id.value + "\n").utf8))
}

import ArgumentParser
import Foundation
import KoerierDelivery
import KoerierStore

struct DeliverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliver",
        abstract: "Deliver due outbound records: adapter per recipient type, then HTTPS (mutual TLS) or S/MIME mail.",
        discussion: """
            Leases due records (urgent first), lets the recipient type's adapter decide what may \
            be sent, sends it, and records the result: acknowledged (a verified receipt), \
            delivered, retrying (with backoff), dead (refused, or out of attempts) or blocked \
            (no consent, no S/MIME certificate). Every attempt is in the audit log. With --once \
            it handles what is due now and exits; otherwise it runs until SIGTERM or SIGINT and \
            finishes the transfers in flight first.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Handle the records due now, then exit.")
    var once = false

    func run() async throws {
        let worker: DeliveryWorker
        do {
            let (configuration, codec) = try global.loadCodec()
            let (_, store) = try global.openStore(configuration)
            let parts = try DeliveryAssembly.parts(configuration: configuration, store: store, codec: codec)
            worker = DeliveryAssembly.worker(
                configuration: configuration, parts: parts, owner: "deliver@\(ProcessInfo.processInfo.hostName):\(getpid())")
        } catch let failure as CommandFailure {
            Output.error("koerier: \(failure.description)")
            throw failure.exitCode
        } catch {
            Output.error("koerier: \(error)")
            throw ExitCode.configurationError
        }
        if once {
            let report: DeliveryReport
            do {
                report = try await worker.deliverDue()
            } catch {
                Output.error("koerier: \(error)")
                throw ExitCode.failure
            }
            let summary = report.handled.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
            print(report.total == 0 ? "nothing due" : "handled \(report.total): " + summary.joined(separator: ", "))
            return
        }
        let stop = StopSignal()
        do {
            try await worker.run { stop.requested }
        } catch {
            Output.error("koerier: \(error)")
            throw ExitCode.failure
        }
        print("stopped: transfers in flight finished")
    }
}

/// SIGTERM/SIGINT ask the loop to stop after the current round (no transfer is cut off).
final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var sources: [DispatchSourceSignal] = []

    init() {
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.request() }
            source.resume()
            sources.append(source)
        }
    }

    private func request() {
        lock.lock()
        stopped = true
        lock.unlock()
    }

    var requested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }
}

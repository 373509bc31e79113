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
            (no consent, no S/MIME certificate). Every attempt is in the audit log. Each recipient \
            has its own lane and circuit, so a hung partner holds only its own letters. With --once \
            it handles what is due now and exits; otherwise it runs until SIGTERM or SIGINT and \
            waits a bounded time for the transfers in flight (a second signal exits at once). One \
            serve or deliver per store: a second refuses to start.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Handle the records due now, then exit.")
    var once = false

    func run() async throws {
        let worker: DeliveryWorker
        let daemonLock: DaemonLock?
        do {
            let (configuration, codec) = try global.loadCodec()
            try DaemonFileCheck.run(configuration: configuration) { Output.error("koerier: warning: \($0)") }
            let (_, store) = try global.openStore(configuration)
            do {
                // A shared store has several daemons; the embedded one, one.
                daemonLock =
                    ConfiguredStore.isShared(configuration)
                    ? nil : try DaemonLock.claim(storePath: configuration.storePath.path, role: "deliver")
            } catch {
                throw CommandFailure("\(error)")
            }
            let parts = try DeliveryAssembly.parts(configuration: configuration, store: store, codec: codec)
            worker = DeliveryAssembly.worker(
                configuration: configuration, parts: parts, owner: "deliver@\(configuration.instanceName):\(getpid())")
        } catch let failure as CommandFailure {
            Output.error("koerier: \(failure.description)")
            throw failure.exitCode
        } catch {
            Output.error("koerier: \(error)")
            throw ExitCode.configurationError
        }
        defer { withExtendedLifetime(daemonLock) {} }
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
        let signals = ShutdownSignals(
            onFirst: { worker.stop() }, onSecond: { Output.error("koerier: second signal: exiting without waiting for transfers") })
        do {
            defer { withExtendedLifetime(signals) {} }
            try await worker.run { false }
        } catch {
            Output.error("koerier: \(error)")
            throw ExitCode.failure
        }
        print("stopped: transfers in flight finished or left to their leases")
    }
}

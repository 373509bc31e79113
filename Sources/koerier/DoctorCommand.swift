import ArgumentParser
import Foundation
import KoerierDelivery

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract:
            "Check the set-up: configuration, file owners and modes, certificates, CRL, store, clock, a TLS handshake with each partner.",
        discussion: """
            Each problem comes with its fix. Nothing is sent to partners (the handshake stops once \
            connected) and nothing in the store changes. Exit 0 when all is well, 1 when \
            something needs attention, 2 when the configuration cannot be read.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputFormat

    func run() throws {
        try Output.reportingFailures {
            let configuration = try global.loadConfiguration()
            let findings = Doctor.examine(configuration: configuration) { try global.openStore(configuration).1 }
            if output.json {
                try JSONOutput.print(
                    findings.map { finding -> [String: Any] in
                        var object: [String: Any] = ["check": finding.check, "status": finding.status.rawValue, "detail": finding.detail]
                        object["fix"] = finding.fix
                        return object
                    })
            } else {
                for finding in findings {
                    let mark = ["ok": "ok  ", "warning": "WARN", "failure": "FAIL"][finding.status.rawValue] ?? ""
                    print("\(mark) \(finding.check): \(finding.detail)")
                    if let fix = finding.fix, finding.status != .ok { print("     fix: \(fix)") }
                }
            }
            if findings.contains(where: { $0.status != .ok }) { throw ExitCode.failure }
        }
    }
}

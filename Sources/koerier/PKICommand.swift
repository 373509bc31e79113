import ArgumentParser
import Foundation
import KoerierSecurity

struct PKICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pki",
        abstract: "Test PKI (TEST ONLY): certificates for tests, samples and demos.",
        subcommands: [PKIInitCommand.self]
    )
}

struct PKIInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a TEST ONLY certificate hierarchy in DIR (uses the openssl command).",
        discussion: """
            Creates ca.pem (the trust anchor), chain.pem (the intermediate CA) and a key and \
            certificate per party: \(TestPKI.parties.map(\.file).joined(separator: ", ")), plus \
            untrusted-ca.pem and NAME-smime.pem (certificate and intermediate) for \
            \(TestPKI.smimeBundles.joined(separator: ", ")). Care providers are named as the UZI \
            register does (subjectAltName otherName 2.5.5.5). The private keys are not protected: \
            never use them for real care data.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Folder to create the hierarchy in.", valueName: "DIR"))
    var directory: String

    func run() throws {
        try Output.reportingFailures {
            do {
                try TestPKI.create(in: URL(fileURLWithPath: directory))
            } catch {
                throw CommandFailure("\(error)")
            }
            print("TEST ONLY certificate hierarchy written to \(directory) (see \(directory)/README.txt)")
        }
    }
}

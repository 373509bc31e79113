import ArgumentParser

@main
struct Koerier: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "koerier",
        abstract: "Secure messaging gateway for care communication: referrals, SOEP return letters, receipts.",
        discussion: """
        Every command reads the configuration from --config FILE, else $KOERIER_CONFIG, \
        else Config/koerier.yaml. Paths inside it are relative to the configuration file.
        """,
        subcommands: [ValidateCommand.self, RenderCommand.self, SignCommand.self, VerifyCommand.self, PKICommand.self, BenchCommand.self]
    )
}

import ArgumentParser
import Foundation

@main
enum Entry {
    static func main() {
        // A process started from a thread that blocks signals (Dispatch's worker threads do)
        // inherits that mask. koerier starts with none blocked: it must receive SIGTERM as a
        // daemon, and children such as `openssl speed` rely on SIGALRM.
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
        Koerier.main()
    }
}

struct Koerier: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "koerier",
        abstract: "Secure messaging gateway for care communication: referrals, SOEP return letters, receipts.",
        discussion: """
        Every command reads the configuration from --config FILE, else $KOERIER_CONFIG, \
        else Config/koerier.yaml. Paths inside it are relative to the configuration file.
        """,
        subcommands: [ValidateCommand.self, RenderCommand.self, SignCommand.self, VerifyCommand.self, PKICommand.self,
                      InitCommand.self, EnqueueCommand.self, StatusCommand.self, ListCommand.self, ShowCommand.self,
                      RetryCommand.self, CancelCommand.self, AuditCommand.self, PurgeCommand.self, BenchCommand.self]
    )
}

import ArgumentParser
import Foundation

@main
enum Entry {
    static func main() async {
        // Everything Koerier creates (store, keys, exports, sockets) is for its own user only.
        umask(0o077)
        SignalMask.unblockAll()
        await Koerier.main()
    }
}

struct Koerier: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "koerier",
        abstract: "Secure messaging gateway for care communication: referrals, SOEP return letters, receipts.",
        discussion: """
            Every command reads the configuration from --config FILE, else $KOERIER_CONFIG, \
            else Config/koerier.yaml. Paths inside it are relative to the configuration file.
            """,
        subcommands: [
            ValidateCommand.self, RenderCommand.self, SignCommand.self, VerifyCommand.self, PKICommand.self,
            InitCommand.self, EnqueueCommand.self, StatusCommand.self, ListCommand.self, ShowCommand.self,
            RetryCommand.self, CancelCommand.self, AuditCommand.self, PurgeCommand.self, DeliverCommand.self,
            ConsentCommand.self, ReceiptCommand.self, ServeCommand.self, TrajectoryCommand.self, PhaseCommand.self,
            TailCommand.self, InboxCommand.self, StoreCommand.self, DoctorCommand.self,
        ]
    )
}

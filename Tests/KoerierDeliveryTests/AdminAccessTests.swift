import Foundation
import KoerierTestSupport
import Testing

/// State changes of a running `koerier serve` go over its control socket, where the kernel
/// names the caller; the loopback HTTP port, which any local process reaches, changes nothing.
@Suite(.serialized) struct AdminAccessTests {
    @Test func theAdminPortRefusesStateChangesAndTheControlSocketAuditsThePerson() async throws {
        let centre = try ServeTests.Centre()
        try await centre.start()
        #expect(try centre.post(try Data(contentsOf: ServeTests.referral), as: "gp").status == 200)
        let report = ServeTests.reports.appendingPathComponent("intake.json")

        // Any local process could POST here: it must queue nothing.
        let open = try centre.postPhaseToAdminPort(1, "intake", report: report)
        #expect(open.status == 404 || open.status == 405, "\(open)")
        #expect(try centre.rig.store.records(state: nil, recipientType: nil, since: nil, limit: 10).isEmpty)

        // The socket is the daemon user's only (no control_group configured).
        var status = stat()
        #expect(lstat(centre.controlSocket, &status) == 0 && status.st_mode & S_IFMT == S_IFSOCK)
        #expect(status.st_mode & 0o777 == 0o600, "mode \(String(status.st_mode & 0o777, radix: 8))")

        // Not JSON: refused.
        let notJSON = try centre.curl([
            "--unix-socket", centre.controlSocket, "-X", "POST", "-H", "Content-Type: text/plain", "--data-binary", "@\(report.path)",
            "http://localhost/v1/trajectories/1/phases?phase=intake",
        ])
        #expect(notJSON.status == 415, "\(notJSON)")

        let done = try centre.postPhase(1, "intake", report: report, onBehalfOf: "behandelaar J. Jansen")
        #expect(done.status == 201, "\(done)")
        let login = String(cString: getpwuid(geteuid()).pointee.pw_name)
        let entries = try centre.audit().filter { $0["event"] as? String == "phase" }
        #expect(entries.count == 1, "\(entries)")
        #expect(entries.first?["actor"] as? String == "uid \(geteuid()) (\(login))", "\(entries)")
        #expect(entries.first?["on_behalf_of"] as? String == "behandelaar J. Jansen")
        #expect((entries.first?["access_point"] as? String)?.hasPrefix("control socket (pid ") == true)
    }
}

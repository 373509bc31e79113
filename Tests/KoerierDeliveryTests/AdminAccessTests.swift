import Foundation
import KoerierTestSupport
import Testing

/// State changes of a running `koerier serve` go over its control socket, where the kernel
/// names the caller; the loopback HTTP port, which any local process reaches, changes nothing.
@Suite(.serialized, .ownThreads) struct AdminAccessTests {
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

    /// With `serve.control_group` the socket is 0660 and that group's: its members may
    /// connect, others may not.
    @Test func aControlGroupGetsTheSocketAtMode660() async throws {
        let group = String(cString: getgrgid(getegid()).pointee.gr_name)
        let centre = try ServeTests.Centre(extra: "  control_group: \(group)")
        try await centre.start()
        var status = stat()
        #expect(
            lstat(centre.controlSocket, &status) == 0 && status.st_mode & 0o777 == 0o660, "mode \(String(status.st_mode & 0o777, radix: 8))"
        )
        #expect(status.st_gid == getegid())
    }

    /// The CLI's own state changes (retry, cancel, consent, phase completion) go to a running
    /// daemon's socket too: the audit log names the person and on whose behalf, not only the
    /// daemon's user; a refusal is the daemon's reason and exit 1.
    @Test func theCLIsStateChangesGoThroughARunningDaemonsSocket() async throws {
        // The GP is down: after its first attempt the letter waits (retrying) for ten minutes.
        let centre = try ServeTests.Centre(delivery: "  first_retry_seconds: 600\n  max_retry_seconds: 600\n")
        try await centre.start()
        #expect(try centre.post(try Data(contentsOf: ServeTests.referral), as: "gp").status == 200)
        let config = centre.config
        let phase = try await Self.koerier([
            "phase", "complete", "1", "--phase", "intake", "--report", ServeTests.reports.appendingPathComponent("intake.json").path,
            "--on-behalf-of", "behandelaar J. Jansen", "--config", config,
        ])
        #expect(phase.exitCode == 0 && phase.stdout.contains("queued for gp-de-linde as record 1"), "\(phase.stdout)\(phase.stderr)")
        try await Polling.until("the first attempt to fail") { try centre.rig.store.record(1)?.state == .retrying }
        let cancel = try await Self.koerier(["cancel", "1", "--on-behalf-of", "secretariaat", "--config", config])
        #expect(cancel.exitCode == 0 && cancel.stdout.hasPrefix("1 ") && cancel.stdout.hasSuffix(": cancelled\n"), "\(cancel.stderr)")
        let again = try await Self.koerier(["retry", "1", "--config", config])
        #expect(again.exitCode == 1 && again.stderr.contains("cancelled"), "a cancelled record stays cancelled: \(again.stderr)")
        let trajectory = try #require(try centre.rig.store.trajectories(limit: 1).first?.id)
        let document = try ConsentTests.signedDocument(
            in: centre.rig.folder, name: "consent", trajectory: trajectory, replacing: 1, parties: [])
        let consent = try await Self.koerier([
            "consent", "import", document.document.path, "--signature", document.signature.path, "--on-behalf-of", "cliënt", "--config",
            config,
        ])
        #expect(consent.exitCode == 0 && consent.stdout == "trajectory \(trajectory): consent version 2: no party\n", "\(consent.stderr)")

        let login = String(cString: getpwuid(geteuid()).pointee.pw_name)
        let entries = try centre.audit()
        for (kind, behalf) in [("phase", "behandelaar J. Jansen"), ("cancel", "secretariaat"), ("consent", "cliënt")] {
            let entry = entries.last { $0["event"] as? String == kind && $0["on_behalf_of"] != nil }
            #expect(entry?["actor"] as? String == "uid \(geteuid()) (\(login))", "\(kind): \(String(describing: entry))")
            #expect(entry?["on_behalf_of"] as? String == behalf)
            #expect((entry?["access_point"] as? String)?.hasPrefix("control socket (pid ") == true, "\(kind)")
        }
    }

    /// The CLI, waited for off the cooperative pool.
    static func koerier(_ arguments: [String]) async throws -> ProcessResult {
        try await ProcessRunner.offPool { try ProcessRunner.koerier(arguments) }
    }
}

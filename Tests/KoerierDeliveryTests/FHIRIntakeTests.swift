import Foundation
import KoerierModel
import KoerierStore
import KoerierTestSupport
import Testing

/// ZorgDomein-style FHIR intake on a real `koerier serve`: curl as the mutual-TLS client,
/// bearer JWTs signed by PyJWT, the samples in Samples/fhir.
@Suite(.serialized, .ownThreads) struct FHIRIntakeTests {
    static let fhirSamples = Repository.samples.appendingPathComponent("fhir")
    static let audience = "https://koerier.centrum.test/fhir"
    static let issuerKey = Repository.pki.appendingPathComponent("zorgdomein-jwt.key")

    static let settings = """
          fhir:
            base_url: https://koerier.centrum.test/fhir
            issuers:
              - issuer: zorgdomein-test
                audience: \(audience)
                key: \(Repository.pki.appendingPathComponent("zorgdomein-jwt.pub.pem").path)
                client_certificate: \(Repository.pki.appendingPathComponent("gp.pem").path)
        """

    /// Subprocesses (curl, python) are waited for off the cooperative pool, which the
    /// in-process listeners of suites running beside this one need.
    static func token(issuer: String = "zorgdomein-test", audience: String = audience, expiresIn: Int = 300, extra: [String] = [])
        async throws -> String
    {
        try await ProcessRunner.offPool { try tokenNow(issuer: issuer, audience: audience, expiresIn: expiresIn, extra: extra) }
    }

    static func post(
        _ bundle: Data, to centre: ServeTests.Centre, token: String?, contentType: String = "application/fhir+json; charset=UTF-8",
        client: String = "gp"
    ) async throws -> Answer {
        try await ProcessRunner.offPool { try postNow(bundle, to: centre, token: token, contentType: contentType, client: client) }
    }

    /// A bearer token from PyJWT (Debian's python3-jwt).
    static func tokenNow(issuer: String = "zorgdomein-test", audience: String = audience, expiresIn: Int = 300, extra: [String] = [])
        throws -> String
    {
        let made = try ProcessRunner.run(
            ProcessRunner.python,
            [
                Repository.root.appendingPathComponent("Tests/Peers/make_jwt.py").path, issuerKey.path, issuer, audience,
                "--expires-in", "\(expiresIn)",
            ] + extra)
        try #require(made.exitCode == 0, "make_jwt: \(made.stderr)")
        return made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct Answer: Sendable {
        let status: Int
        let headers: String
        let body: String
        var location: String? {
            headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("location:") }.map {
                String($0.dropFirst("location:".count)).trimmingCharacters(in: .whitespaces)
            }
        }
        var outcome: [[String: Any]] {
            let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
            return object?["issue"] as? [[String: Any]] ?? []
        }
    }

    /// curl as ZorgDomein: mutual TLS with the client certificate the issuer is configured
    /// with (the test GP's) unless told otherwise, the JWT, fhir+json.
    static func postNow(
        _ bundle: Data, to centre: ServeTests.Centre, token: String?, contentType: String = "application/fhir+json; charset=UTF-8",
        client: String = "gp"
    ) throws -> Answer {
        let file = centre.rig.folder.appendingPathComponent("bundle-\(UUID().uuidString).json")
        try bundle.write(to: file)
        let headers = centre.rig.folder.appendingPathComponent("headers-\(UUID().uuidString).txt")
        var arguments = [
            "--cacert", Repository.pki.appendingPathComponent("ca.pem").path,
            "--cert", try centre.rig.chainFile(client).path, "--key", Repository.pki.appendingPathComponent("\(client).key").path,
            "-D", headers.path, "-H", "Content-Type: \(contentType)", "-H", "Accept: application/fhir+json",
            "-H", "Prefer: return=minimal", "--data-binary", "@\(file.path)", "https://localhost:\(centre.port)/fhir/Bundle",
        ]
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        let (status, body) = try centre.curl(arguments)
        return Answer(status: status, headers: (try? String(contentsOf: headers, encoding: .utf8)) ?? "", body: body)
    }

    static func sample(_ name: String) throws -> Data { try Data(contentsOf: fhirSamples.appendingPathComponent(name)) }

    static func bundleID(_ bundle: Data) throws -> String {
        let object = try #require(try JSONSerialization.jsonObject(with: bundle) as? [String: Any])
        return try #require(object["id"] as? String)
    }

    @Test func anAppointmentRequestThenItsLetterMakeOneTrajectoryAndARedeliveryGetsTheSameAnswer() async throws {
        let centre = try ServeTests.Centre(extra: Self.settings)
        try await centre.start()
        let token = try await Self.token()
        let appointment = try Self.sample("appointment-request.json")
        let first = try await Self.post(appointment, to: centre, token: token)
        #expect(first.status == 201, "\(first.status) \(first.body)")
        #expect(first.location == "https://koerier.centrum.test/fhir/Bundle/\(try Self.bundleID(appointment))")
        #expect(first.headers.lowercased().contains("content-type: application/fhir+json"))
        let opened = try #require(try centre.rig.store.trajectories(limit: 5).first)
        #expect(try centre.rig.store.trajectories(limit: 5).count == 1)
        #expect(opened.transactionID == "ZD123456789" && opened.referrerRecipientID == "gp-de-linde")

        let letter = try await Self.post(try Self.sample("referral-letter.json"), to: centre, token: token)
        #expect(letter.status == 201, "\(letter.body)")
        #expect(try centre.rig.store.trajectories(limit: 5).count == 1)
        #expect(try centre.rig.store.inbound(state: nil, limit: 10).count == 2)

        // ZorgDomein retries: the same Bundle gets the same answer and is stored once.
        let again = try await Self.post(appointment, to: centre, token: token)
        #expect(again.status == 201 && again.location == first.location)
        #expect(try centre.rig.store.inbound(state: nil, limit: 10).count == 2)
        let duplicateAudited = try await ProcessRunner.offPool {
            try centre.audit().contains { ($0["outcome"] as? String)?.hasPrefix("duplicate: FHIR Bundle") == true }
        }
        #expect(duplicateAudited)

        // Other bytes under a Bundle id already used: refused, nothing changes.
        let altered = try #require(String(data: appointment, encoding: .utf8)).replacingOccurrences(of: "Lindelaan", with: "Eikenlaan")
        let conflict = try await Self.post(Data(altered.utf8), to: centre, token: token)
        #expect(conflict.status == 409 && conflict.body.contains("bundle-id-reused"), "\(conflict.status) \(conflict.body)")

        // A document under this ZD-number for another client attaches to nothing.
        let letterText = try String(contentsOf: Self.fhirSamples.appendingPathComponent("referral-letter.json"), encoding: .utf8)
        let otherClient = letterText.replacingOccurrences(of: "999990019", with: "999990032")
            .replacingOccurrences(of: "\"id\": \"\(try Self.bundleID(Data(letterText.utf8)))\"", with: "\"id\": \"other-client-1\"")
        let mixed = try await Self.post(Data(otherClient.utf8), to: centre, token: token)
        #expect(mixed.status == 422 && mixed.body.contains("follow-up-client"), "\(mixed.status) \(mixed.body)")
        #expect(!mixed.body.contains("999990032"))

        // The stored referral is one Koerier reads like any other: the intake letter goes out.
        let report = Repository.samples.appendingPathComponent("phase-reports/intake.json")
        let phase = try await ProcessRunner.offPool { try centre.postPhase(Int(opened.id), "intake", report: report) }
        #expect((200..<300).contains(phase.status), "\(phase.body)")
        #expect(try centre.rig.store.records(state: nil, recipientType: "huisarts", since: nil, limit: 5).count == 1)

        // The referrer cancels: the trajectory closes and no later phase letter is made.
        let cancelled = try await Self.post(try Self.sample("cancellation.json"), to: centre, token: token)
        #expect(cancelled.status == 201, "\(cancelled.body)")
        #expect(try centre.rig.store.trajectory(opened.id)?.closedAt != nil)
        let refused = try await ProcessRunner.offPool {
            try centre.postPhase(
                Int(opened.id), "fase-1", report: Repository.samples.appendingPathComponent("phase-reports/fase-1.json"))
        }
        #expect(refused.status >= 400 && refused.body.contains("closed"), "\(refused.status) \(refused.body)")
        let late = try await Self.post(try Self.sample("supplement.json"), to: centre, token: token)
        #expect(late.status == 409 && late.body.contains("trajectory-closed"), "\(late.status) \(late.body)")
        #expect(try centre.rig.store.verifyAudit() == nil)
        #expect(!centre.log.contains("999990019") && !centre.log.contains("Sanne") && !centre.log.contains(token))
    }

    /// Rows of Samples/fhir/invalid/README.md: `| file | rule | path |`.
    static func hostileSamples() throws -> [(file: String, rule: String)] {
        let table = try String(contentsOf: fhirSamples.appendingPathComponent("invalid/README.md"), encoding: .utf8)
        return table.split(separator: "\n").compactMap { line in
            let cells = line.split(separator: "|").map {
                $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            }
            guard cells.count >= 2, cells[0].hasSuffix(".json") else { return nil }
            return (cells[0], cells[1])
        }
    }

    @Test func hostileBundlesAndBadTokensGetAnOperationOutcomeAndNothingIsStored() async throws {
        let centre = try ServeTests.Centre(extra: Self.settings)
        try await centre.start()
        let token = try await Self.token()
        let hostile = try Self.hostileSamples()
        #expect(hostile.count >= 5)
        for (file, rule) in hostile {
            let answer = try await Self.post(try Self.sample("invalid/\(file)"), to: centre, token: token)
            #expect((400..<500).contains(answer.status), "\(file): \(answer.status)")
            let issues = answer.outcome
            #expect(!issues.isEmpty, "\(file): \(answer.body.prefix(200))")
            #expect(answer.body.contains(rule), "\(file) should name \(rule): \(answer.body.prefix(300))")
            for value in ["Sanne", "Vries", "999990019", "1984-03-21"] { #expect(!answer.body.contains(value), "\(file) shows \(value)") }
        }
        // A supplement under a ZD-number nothing opened: there is nothing to attach it to.
        let orphan = try await Self.post(try Self.sample("supplement.json"), to: centre, token: token)
        #expect(orphan.status == 422 && orphan.body.contains("follow-up-reference"), "\(orphan.body)")

        let good = try Self.sample("referral-letter.json")
        let foreign = try String(contentsOf: Self.fhirSamples.appendingPathComponent("invalid/jwt-foreign-audience.txt"), encoding: .utf8)
        let tokens: [(String?, String)] = [
            (nil, "jwt-missing"),
            (try await Self.token(expiresIn: -3600), "jwt-expired"),
            (foreign.trimmingCharacters(in: .whitespacesAndNewlines), "jwt-audience"),
            (try await Self.token(issuer: "someone-else"), "jwt-issuer"),
            (try await Self.token(extra: ["--none"]), "jwt-algorithm"),
            (try await Self.token(extra: ["--not-before-in", "3600"]), "jwt-not-yet-valid"),
            (String(try await Self.token().dropLast(4)) + "AAAA", "jwt-signature"),
        ]
        for (bad, rule) in tokens {
            let answer = try await Self.post(good, to: centre, token: bad)
            #expect(answer.status == 401 && answer.body.contains(rule), "\(rule): \(answer.status) \(answer.body)")
            #expect(answer.headers.contains("WWW-Authenticate: Bearer") || answer.headers.lowercased().contains("www-authenticate: bearer"))
        }
        // A valid token over the connection of another party the listener trusts (a token
        // that leaked): refused, as the issuer's own client certificate is not there.
        let otherClient = try await Self.post(good, to: centre, token: token, client: "arbo")
        #expect(otherClient.status == 403 && otherClient.body.contains("jwt-client-binding"), "\(otherClient.status) \(otherClient.body)")
        let wrongType = try await Self.post(good, to: centre, token: token, contentType: "application/json")
        #expect(wrongType.status == 415 && wrongType.body.contains("media-type"))
        #expect(try centre.rig.store.trajectories(limit: 5).isEmpty)
        #expect(try centre.rig.store.inbound(state: nil, limit: 5).isEmpty)
        let refusals = try centre.rig.store.auditEntries(limit: 100).filter { $0.event.outcome.hasPrefix("refused") }
        #expect(refusals.count >= hostile.count + tokens.count + 3)
        #expect(!centre.log.contains("999990019") && !centre.log.contains("Sanne"))
    }
}

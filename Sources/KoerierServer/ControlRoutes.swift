import Foundation
import Hummingbird
import KoerierModel
import KoerierStore
import KoerierWorkflow

/// What the control socket does, as the daemon's current configuration has it.
public struct ControlOperations: Sendable {
    public let phases: PhaseCompletion
    /// Or why this configuration takes no consent documents.
    public let consent: Result<ConsentImport, ConsentImportError>

    public init(phases: PhaseCompletion, consent: Result<ConsentImport, ConsentImportError>) {
        self.phases = phases
        self.consent = consent
    }
}

/// The control socket's routes. Each reads the caller from the kernel, takes JSON only, and
/// runs its store, libxml2 and OpenSSL work on the store's executor.
struct ControlRoutes: Sendable {
    let store: any MessageStore
    let operations: @Sendable () -> ControlOperations
    let enqueued: @Sendable () -> Void

    func add(to router: Router<PeerRequestContext>) {
        router.post("/v1/trajectories/{id}/phases") { request, context in
            try await authorized(request, context) { audit, body in try await phase(request, context, body, audit) }
        }
        router.post("/v1/records/{id}/retry") { request, context in
            try await authorized(request, context) { audit, _ in try await move(context, to: .queued, audit) }
        }
        router.post("/v1/records/{id}/cancel") { request, context in
            try await authorized(request, context) { audit, _ in try await move(context, to: .cancelled, audit) }
        }
        router.post("/v1/records/retry-dead") { request, context in
            try await authorized(request, context) { audit, _ in try await retryDead(audit) }
        }
        router.post("/v1/consent") { request, context in
            try await authorized(request, context) { audit, body in try await consent(body, audit) }
        }
    }

    /// The caller (SO_PEERCRED), a JSON body, and on whose behalf, or the refusal.
    private func authorized(
        _ request: Request, _ context: PeerRequestContext, _ body: (AuditContext, Data) async throws -> Response
    ) async throws -> Response {
        guard let person = await ControlSocket.peer(of: context.channel) else {
            return AdminListener.json(403, ["error": "the caller's credentials cannot be read"])
        }
        guard request.headers[.contentType]?.hasPrefix("application/json") == true else {
            return AdminListener.json(415, ["error": "the body must be JSON (Content-Type: application/json)"])
        }
        let onBehalfOf = request.headers.first { $0.name.canonicalName == "on-behalf-of" }?.value
        let data = Data(buffer: try await request.body.collect(upTo: 1 << 20))
        return try await body(
            AuditContext(actor: person.actor, onBehalfOf: onBehalfOf, accessPoint: "control socket (pid \(person.pid))"), data)
    }

    private func phase(_ request: Request, _ context: PeerRequestContext, _ body: Data, _ audit: AuditContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: Int64.self) else { return AdminListener.json(404, ["error": "no such trajectory"]) }
        guard let phaseName = request.uri.queryParameters.get("phase"), let phase = Phase(rawValue: phaseName) else {
            return AdminListener.json(400, ["error": "?phase= must be one of \(Phase.allCases.map(\.rawValue).joined(separator: ", "))"])
        }
        let amend = request.uri.queryParameters.get("amend") == "true"
        let phases = operations().phases
        do {
            let report = try PhaseReport.decode(body)
            let outcome = try await store.executor.run {
                try phases.complete(trajectory: id, phase: phase, report: report, amend: amend, context: audit)
            }
            if !outcome.queued.isEmpty { enqueued() }
            return AdminListener.json(
                201,
                [
                    "letter": outcome.letterID,
                    "queued": outcome.queued.map { ["recipient": $0.recipient, "record": $0.record.id] },
                    "skipped": outcome.skipped.map { ["recipient": $0.recipient, "reason": $0.reason] },
                ])
        } catch let error as PhaseError {
            return AdminListener.json(error.description.contains("already completed") ? 409 : 422, ["error": error.description])
        }
    }

    private func move(_ context: PeerRequestContext, to state: DeliveryState, _ audit: AuditContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: Int64.self) else { return AdminListener.json(404, ["error": "no such record"]) }
        do {
            let record = try await store.executor.run { try store.transition(id, Transition(to: state), now: Date(), context: audit) }
            if state == .queued { enqueued() }
            return AdminListener.json(200, ["record": record.id, "message": record.messageID, "state": record.state.rawValue])
        } catch let error as StoreError {
            return AdminListener.json(409, ["error": error.description])
        }
    }

    private func retryDead(_ audit: AuditContext) async throws -> Response {
        let moved = try await store.executor.run { try store.requeueDead(now: Date(), context: audit) }
        if !moved.isEmpty { enqueued() }
        return AdminListener.json(200, ["records": moved.map { ["record": $0.id, "message": $0.messageID] }])
    }

    /// `{"document": BASE64, "signature": BASE64}`: the consent document's exact bytes and
    /// its detached CMS signature (JSON cannot carry the signed bytes otherwise).
    private func consent(_ body: Data, _ audit: AuditContext) async throws -> Response {
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any],
            let document = (object["document"] as? String).flatMap({ Data(base64Encoded: $0) }),
            let signature = (object["signature"] as? String).flatMap({ Data(base64Encoded: $0) })
        else {
            return AdminListener.json(400, ["error": "the body must be {\"document\": BASE64, \"signature\": BASE64}"])
        }
        do {
            let consent = try operations().consent.get()
            let version = try await store.executor.run { try consent.record(document, signature: signature, context: audit) }
            return AdminListener.json(
                201, ["trajectory": version.trajectoryID, "version": version.version, "parties": version.grant.parties.sorted()])
        } catch let refusal as ConsentImportError {
            return AdminListener.json(422, ["error": refusal.description])
        }
    }
}

import Foundation
import KoerierFHIR
import KoerierStore
import KoerierWorkflow
import Logging

/// `POST /fhir/Bundle`: the media type, then the bearer JWT (bound to the TLS client), then the Bundle itself
/// (`FHIRReferralIntake`, on the store's executor). Every refusal is an OperationOutcome
/// naming a path and a rule, never a patient value.
public struct FHIRResponder: Sendable {
    let bearer: BearerCheck
    let intake: FHIRReferralIntake
    let executor: BlockingExecutor
    let logger: Logger

    public init(bearer: BearerCheck, intake: FHIRReferralIntake, executor: BlockingExecutor, logger: Logger) {
        self.bearer = bearer
        self.intake = intake
        self.executor = executor
        self.logger = logger
    }

    static let mediaType = "application/fhir+json"

    public func answer(_ request: InboundRequest) async -> ListenerAnswer {
        let type = request.contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard type == Self.mediaType else {
            return await refusal(
                415, FHIRProblem(path: "Content-Type", rule: "media-type", message: "send the Bundle as application/fhir+json"))
        }
        let issuer: String
        do {
            issuer = try await bearer.check(authorization: request.authorization, clientCertificateDER: request.clientCertificateDER)
        } catch {
            return await refusal(error.status, FHIRProblem(path: "Authorization", rule: error.rule, message: error.message))
        }
        let intake = intake
        guard let answer = try? await executor.run({ intake.answer(request.body, issuer: issuer) }) else {
            return ListenerAnswer(
                status: 503, body: OperationOutcomeJSON.make([FHIRProblem(path: "Bundle", rule: "busy", message: "send again later")]),
                retryAfter: 5, contentType: Self.mediaType)
        }
        if let rules = answer.refusal {
            logger.notice("FHIR intake refused a Bundle", metadata: ["status": "\(answer.status)", "rules": "\(rules.prefix(160))"])
        } else {
            logger.info("FHIR Bundle accepted", metadata: ["location": "\(answer.location ?? "-")"])
        }
        return ListenerAnswer(status: answer.status, body: answer.body, contentType: Self.mediaType, location: answer.location)
    }

    private func refusal(_ status: Int, _ problem: FHIRProblem) async -> ListenerAnswer {
        logger.notice("FHIR intake refused a request", metadata: ["status": "\(status)", "rule": "\(problem.rule)"])
        let intake = intake
        let audited = try? await executor.run { intake.refuseRequest(status: status, problem) }
        let answer = audited ?? FHIRReferralIntake.Answer.unavailable
        return ListenerAnswer(
            status: answer.status, body: answer.body, retryAfter: answer.status == 503 ? 30 : nil, contentType: Self.mediaType,
            authenticate: answer.status == 401 ? "Bearer error=\"invalid_token\"" : nil)
    }
}

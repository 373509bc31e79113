import Foundation
import KoerierModel

/// What the practitioner reports when a phase is complete (`--report REPORT.json`, or the
/// body of `POST /v1/trajectories/{id}/phases`). Everything else in the letter comes from
/// the trajectory: client, referrer, transaction, the referral it answers.
public struct PhaseReport: Decodable, Sendable {
    public struct Period: Decodable, Sendable {
        let start: String
        let end: String
    }

    public struct Code: Decodable, Sendable {
        let code: String
        let label: String
    }

    public struct Line: Decodable, Sendable {
        let text: String
        let icpc: [Code]?
    }

    public struct SOEP: Decodable, Sendable {
        let subjective: Line
        let objective: String
        let evaluation: Line
        let plan: String
    }

    public struct FourDKLScores: Decodable, Sendable {
        let measuredOn: String
        let distress: Int
        let depressie: Int
        let angst: Int
        let somatisatie: Int
    }

    public struct PHQ9Score: Decodable, Sendable {
        let measuredOn: String
        let total: Int
    }

    public struct PositiveHealthScores: Decodable, Sendable {
        let measuredOn: String
        let lichaamsfuncties: Int
        let mentaalWelbevinden: Int
        let zingeving: Int
        let kwaliteitVanLeven: Int
        let meedoen: Int
        let dagelijksFunctioneren: Int
    }

    public struct MeasurementValues: Decodable, Sendable {
        let fourDKL: FourDKLScores?
        let phq9: PHQ9Score?
        let positiveHealth: PositiveHealthScores?
    }

    public struct GoalValue: Decodable, Sendable {
        let description: String
        let measure: String
        let targetDate: String
        let status: String
    }

    let period: Period
    let practitioner: String?
    let soep: SOEP
    let measurements: MeasurementValues?
    let goals: [GoalValue]?
    let adviceToReferrer: String
    let nextStep: String
    /// Recipient ids besides the referrer, each one the trajectory's consent names (any
    /// other is refused); default: every party the consent in force names.
    public let recipients: [String]?

    /// Reads a report; errors name the field (`soep.subjective.text is missing`).
    public static func decode(_ data: Data) throws -> PhaseReport {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(PhaseReport.self, from: data)
        } catch let error as DecodingError {
            throw PhaseError(describe(error))
        } catch {
            throw PhaseError("the report is not JSON: \(error.localizedDescription)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(
                in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return
                "\(field) is missing (JSON keys are snake_case: \(field.replacingOccurrences(of: "([a-z])([A-Z])", with: "$1_$2", options: .regularExpression).lowercased()))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context.codingPath)) has the wrong type: \(context.debugDescription)"
        case .dataCorrupted(let context):
            // Foundation's description repeats the offending value; the field and rule are enough.
            return context.codingPath.isEmpty ? "the report is not valid JSON" : "\(path(context.codingPath)): not an accepted value"
        @unknown default:
            return "\(error)"
        }
    }

    /// The clinical part of the letter, checked field by field (dates, codes); ranges and
    /// rules are checked when the letter is written (the full schema and rule gate).
    func clinicalContent() throws -> (period: KoerierModel.Period, soep: Soep, measurements: Measurements, goals: [Goal]) {
        func date(_ text: String, _ field: String) throws -> CalendarDate {
            do { return try CalendarDate(parsing: text) } catch { throw PhaseError("\(field): not a date (YYYY-MM-DD)") }
        }
        func codes(_ values: [Code]?, _ field: String) throws -> [IcpcCode] {
            try (values ?? []).enumerated().map { index, value in
                do { return try IcpcCode(code: value.code, label: value.label) } catch { throw PhaseError("\(field)[\(index)]: \(error)") }
            }
        }
        let soepModel = Soep(
            subjective: SoepLine(text: soep.subjective.text, icpc: try codes(soep.subjective.icpc, "soep.subjective.icpc")),
            objective: soep.objective,
            evaluation: SoepLine(text: soep.evaluation.text, icpc: try codes(soep.evaluation.icpc, "soep.evaluation.icpc")),
            plan: soep.plan)
        var values = Measurements()
        if let scores = measurements?.fourDKL {
            values.fourDKL = FourDKL(
                measuredOn: try date(scores.measuredOn, "measurements.four_dkl.measured_on"), distress: scores.distress,
                depressie: scores.depressie, angst: scores.angst, somatisatie: scores.somatisatie)
        }
        if let score = measurements?.phq9 {
            values.phq9 = PHQ9(measuredOn: try date(score.measuredOn, "measurements.phq9.measured_on"), total: score.total)
        }
        if let scores = measurements?.positiveHealth {
            values.positiveHealth = PositiveHealth(
                measuredOn: try date(scores.measuredOn, "measurements.positive_health.measured_on"),
                lichaamsfuncties: scores.lichaamsfuncties,
                mentaalWelbevinden: scores.mentaalWelbevinden, zingeving: scores.zingeving, kwaliteitVanLeven: scores.kwaliteitVanLeven,
                meedoen: scores.meedoen, dagelijksFunctioneren: scores.dagelijksFunctioneren)
        }
        let goalModels = try (goals ?? []).enumerated().map { index, goal -> Goal in
            guard let status = GoalStatus(rawValue: goal.status) else {
                throw PhaseError(
                    "goals[\(index)].status: not one of \(GoalStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return Goal(
                description: goal.description, measure: goal.measure, targetDate: try date(goal.targetDate, "goals[\(index)].target_date"),
                status: status)
        }
        return (
            KoerierModel.Period(start: try date(period.start, "period.start"), end: try date(period.end, "period.end")),
            soepModel, values, goalModels
        )
    }
}

public struct PhaseError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

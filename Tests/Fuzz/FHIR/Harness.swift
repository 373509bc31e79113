import Foundation
import KoerierFHIR
import KoerierModel

// libFuzzer target: the ZorgDomein Bundle reader (bounded JSON, the document's structure,
// the mapping to a Referral and its rules) on arbitrary bytes, as `POST /fhir/Bundle` sees
// them once the bearer token passed. Refusals must name a path and a rule, never crash.
let centre = Party(type: .centrum, organisation: "Stress en Burn-out Centrum Haaglanden")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        _ = try ZorgDomeinBundleReader.read(Data(bytes: bytes, count: size), receiver: centre)
    } catch {
        if error.problems.isEmpty || error.problems.contains(where: { $0.rule.isEmpty || $0.path.isEmpty }) {
            fatalError("a refusal without a path and a rule")
        }
        _ = OperationOutcomeJSON.make(error.problems)
    }
    return 0
}

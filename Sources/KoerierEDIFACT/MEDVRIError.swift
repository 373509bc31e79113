/// Why an interchange could not be written or read. `rule` is a short stable name (tests and
/// operators match on it); `message` names segments, tags and limits only, never a value
/// from the letter, because errors end up in logs that are not meant to hold patient data.
public struct MEDVRIError: Error, Sendable, Equatable, CustomStringConvertible {
    public let rule: String
    public let message: String
    /// The 1-based segment the reader stopped at, when the error belongs to one.
    public let segment: Int?

    public init(rule: String, message: String, segment: Int? = nil) {
        self.rule = rule
        self.message = message
        self.segment = segment
    }

    public var description: String {
        (segment.map { "segment \($0): " } ?? "") + "\(rule): \(message)"
    }
}

/// One finding of `MEDVRICheck`: where (1-based segment, UNA not counted), which rule, and
/// what is wrong, without quoting the data.
public struct MEDVRIProblem: Sendable, Equatable, CustomStringConvertible {
    public let segment: Int
    public let rule: String
    public let message: String

    public init(segment: Int, rule: String, message: String) {
        self.segment = segment
        self.rule = rule
        self.message = message
    }

    public var description: String { "segment \(segment): \(rule): \(message)" }
}

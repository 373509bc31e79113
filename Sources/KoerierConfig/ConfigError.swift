/// A configuration problem, located: `FILE:LINE: message`.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int?
    public let message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { "\(file):" + (line.map { "\($0):" } ?? "") + " \(message)" }
}

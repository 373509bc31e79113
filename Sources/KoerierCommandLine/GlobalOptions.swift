import ArgumentParser
import Foundation
import KoerierConfig
import KoerierModel
import KoerierXML

/// Options every command takes (of `koerier` and of `koerier-bench`).
public struct GlobalOptions: ParsableArguments {
    public init() {}

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Configuration file.", discussion: "Default: $KOERIER_CONFIG, else Config/koerier.yaml.", valueName: "FILE"))
    public var config: String?

    public func loadConfiguration() throws -> KoerierConfiguration {
        do {
            return try KoerierConfiguration.load(path: KoerierConfiguration.location(explicit: config))
        } catch let error as ConfigError {
            throw CommandFailure(String(describing: error), exitCode: .configurationError)
        }
    }

    /// The configuration and a codec over its schemas.
    public func loadCodec() throws -> (KoerierConfiguration, MessageCodec) {
        let configuration = try loadConfiguration()
        let limits = XMLLimits(maxMessageBytes: configuration.maxMessageBytes, maxDepth: configuration.maxXMLDepth)
        do {
            return (configuration, try MessageCodec(schemaDirectory: configuration.schemaDirectory, limits: limits))
        } catch {
            throw CommandFailure(
                "cannot load the schemas from \(configuration.schemaDirectory.path): \(error)",
                exitCode: .configurationError)
        }
    }
}

extension GlobalOptions {
    /// Reads and decodes a message file. Each problem goes to stderr as `FILE:LINE: …`;
    /// then the command fails with "`FILE`: `refusal`: the message is invalid".
    public func readMessage(_ file: String, codec: MessageCodec, refusal: String) throws -> (data: Data, message: Message) {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CommandFailure("\(file): cannot read the file (missing, a directory, or not readable)")
        }
        do throws(XMLProblems) {
            return (data, try codec.decode(data))
        } catch {
            for problem in error.problems { Output.error("\(file):\(problem)") }
            throw CommandFailure("\(file): \(refusal): the message is invalid")
        }
    }
}

/// A failure the command reports as one clear line on stderr, with a chosen exit code.
public struct CommandFailure: Error, CustomStringConvertible {
    public let description: String
    public let exitCode: ExitCode
    public init(_ description: String, exitCode: ExitCode = .failure) {
        self.description = description
        self.exitCode = exitCode
    }
}

extension ExitCode {
    /// Invalid input messages exit 1; problems with the set-up itself exit 2.
    public static let configurationError = ExitCode(2)
}

public enum Output {
    public static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Runs a command body, turning a `CommandFailure` into its message and exit code.
    public static func reportingFailures(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let failure as CommandFailure {
            error("koerier: \(failure.description)")
            throw failure.exitCode
        }
    }
}

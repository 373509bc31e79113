import ArgumentParser
import Foundation
import KoerierConfig
import KoerierModel
import KoerierXML

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Configuration file.", discussion: "Default: $KOERIER_CONFIG, else Config/koerier.yaml.", valueName: "FILE"))
    var config: String?

    func loadConfiguration() throws -> KoerierConfiguration {
        do {
            return try KoerierConfiguration.load(path: KoerierConfiguration.location(explicit: config))
        } catch let error as ConfigError {
            throw CommandFailure(String(describing: error), exitCode: .configurationError)
        }
    }

    /// The configuration and a codec over its schemas.
    func loadCodec() throws -> (KoerierConfiguration, MessageCodec) {
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
    func readMessage(_ file: String, codec: MessageCodec, refusal: String) throws -> (data: Data, message: Message) {
        guard let data = FileManager.default.contents(atPath: file) else { throw CommandFailure("\(file): cannot read the file") }
        do throws(XMLProblems) {
            return (data, try codec.decode(data))
        } catch {
            for problem in error.problems { Output.error("\(file):\(problem)") }
            throw CommandFailure("\(file): \(refusal): the message is invalid")
        }
    }
}

/// A failure the command reports as one clear line on stderr, with a chosen exit code.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    let exitCode: ExitCode
    init(_ description: String, exitCode: ExitCode = .failure) {
        self.description = description
        self.exitCode = exitCode
    }
}

extension ExitCode {
    /// Invalid input messages exit 1; problems with the set-up itself exit 2.
    static let configurationError = ExitCode(2)
}

enum Output {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Runs a command body, turning a `CommandFailure` into its message and exit code.
    static func reportingFailures(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let failure as CommandFailure {
            error("koerier: \(failure.description)")
            throw failure.exitCode
        }
    }
}

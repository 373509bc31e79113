import ArgumentParser
import Foundation
import KoerierRender
import KoerierXML

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Show a message as the human-readable letter a GP or employer would read (Dutch labels).",
        discussion: "The message is fully validated first; an invalid message is not rendered and its problems are listed."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, html
    }

    @OptionGroup var global: GlobalOptions

    @Option(help: "Output format: text or html.")
    var format: Format = .text

    @Argument(help: ArgumentHelp("The message file.", valueName: "FILE"))
    var file: String

    func run() throws {
        try Output.reportingFailures {
            let (_, codec) = try global.loadCodec()
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CommandFailure("\(file): cannot read the file (missing, a directory, or not readable)")
            }
            do throws(XMLProblems) {
                let document = LetterDocument(try codec.decode(data))
                print(format == .html ? HTMLRenderer.render(document) : TextRenderer.render(document), terminator: "")
            } catch {
                for problem in error.problems { Output.error("\(file):\(problem)") }
                throw CommandFailure("\(file): not rendered: the message is invalid")
            }
        }
    }
}

import ArgumentParser
import Foundation
import KoerierModel
import KoerierRender
import KoerierXML

struct RenderCommand: ParsableCommand {

    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Show a message as the human-readable letter a GP or employer would read (Dutch labels).",
        discussion: """
            The message is fully validated first; an invalid message is not rendered and its \
            problems are listed. With --earlier (the same client's earlier return letters), the \
            HTML draws the spinnenweb over the intake's and the course of 4DKL and PHQ-9; the text \
            lists the course.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, html
    }

    @OptionGroup var global: GlobalOptions

    @Option(help: "Output format: text or html.")
    var format: Format = .text

    @Option(help: ArgumentHelp("An earlier return letter of the same trajectory (repeatable).", valueName: "FILE"))
    var earlier: [String] = []

    @Argument(help: ArgumentHelp("The message file.", valueName: "FILE"))
    var file: String

    func run() throws {
        try Output.reportingFailures {
            let (_, codec) = try global.loadCodec()
            let message = try global.readMessage(file, codec: codec, refusal: "not rendered").message
            let history = try earlier.map { try global.readMessage($0, codec: codec, refusal: "not rendered").message }
            let document: LetterDocument
            do {
                document = try LetterDocument(message, earlier: history)
            } catch {
                throw CommandFailure("\(file): not rendered: \(error)")
            }
            print(format == .html ? HTMLRenderer.render(document) : TextRenderer.render(document), terminator: "")
        }
    }
}

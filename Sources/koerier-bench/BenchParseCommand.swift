import ArgumentParser
import Foundation
import KoerierXML

struct BenchParseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse+validate rate of a typical ReturnLetter on one core, against Python lxml in the same run.",
        discussion: """
            Koerier's side runs the full gate on one thread: hardened parse, XSD validation, \
            decoding to the model and the rules beyond the schema. The baseline is lxml (libxml2 \
            under Python, from PyPI) doing parse + XSD validation of the same bytes in-process, \
            also on one thread, in a long-lived child process. The sides alternate in short rounds \
            and each side's best round counts, so both see the same moments of a noisy machine. \
            Runs Debian's /usr/bin/python3 with python3-lxml (.ci/setup installs it).
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Seconds each side measures in one round.")
    var seconds: Double = 0.5

    @Option(help: "Rounds; the two sides alternate and each side's best round counts.")
    var rounds: Int = 10

    @Flag(help: "Print every round.")
    var verbose = false

    @Option(help: ArgumentHelp("Message to parse (default: return-letter-fase-2.xml in the samples folder).", valueName: "FILE"))
    var file: String?

    @Option(help: "Python interpreter for the lxml baseline.")
    var python = BenchPython.system

    func run() throws {
        try Output.reportingFailures {
            let (configuration, codec) = try global.loadCodec()
            let path = file ?? configuration.samplesDirectory.appendingPathComponent("return-letter-fase-2.xml").path
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CommandFailure("\(path): cannot read the benchmark message")
            }
            let kind = try codec.decode(data).kind
            let schema = configuration.schemaDirectory.appendingPathComponent(kind.schemaFileName).path

            print("message: \(path) (\(data.count) bytes, \(kind.rawValue))")
            // Stage rates show where the time goes; the headline figure is the full gate.
            let parseOnly = try measureRate(seconds: seconds) { _ = try codec.parser.parse(data) }
            print(String(format: "koerier parse only:            %.0f msg/s", parseOnly.rate))
            let parseAndSchema = try measureRate(seconds: seconds) {
                _ = codec.schemas.validate(try codec.parser.parse(data), as: kind)
            }
            print(String(format: "koerier parse+xsd:             %.0f msg/s", parseAndSchema.rate))

            // The machine is shared and noisy: alternate the two sides in short slices, with
            // lxml in one long-lived child, and keep each side's best slice, so both sides
            // see the same moments of the machine and one slow moment decides nothing.
            let lxml = try PythonBaseline(python: python, name: "lxml", script: BenchParseCommand.lxmlScript, arguments: [schema, path])
            defer { lxml.stop() }
            var koerier = (rate: 0.0, runs: 0)
            var baseline = PythonBaseline.Measurement(rate: 0, runs: 0, version: "")
            for round in 1...rounds {
                let ours = try measureRate(seconds: seconds) { _ = try codec.decode(data) }
                let theirs = try lxml.measure(seconds: seconds)
                if verbose {
                    print(String(format: "round %d: koerier %.0f msg/s, lxml %.0f msg/s", round, ours.rate, theirs.rate))
                }
                if ours.rate > koerier.rate { koerier = ours }
                if theirs.rate > baseline.rate { baseline = theirs }
            }
            print(String(format: "koerier parse+xsd+model+rules: %.0f msg/s (best of %d slices of %.1f s)", koerier.rate, rounds, seconds))
            print(String(format: "lxml parse+xsd:                %.0f msg/s (best of %d slices of %.1f s)", baseline.rate, rounds, seconds))

            let result = BenchResult(
                bench: "parse", value: koerier.rate, baseline: "python-lxml parse+xsd, in-process, 1 core",
                baselineValue: baseline.rate,
                extra: [
                    "bytes": data.count, "rounds": rounds, "seconds_per_round": seconds, "kind": kind.rawValue, "cores": 1,
                    "koerier_stages": "parse+xsd+model+rules",
                    "parse_only_value": Int(parseOnly.rate), "parse_xsd_value": Int(parseAndSchema.rate), "lxml_version": baseline.version,
                ])
            print(try result.jsonLine())
        }
    }
}

extension BenchParseCommand {
    /// lxml's side: parse + XSD validation of the same bytes.
    static let lxmlScript = #"""
        import sys
        try:
            from lxml import etree
        except ImportError:
            sys.stderr.write("the baseline needs Python's lxml: pip install lxml\n"); sys.exit(3)
        schema_path, message_path = sys.argv[1], sys.argv[2]
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        schema = etree.XMLSchema(etree.parse(schema_path))
        data = open(message_path, "rb").read()
        VERSION = etree.__version__
        def once():
            schema.assertValid(etree.fromstring(data, parser))
        """#
}

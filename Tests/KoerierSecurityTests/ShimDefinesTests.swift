import Foundation
import KoerierTestSupport
import Testing

/// The C shim repeats the defines pkg-config prints for xmlsec1 (SwiftPM drops -D flags
/// from pkg-config); if Debian's libxmlsec1 changes them, the structs would not match.
@Suite(.ownThreads) struct ShimDefinesTests {
    @Test func shimDefinesMatchPkgConfig() throws {
        let cflags = try ProcessRunner.run("pkg-config", ["--cflags", "xmlsec1-openssl"])
        #expect(cflags.exitCode == 0)
        let expected = Set(
            cflags.stdout.split(separator: " ").filter { $0.hasPrefix("-D") }.map { flag -> String in
                let body = flag.dropFirst(2)
                return String(body.split(separator: "=", maxSplits: 1).first ?? body)
            })
        let shim = try String(contentsOf: Repository.root.appendingPathComponent("Sources/CXMLSec/shim.h"), encoding: .utf8)
        let defined = Set(
            shim.split(separator: "\n").filter { $0.hasPrefix("#define XMLSEC") || $0.hasPrefix("#define __XMLSEC") }
                .compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) })
        #expect(!expected.isEmpty)
        #expect(defined == expected)
    }
}

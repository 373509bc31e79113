import Foundation
import KoerierModel
import Testing

@testable import KoerierFHIR

@Suite struct NarrativeTests {
    private func text(_ xhtml: String, limit: Int = 1000) -> String? { Narrative.plainText(xhtml, limit: limit) }

    @Test func onlyTheXMLEntitiesAreDecoded() {
        #expect(text("a &amp; b &lt;c&gt; &quot;d&quot; &#39;e&#39; &#233;") == "a & b <c> \"d\" 'e' é")
        // Nothing else is interpreted: other names, hex, zero and out-of-range stay as written.
        #expect(text("&nbsp;&copy;&#x41;&#0;&#99999999;&amp") == "&nbsp;&copy;&#x41;&#0;&#99999999;&amp")
        // A decoded '<' is text, never the start of a tag.
        #expect(text("&lt;script&gt;alert(1)&lt;/script&gt;") == "<script>alert(1)</script>")
    }

    @Test func tagsAreDroppedAndBlocksBreakLines() {
        let xhtml = """
            <div xmlns="http://www.w3.org/1999/xhtml"><p>Eerste   regel,
              nog steeds</p><!-- <p>commentaar</p> --><ul><li>een</li><li title="a > b">twee</li></ul>\
            <p>drie<br/>vier <b>vet</b></p></div>
            """
        #expect(text(xhtml) == "Eerste regel, nog steeds\neen\ntwee\ndrie\nvier vet")
        #expect(text("<div><p></p><p>  </p></div>") == "")
        #expect(text("<unterminated tag") == "")
        #expect(text("<!-- open comment") == "")
    }

    @Test func theLimitCountsCharactersOfText() {
        #expect(text("<p>" + String(repeating: "é", count: 10) + "</p>", limit: 10) == String(repeating: "é", count: 10))
        #expect(text("<p>" + String(repeating: "é", count: 11) + "</p>", limit: 10) == nil)
        #expect(text(String(repeating: "<b>", count: 1000) + "x", limit: 1) == "x")
    }

    @Test func hostileMarkupIsReadInLinearTime() {
        for xhtml in [
            String(repeating: "<", count: 500_000), String(repeating: "&", count: 500_000), String(repeating: "<a \"", count: 200_000),
        ] {
            let seconds = elapsedSeconds { _ = text(xhtml, limit: 20_000) }
            #expect(seconds < 2)
        }
    }

    @Test func writtenNarrativesAreEscapedAndReadBackTheSame() {
        let original = "Tekst met <script>alert('x')</script> & \"quotes\"\nen een tweede regel; controle\u{01}teken"
        let xhtml = Narrative.xhtml([.paragraph(original), .list(["één", "twee & drie"])])
        #expect(xhtml.hasPrefix("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Tekst met &lt;script&gt;"))
        #expect(!xhtml.contains("<script>"))
        #expect(!xhtml.contains("\u{01}"))
        #expect(
            text(xhtml)
                == "Tekst met <script>alert('x')</script> & \"quotes\"\nen een tweede regel; controle\u{FFFD}teken\néén\ntwee & drie")
    }
}

@Suite struct JSONRoundTripTests {
    @Test func theWriterIsDeterministicAndTheParserReadsItBack() throws {
        let value: JSONValue = [
            "z": [1, "two", .null, .bool(true)], "a": ["nested": "tab\there \"quoted\" \\ \u{01} é 😀"], "m": .number("-1.5e3"),
        ]
        let bytes = JSONWriter.bytes(value)
        #expect(bytes == JSONWriter.bytes(value))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.firstRange(of: "\"a\"")!.lowerBound < text.firstRange(of: "\"m\"")!.lowerBound)
        #expect(text.firstRange(of: "\"m\"")!.lowerBound < text.firstRange(of: "\"z\"")!.lowerBound)
        #expect(text.contains("\\u0001"))
        #expect(try BoundedJSONParser.parse(Data(bytes), limits: .standard) == value)
        #expect(try BoundedJSONParser.parse(Data(JSONWriter.bytes(value, pretty: false)), limits: .standard) == value)
        // Foundation reads it too.
        #expect(try JSONSerialization.jsonObject(with: Data(bytes)) is [String: Any])
    }
}

@Suite struct FHIRDateTimeTests {
    @Test func aMomentNeedsATimeAndAZone() throws {
        #expect(try FHIRDateTime.timestamp("2026-03-02T14:40:00+01:00").get() == (try Timestamp(parsing: "2026-03-02T14:40:00+01:00")))
        #expect(try FHIRDateTime.timestamp("2026-03-02T14:40:00.123456Z").get() == (try Timestamp(parsing: "2026-03-02T14:40:00.123Z")))
        for text in ["2026-03-02", "2026-03", "2026", "2026-03-02T14:40:00", "2026-03-02T14:40:00.5"] {
            #expect(throws: FHIRDateTime.Failure.noZone, "\(text)") { try FHIRDateTime.timestamp(text).get() }
        }
        for text in ["2026-13-02T14:40:00Z", "2026-03-02T14:40+01:00", "2026-03-02 14:40:00Z", "yesterday at noon"] {
            #expect(throws: FHIRDateTime.Failure.format, "\(text)") { try FHIRDateTime.timestamp(text).get() }
        }
    }
}

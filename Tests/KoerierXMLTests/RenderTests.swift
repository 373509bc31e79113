import Foundation
import KoerierModel
import KoerierRender
import KoerierTestSupport
import KoerierXML
import Testing

@Suite struct RenderTests {
    @Test func returnLetterReadsAsADutchSOEPLetter() {
        let text = TextRenderer.render(LetterDocument(.returnLetter(Fixtures.returnLetter())))
        for expected in [
            "Terugkoppeling — Fase 2", "S – Subjectief", "O – Objectief", "E – Evaluatie", "P – Plan",
            "Patiënt", "Sanne de Vries", "Geboortedatum: 21-03-1984", "PHQ-9 (05-06-2026)", "7/27",
            "Advies aan de verwijzer", "Vervolg", "P78 Surmenage", "Status: loopt",
        ] {
            #expect(text.contains(expected), "missing \(expected)")
        }
    }

    @Test func participationNoticeShowsNoClinicalHeadings() {
        let text = TextRenderer.render(LetterDocument(.participationNotice(Fixtures.participationNotice())))
        #expect(text.contains("Deelnamebericht"))
        #expect(text.contains("22 van 24 geplande sessies"))
        for clinical in ["BSN", "ICPC", "PHQ", "4DKL", "Subjectief", "Fase"] {
            #expect(!text.contains(clinical), "notice shows \(clinical)")
        }
    }

    @Test func htmlEscapesEverythingFromTheMessage() {
        var letter = Fixtures.returnLetter()
        letter.soep.plan = "<script>alert('x')</script> & \"quotes\""
        let html = HTMLRenderer.render(LetterDocument(.returnLetter(letter)))
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;"))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
    }

    @Test func htmlCarriesAPolicyThatAllowsNoScriptAndNothingFromOutside() throws {
        let html = HTMLRenderer.render(LetterDocument(.returnLetter(Fixtures.returnLetter())))
        let meta = try #require(html.firstMatch(of: /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/))
        let directives = Set(meta.1.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) })
        #expect(directives.contains("default-src 'none'"), "\(directives)")
        #expect(!directives.contains { $0.hasPrefix("script-src") || $0.contains("*") || $0.contains("http") })
        #expect(!html.contains("<script") && !html.contains("<link") && !html.contains("src="))
    }

    @Test(arguments: Repository.validSampleFiles)
    func everySampleRenders(_ file: URL) throws {
        let document = LetterDocument(try sharedCodec.decode(try Repository.data(file)))
        #expect(!document.sections.isEmpty)
        #expect(TextRenderer.render(document).hasPrefix(document.title))
    }

    /// A quote or bracket followed by a combining mark is one Character: still escaped.
    @Test func escapingWorksScalarByScalar() {
        #expect(HTMLRenderer.escape("\"\u{0301}<\u{0301}>'&") == "&quot;\u{0301}&lt;\u{0301}&gt;&#39;&amp;")
    }
}

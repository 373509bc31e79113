import KoerierTestSupport
import KoerierXML

/// One codec over the repository's schemas, shared by the tests (it is thread-safe).
let sharedCodec: MessageCodec = {
    do {
        return try MessageCodec(schemaDirectory: Repository.schemas)
    } catch {
        fatalError("cannot load Schemas/: \(error)")
    }
}()

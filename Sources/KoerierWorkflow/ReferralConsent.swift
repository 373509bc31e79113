import KoerierDelivery
import KoerierModel
import KoerierStore

/// The consent a verified referral grants its own trajectory: for each recipient type the
/// client allowed, the one directory entry of that type, named now and fixed in the version.
/// A type with several entries names none of them (a signed consent document must name the
/// party), and an entry added to the directory later is not covered: a type never widens.
/// The referring GP needs no grant: the letter is addressed to them.
enum ReferralConsent {
    static func grant(_ referral: Referral, directory: RecipientDirectory) -> ConsentGrant {
        var parties: Set<String> = []
        for type in Set(referral.consent.allowed) where type != .huisarts {
            let candidates = directory.recipients.values.filter { $0.type == type }
            if candidates.count == 1 { parties.insert(candidates[0].id) }
        }
        return ConsentGrant(
            parties: parties, recordedOn: referral.consent.recordedOn.description, source: referral.envelope.messageID.value)
    }
}

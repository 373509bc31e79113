import KoerierModel

/// Dutch wording of the model's codes, as a GP or employer expects to read them.
public enum Dutch {
    public static func date(_ date: CalendarDate) -> String {
        let text = date.description  // YYYY-MM-DD
        let parts = text.split(separator: "-")
        return "\(parts[2])-\(parts[1])-\(parts[0])"
    }

    static func timestamp(_ timestamp: Timestamp) -> String {
        let time = timestamp.description.dropFirst(11).prefix(5)
        let offset = timestamp.utcOffsetMinutes
        let zone = offset == 0 ? "UTC" : (offset < 0 ? "-" : "+") + twoDigits(abs(offset) / 60) + ":" + twoDigits(abs(offset) % 60)
        return "\(date(timestamp.date)) \(time) (\(zone))"
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    static func partyType(_ type: PartyType) -> String {
        switch type {
        case .huisarts: return "huisarts"
        case .bedrijfsarts: return "bedrijfsarts"
        case .ggz: return "GGZ"
        case .werkgever: return "werkgever"
        case .sociaalDomein: return "sociaal domein"
        case .centrum: return "centrum"
        }
    }

    static func recipientType(_ type: RecipientType) -> String {
        partyType(PartyType(rawValue: type.rawValue) ?? .centrum)
    }

    static func sex(_ sex: Sex) -> String {
        switch sex {
        case .male: return "man"
        case .female: return "vrouw"
        case .other: return "anders"
        case .unknown: return "onbekend"
        }
    }

    static func phase(_ phase: Phase) -> String {
        switch phase {
        case .intake: return "Intake"
        case .fase1: return "Fase 1 – preventie en lichte stressklachten"
        case .fase2: return "Fase 2 – matige stress en burn-outklachten"
        case .fase3: return "Fase 3 – ernstige burn-out"
        case .afsluiting: return "Afsluiting"
        }
    }

    /// For chart axes and the course table.
    static func phaseShort(_ phase: Phase) -> String {
        switch phase {
        case .intake: return "Intake"
        case .fase1: return "Fase 1"
        case .fase2: return "Fase 2"
        case .fase3: return "Fase 3"
        case .afsluiting: return "Afsluiting"
        }
    }

    static func urgency(_ urgency: Urgency) -> String {
        switch urgency {
        case .routine: return "regulier"
        case .soon: return "op korte termijn"
        case .urgent: return "SPOED"
        }
    }

    public static func goalStatus(_ status: GoalStatus) -> String {
        switch status {
        case .open: return "nog niet gestart"
        case .inProgress: return "loopt"
        case .achieved: return "behaald"
        case .adjusted: return "bijgesteld"
        case .stopped: return "gestopt"
        }
    }

    static func participation(_ status: ParticipationStatus) -> String {
        switch status {
        case .aangemeld: return "aangemeld"
        case .actief: return "neemt deel"
        case .gepauzeerd: return "gepauzeerd"
        case .afgerond: return "afgerond"
        case .gestopt: return "gestopt"
        }
    }

    static func rejection(_ code: RejectionCode) -> String {
        switch code {
        case .malformed: return "geen geldige XML"
        case .schemaInvalid: return "voldoet niet aan het schema"
        case .ruleViolation: return "voldoet niet aan de inhoudelijke regels"
        case .signatureInvalid: return "ongeldige handtekening"
        case .untrustedSender: return "afzender niet vertrouwd"
        case .senderMismatch: return "afzender komt niet overeen met het certificaat"
        case .unknownReceiver: return "onbekende geadresseerde"
        case .tooLarge: return "bericht te groot"
        case .internalError: return "interne fout bij de ontvanger"
        }
    }

    static func reason(_ reason: ReasonCode) -> String {
        switch reason {
        case .werkverzuim: return "werkverzuim"
        case .arbeidsconflict: return "arbeidsconflict of werkgerelateerde factoren die herstel belemmeren"
        case .stressgerelateerdeKlachten: return "stressgerelateerde klachten"
        case .verbandKlachtenWerk: return "vermoeden van verband tussen klachten en werk"
        case .somatischeComorbiditeit: return "afstemming over somatische comorbiditeit of uitsluiten somatische oorzaken"
        case .inschakelenSpecialistischeZorg: return "voornemen gespecialiseerde zorg (incl. GGZ) in te schakelen"
        case .beleidNietInLijn: return "beleid bedrijfsarts niet in lijn met huisarts"
        case .oorzaakPrive: return "oorzaken vooral in de privé-omgeving"
        case .stagnatieHerstel: return "stagnatie van herstel (> 3–6 weken) zonder verklaring"
        case .interventiesZonderEffect: return "interventies zonder effect"
        case .ernstigDisfunctioneren: return "ernstig disfunctioneren en lijdensdruk"
        case .psychiatrischeComorbiditeit: return "(vermoeden van) psychiatrische comorbiditeit"
        case .vermoedenSuicidaliteit: return "vermoeden van suïcidaliteit"
        case .behandelingAfgerond: return "effectieve behandeling afgerond"
        case .stabielChronisch: return "stabiele chronische patiënt"
        case .onvoldoendeEffect: return "geen of onvoldoende effect van behandeling"
        case .medicatiecontrole: return "medicatiecontrole"
        case .somatischeDiagnostiek: return "somatische diagnostiek"
        case .medebeoordeling: return "medebeoordeling"
        case .geenDsmClassificatie: return "geen DSM-classificatie"
        case .werkgerelateerdeKlachten: return "werkgerelateerde klachten"
        case .langdurigZonderEffect: return "langer dan 6 maanden zonder effect"
        case .remissie: return "remissie"
        case .aanhoudendeKlachten: return "aanhoudende of terugkerende klachten"
        case .psychischeOndersteuning: return "psychische ondersteuning nodig"
        case .socialeLoopbaanFinancieleProblemen: return "sociale, loopbaan- of financiële problemen"
        case .conflict: return "conflict"
        case .huisvesting: return "huisvesting"
        case .financien: return "financiën"
        case .geenDagbesteding: return "geen dagbesteding"
        case .eenzaamheid: return "eenzaamheid"
        case .relatieOpvoeding: return "relatie- of opvoedingsproblemen"
        case .stressBurnoutProgramma: return "begeleiding in het stress- en burn-outprogramma"
        }
    }
}

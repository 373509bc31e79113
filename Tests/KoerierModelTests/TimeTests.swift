import Foundation
import KoerierModel
import Testing

@Suite struct TimeTests {
    @Test func calendarDatesValidateTheDayOfTheMonth() throws {
        #expect(try CalendarDate(parsing: "2024-02-29").day == 29)
        #expect(throws: FieldFormatError.self) { try CalendarDate(parsing: "2026-02-29") }
        #expect(throws: FieldFormatError.self) { try CalendarDate(parsing: "2026-04-31") }
        #expect(throws: FieldFormatError.self) { try CalendarDate(parsing: "2026-1-01") }
        #expect(throws: FieldFormatError.self) { try CalendarDate(parsing: "2026-01-01Z") }
    }

    @Test func dayArithmeticAgreesWithFoundationsCalendar() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let epoch = Date(timeIntervalSince1970: 0)
        for offset in stride(from: -50_000, through: 50_000, by: 137) {
            let date = CalendarDate(daysSinceEpoch: offset)
            let parts = calendar.dateComponents([.year, .month, .day], from: calendar.date(byAdding: .day, value: offset, to: epoch)!)
            #expect((date.year, date.month, date.day) == (parts.year!, parts.month!, parts.day!), "offset \(offset)")
            #expect(date.daysSinceEpoch == offset)
            #expect(try CalendarDate(parsing: date.description) == date)
        }
    }

    @Test(arguments: [
        ("2026-11-02T09:14:00+01:00", "2026-11-02T08:14:00.000Z"),
        ("2026-11-15T16:40:12.250Z", "2026-11-15T16:40:12.250Z"),
        ("2026-06-08T00:30:00+02:00", "2026-06-07T22:30:00.000Z"),
        ("2026-01-01T23:59:59.5-05:30", "2026-01-02T05:29:59.500Z"),
    ])
    func timestampsKeepTheirZoneAndGiveTheRightInstant(_ written: String, _ utc: String) throws {
        let timestamp = try Timestamp(parsing: written)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        #expect(timestamp.instant == formatter.date(from: utc))
        #expect(try Timestamp(parsing: timestamp.description) == timestamp)
    }

    @Test func timestampsNeedAZone() {
        #expect(throws: FieldFormatError.self) { try Timestamp(parsing: "2026-11-02T09:14:00") }
        #expect(throws: FieldFormatError.self) { try Timestamp(parsing: "2026-11-02T25:14:00Z") }
        #expect(throws: FieldFormatError.self) { try Timestamp(parsing: "2026-11-02T09:14:00.1234Z") }
    }

    @Test func nowRoundTripsThroughItsText() throws {
        let now = Timestamp.now(timeZone: TimeZone(identifier: "Europe/Amsterdam")!)
        #expect(try Timestamp(parsing: now.description) == now)
        #expect(abs(now.instant.timeIntervalSinceNow) < 60)
    }
}

import Foundation

/// A moment with the zone it was written in (xs:dateTime restricted to
/// `YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)`). Keeping the offset means a letter shows the
/// local time its author saw, and the instant stays exact.
public struct Timestamp: Hashable, Sendable, CustomStringConvertible {
    public let date: CalendarDate
    public let hour: Int
    public let minute: Int
    public let second: Int
    public let millisecond: Int
    /// Offset from UTC in minutes (+60 for CET).
    public let utcOffsetMinutes: Int

    public init(date: CalendarDate, hour: Int, minute: Int, second: Int, millisecond: Int = 0, utcOffsetMinutes: Int) throws {
        guard (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second),
            (0...999).contains(millisecond), (-14 * 60...14 * 60).contains(utcOffsetMinutes)
        else {
            throw FieldFormatError(rule: "timestamp-format", message: "time of day or zone offset out of range")
        }
        self.date = date
        self.hour = hour
        self.minute = minute
        self.second = second
        self.millisecond = millisecond
        self.utcOffsetMinutes = utcOffsetMinutes
    }

    public init(parsing text: String) throws {
        let bytes = Array(text.utf8)
        let invalid = FieldFormatError(
            rule: "timestamp-format",
            message: "timestamp must be written YYYY-MM-DDThh:mm:ss[.fff] with a zone (Z or +hh:mm)")
        guard bytes.count >= 20, bytes[10] == 0x54, bytes[13] == 0x3A, bytes[16] == 0x3A,
            let hour = decimal(bytes[11..<13]), let minute = decimal(bytes[14..<16]), let second = decimal(bytes[17..<19])
        else {
            throw invalid
        }
        let date = try CalendarDate(parsing: String(decoding: bytes[0..<10], as: UTF8.self))
        var index = 19
        var millisecond = 0
        if bytes[index] == 0x2E {
            let start = index + 1
            var end = start
            while end < bytes.count, bytes[end] >= 0x30, bytes[end] <= 0x39 { end += 1 }
            guard (1...3).contains(end - start), let fraction = decimal(bytes[start..<end]) else { throw invalid }
            millisecond = fraction * [100, 10, 1][end - start - 1]
            index = end
        }
        let offset: Int
        if index == bytes.count - 1, bytes[index] == 0x5A {
            offset = 0
        } else if index == bytes.count - 6, bytes[index] == 0x2B || bytes[index] == 0x2D, bytes[index + 3] == 0x3A,
            let hours = decimal(bytes[(index + 1)..<(index + 3)]), let minutes = decimal(bytes[(index + 4)..<(index + 6)]),
            minutes < 60
        {
            offset = (bytes[index] == 0x2D ? -1 : 1) * (hours * 60 + minutes)
        } else {
            throw invalid
        }
        try self.init(date: date, hour: hour, minute: minute, second: second, millisecond: millisecond, utcOffsetMinutes: offset)
    }

    /// The current moment in the machine's time zone, at millisecond precision.
    public static func now(timeZone: TimeZone = .current) -> Timestamp {
        Timestamp(instant: Date(), timeZone: timeZone)
    }

    public init(instant: Date, timeZone: TimeZone) {
        let offsetSeconds = timeZone.secondsFromGMT(for: instant)
        let totalMillis = Int((instant.timeIntervalSince1970 * 1000).rounded(.down)) + offsetSeconds * 1000
        let days = Int((Double(totalMillis) / 86_400_000).rounded(.down))
        let millisOfDay = totalMillis - days * 86_400_000
        date = CalendarDate(daysSinceEpoch: days)
        hour = millisOfDay / 3_600_000
        minute = millisOfDay / 60_000 % 60
        second = millisOfDay / 1000 % 60
        millisecond = millisOfDay % 1000
        utcOffsetMinutes = offsetSeconds / 60
    }

    /// The instant on the global time line.
    public var instant: Date {
        let localSeconds = Double(date.daysSinceEpoch) * 86_400 + Double(hour * 3600 + minute * 60 + second)
        return Date(timeIntervalSince1970: localSeconds - Double(utcOffsetMinutes * 60) + Double(millisecond) / 1000)
    }

    public var description: String {
        var text = date.description + "T" + pad(hour, 2) + ":" + pad(minute, 2) + ":" + pad(second, 2)
        if millisecond != 0 { text += "." + pad(millisecond, 3) }
        if utcOffsetMinutes == 0 { return text + "Z" }
        let magnitude = abs(utcOffsetMinutes)
        return text + (utcOffsetMinutes < 0 ? "-" : "+") + pad(magnitude / 60, 2) + ":" + pad(magnitude % 60, 2)
    }
}

import Glibc

/// A UTC time as the whitelist writes it: `YYYYMMDDHHMMSS`
/// (`WhitelistTimestamp()` upstream, docs/format/manifest-and-signatures.md §3.1).
public struct WhitelistTimestamp: Sendable, Equatable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int
    public let hour: Int
    public let minute: Int
    public let second: Int

    /// Reads exactly 14 ASCII digits; `nil` otherwise.
    public init?(digits: some StringProtocol) {
        let bytes = Array(digits.utf8)
        guard bytes.count == 14, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        func number(_ range: Range<Int>) -> Int {
            bytes[range].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        year = number(0..<4)
        month = number(4..<6)
        day = number(6..<8)
        hour = number(8..<10)
        minute = number(10..<12)
        second = number(12..<14)
    }

    /// The UTC calendar time of a UNIX timestamp.
    public init(unixTime: Int64) {
        var seconds = time_t(unixTime)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        year = Int(parts.tm_year) + 1900
        month = Int(parts.tm_mon) + 1
        day = Int(parts.tm_mday)
        hour = Int(parts.tm_hour)
        minute = Int(parts.tm_min)
        second = Int(parts.tm_sec)
    }

    /// The 14-digit form written into whitelists.
    public var digits: String {
        pad(year, 4) + pad(month, 2) + pad(day, 2) + pad(hour, 2) + pad(minute, 2) + pad(second, 2)
    }

    /// `2024-01-01 10:00 UTC`: how users see an expiry.
    public var description: String {
        pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + " " + pad(hour, 2) + ":" + pad(minute, 2) + " UTC"
    }

    /// True if `self` lies in an earlier clock hour than `other`.
    ///
    /// Minutes and seconds are ignored on purpose: upstream's
    /// `Whitelist::IsBefore` compares only year, month, day and hour, so a
    /// whitelist counts as expired from the start of its expiry hour (§3.2).
    public func isInEarlierHour(than other: WhitelistTimestamp) -> Bool {
        (year, month, day, hour) < (other.year, other.month, other.day, other.hour)
    }

    private func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}

import ArgumentParser

/// A duration on the command line: a number of seconds, or a number followed by `s`, `m`,
/// `h` or `d` (`90`, `30s`, `15m`, `2h`, `7d`).
struct DurationArgument: ExpressibleByArgument, Sendable {
    let seconds: Int64

    init(seconds: Int64) { self.seconds = seconds }

    init?(argument: String) {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
        var digits = Substring(argument)
        var unit: Int64 = 1
        if let last = argument.last, let factor = units[last] {
            digits = digits.dropLast()
            unit = factor
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Int64(digits), value >= 0,
              value <= Int64.max / unit else { return nil }
        seconds = value * unit
    }

    var defaultValueDescription: String {
        seconds % 86_400 == 0 ? "\(seconds / 86_400)d" : seconds % 3_600 == 0 ? "\(seconds / 3_600)h" : "\(seconds)s"
    }
}

import ArgumentParser

/// A command's failure: the message goes to stderr and the exit code to the shell.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    let exitCode: Int32

    init(_ message: String, exitCode: Int32 = 1) {
        description = message
        self.exitCode = exitCode
    }
}

extension String {
    /// A number with two decimals, without Foundation's formatter.
    init(format2 value: Double) {
        let scaled = (value * 100).rounded()
        let whole = Int(scaled / 100)
        let fraction = Int(abs(scaled.truncatingRemainder(dividingBy: 100)))
        self = "\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

import Glibc

/// Progress lines on standard error while layers download and unpack. On a terminal one line
/// is redrawn in place; otherwise a line is printed at most every two seconds and at the end.
public final class Progress {
    private let enabled: Bool
    private let terminal: Bool
    private var label = ""
    private var lastPrint: Double = 0
    private var lastLength = 0

    public init(enabled: Bool) {
        self.enabled = enabled
        terminal = isatty(2) != 0
    }

    func start(_ label: String) {
        self.label = label
        lastPrint = 0
    }

    func bytes(_ done: Int64, of total: Int64?) {
        guard enabled else { return }
        let now = Self.seconds()
        guard now - lastPrint >= (terminal ? 0.2 : 2) else { return }
        lastPrint = now
        var text = "\(label): \(Self.megabytes(done))"
        if let total, total > 0 { text += " of \(Self.megabytes(total)) (\(done * 100 / total)%)" }
        emit(text, final: false)
    }

    /// A finished step, always printed.
    func line(_ text: String) {
        guard enabled else { return }
        emit(text, final: true)
    }

    private func emit(_ text: String, final: Bool) {
        var out: String
        if terminal {
            let pad = max(0, lastLength - text.count)
            out = "\r" + text + String(repeating: " ", count: pad) + (final ? "\n" : "")
            lastLength = final ? 0 : text.count
        } else {
            out = text + "\n"
        }
        _ = out.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }

    static func megabytes(_ bytes: Int64) -> String {
        let tenths = bytes * 10 / 1_000_000
        return "\(tenths / 10).\(tenths % 10) MB"
    }

    static func seconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

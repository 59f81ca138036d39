import Glibc
import Synchronization

/// The one line a person watching a snapshot on a terminal sees, redrawn at
/// most twice a second: objects and bytes so far, the rate and the time
/// left. Silent when standard error is not a terminal (scripts, logs).
final class SnapshotProgress: Sendable {
    private struct State {
        var objects = 0
        var bytes: Int64 = 0
        var lastDraw = 0.0
    }

    let total: Int
    let enabled: Bool
    private let started = SnapshotProgress.now()
    private let state = Mutex(State())

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled && isatty(2) != 0
    }

    func add(bytes: Int64) {
        let line: String? = state.withLock { s in
            s.objects += 1
            s.bytes += bytes
            let now = Self.now()
            guard enabled, now - s.lastDraw >= 0.5 || s.objects == total else { return nil }
            s.lastDraw = now
            return render(s, elapsed: now - started)
        }
        if let line { Self.draw("\r" + line) }
    }

    /// Ends the line, if one was drawn.
    func finish() {
        guard enabled, total > 0 else { return }
        Self.draw("\n")
    }

    private func render(_ s: State, elapsed: Double) -> String {
        let rate = Double(s.bytes) / max(elapsed, 0.001)
        let perObject = Double(s.objects) / max(elapsed, 0.001)
        let left = perObject > 0 ? Double(total - s.objects) / perObject : 0
        return "objects \(s.objects)/\(total), \(Self.megabytes(s.bytes)) MB, \(Self.megabytes(Int64(rate))) MB/s, \(Int(perObject)) objects/s, ETA \(Self.clock(left))   "
    }

    private static func draw(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    static func megabytes(_ bytes: Int64) -> String {
        let tenths = bytes / 100_000
        return "\(tenths / 10).\(tenths % 10)"
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s / 60 % 60)m" : "\(s / 60)m\(s % 60 < 10 ? "0" : "")\(s % 60)s"
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

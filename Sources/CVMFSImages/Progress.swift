import Glibc
import Synchronization

/// Progress on standard error while layers download and unpack. Finished steps are printed
/// as lines whenever progress is on. On a terminal, each layer in flight also has a line of
/// its own (short digest, MB done of the total, MB/s), redrawn in place below the finished
/// steps at most five times a second; off a terminal those lines are left out, so that logs
/// hold only the steps. Layers are converted by several threads at once, hence the lock.
public final class Progress: Sendable {
    private let enabled: Bool
    private let terminal: Bool
    private let state = Mutex(State())

    private struct State {
        /// The lines of layers in flight, in the order they started.
        var active: [(key: String, label: String, done: Int64, total: Int64?, started: Double)] = []
        /// How many in-flight lines the last redraw left on the screen.
        var drawn = 0
        var lastDraw: Double = 0
    }

    public init(enabled: Bool) {
        self.enabled = enabled
        terminal = isatty(2) != 0
    }

    /// A layer (or the flat root) starts; `key` names it in the calls that follow.
    func begin(_ key: String, label: String, total: Int64?) {
        guard enabled && terminal else { return }
        state.withLock { state in
            state.active.append((key, label, 0, total, Self.seconds()))
            redraw(&state, finished: [])
        }
    }

    /// `done` bytes of the item have gone through.
    func advance(_ key: String, done: Int64) {
        guard enabled && terminal else { return }
        state.withLock { state in
            guard let i = state.active.firstIndex(where: { $0.key == key }) else { return }
            state.active[i].done = done
            let now = Self.seconds()
            guard now - state.lastDraw >= 0.2 else { return }
            redraw(&state, finished: [])
        }
    }

    /// The item is finished (or failed): its in-flight line goes, `text` (if any) is printed.
    func end(_ key: String, _ text: String?) {
        guard enabled else { return }
        state.withLock { state in
            state.active.removeAll { $0.key == key }
            redraw(&state, finished: text.map { [$0] } ?? [])
        }
    }

    /// A finished step, always printed when progress is on.
    func line(_ text: String) {
        guard enabled else { return }
        state.withLock { state in redraw(&state, finished: [text]) }
    }

    /// Erases the in-flight lines drawn last time, prints `finished`, then draws the in-flight
    /// lines again (on a terminal; elsewhere only `finished` is written).
    private func redraw(_ state: inout State, finished: [String]) {
        var out = ""
        if terminal && state.drawn > 0 {
            // Cursor to the start of the first in-flight line, then clear to the end of the screen.
            out += "\u{1B}[\(state.drawn)F\u{1B}[J"
        }
        for text in finished { out += text + "\n" }
        state.drawn = 0
        if terminal {
            let now = Self.seconds()
            for item in state.active {
                out += Self.describe(label: item.label, done: item.done, total: item.total, seconds: now - item.started) + "\n"
                state.drawn += 1
            }
            state.lastDraw = now
        }
        _ = out.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }

    /// `LABEL: 12.3 of 45.6 MB (26%), 7.8 MB/s`.
    static func describe(label: String, done: Int64, total: Int64?, seconds: Double) -> String {
        var text = "\(label): \(megabytes(done))"
        if let total, total > 0 { text += " of \(megabytes(total)) (\(done * 100 / total)%)" }
        if seconds > 0 { text += ", \(rate(done, seconds: seconds))" }
        return text
    }

    static func megabytes(_ bytes: Int64) -> String {
        let tenths = bytes * 10 / 1_000_000
        return "\(tenths / 10).\(tenths % 10) MB"
    }

    /// `7.8 MB/s`.
    static func rate(_ bytes: Int64, seconds: Double) -> String {
        guard seconds > 0 else { return "- MB/s" }
        let tenths = Int64(Double(bytes) / seconds / 100_000)
        return "\(tenths / 10).\(tenths % 10) MB/s"
    }

    static func seconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

import Glibc
import Synchronization

/// Runs `count` blocking jobs (downloads) on `threads` real threads and
/// returns the results in input order; the first error stops the rest.
/// Not `DispatchQueue.concurrentPerform`: that runs only as many jobs at once
/// as there are cores, which made 32 "concurrent" downloads two at a time
/// (85 objects/s at 20 ms RTT).
struct DownloadThreads {
    let threads: Int

    func run<Result: Sendable>(count: Int, _ work: @escaping @Sendable (Int) throws(SnapshotError) -> Result) throws(SnapshotError) -> [Result] {
        guard count > 0 else { return [] }
        let shared = Shared<Result>(count: count, work: work)
        var handles: [pthread_t] = []
        for _ in 0..<max(1, min(threads, count)) {
            var thread = pthread_t()
            let box = Unmanaged.passRetained(ThreadBody { shared.drain() })
            if pthread_create(&thread, nil, { raw in
                Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().body()
                return nil
            }, box.toOpaque()) == 0 {
                handles.append(thread)
            } else {
                box.release()
            }
        }
        if handles.isEmpty { shared.drain() }
        for handle in handles { pthread_join(handle, nil) }
        return try shared.results()
    }

    /// What a new thread runs; not generic, since a C thread entry cannot name generic types.
    private final class ThreadBody: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    private final class Shared<Result: Sendable>: @unchecked Sendable {
        let count: Int
        let work: @Sendable (Int) throws(SnapshotError) -> Result
        let next = Atomic<Int>(0)
        struct State {
            var values: [Result?]
            var failure: SnapshotError?
        }
        let state: Mutex<State>

        init(count: Int, work: @escaping @Sendable (Int) throws(SnapshotError) -> Result) {
            self.count = count
            self.work = work
            state = Mutex(State(values: Array(repeating: nil, count: count), failure: nil))
        }

        func drain() {
            while true {
                let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if index >= count || state.withLock({ $0.failure != nil }) { return }
                do throws(SnapshotError) {
                    let value = try work(index)
                    state.withLock { $0.values[index] = value }
                } catch {
                    state.withLock { if $0.failure == nil { $0.failure = error } }
                    return
                }
            }
        }

        func results() throws(SnapshotError) -> [Result] {
            let (values, failure) = state.withLock { ($0.values, $0.failure) }
            if let failure { throw failure }
            return values.map { $0! }
        }
    }
}

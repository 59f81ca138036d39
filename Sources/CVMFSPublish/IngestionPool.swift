import Dispatch
import Synchronization

/// Runs many independent jobs on `threads` threads (the ingestion of files,
/// a replica's downloads) and collects the results in input order; the
/// first error stops the remaining work.
public struct IngestionPool {
    public let threads: Int

    public init(threads: Int) { self.threads = threads }

    public func run<Result: Sendable, Failure: Error>(count: Int, _ work: @Sendable (Int) throws(Failure) -> Result) throws(Failure) -> [Result] {
        let slots = ResultSlots<Result>(count: count)
        let next = Atomic<Int>(0)
        let failure = Mutex<Failure?>(nil)
        DispatchQueue.concurrentPerform(iterations: max(1, min(threads, count))) { _ in
            while true {
                let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if index >= count || failure.withLock({ $0 != nil }) { return }
                do throws(Failure) {
                    slots.set(index, try work(index))
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                    return
                }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        return slots.take()
    }
}

/// Result storage where each index is written by exactly one worker, once,
/// and read only after every worker has finished (concurrentPerform joins).
private final class ResultSlots<Result>: @unchecked Sendable {
    private let values: UnsafeMutableBufferPointer<Result?>

    init(count: Int) {
        values = .allocate(capacity: count)
        values.initialize(repeating: nil)
    }

    deinit {
        values.deinitialize()
        values.deallocate()
    }

    func set(_ index: Int, _ value: Result) { values[index] = value }

    func take() -> [Result] { values.map { $0! } }
}

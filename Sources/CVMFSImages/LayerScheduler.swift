import Foundation
import Synchronization

/// Runs the layer tasks of an image on a bounded number of threads, in the order given, while
/// the caller waits for the layers one by one (to build the flat root in layer order as soon
/// as each layer is ready). The first failure stops the tasks not yet begun; the ones running
/// finish their layer.
///
/// Plain threads rather than `DispatchQueue.concurrentPerform`: the tasks block on the
/// network, and libdispatch sizes its width by the number of cores, not by `--jobs`.
final class LayerScheduler: Sendable {
    private let tasks: [LayerTask]
    private let work: @Sendable (LayerTask) throws(ImageError) -> Void
    private let threads: Int
    private let next = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    private let firstError = Mutex<ImageError?>(nil)
    /// One per task, signalled once the task ended, whether it succeeded, failed or was skipped.
    private let ended: [DispatchSemaphore]
    private let succeeded: Mutex<[Bool]>
    private let running = DispatchGroup()

    init(tasks: [LayerTask], threads: Int, work: @escaping @Sendable (LayerTask) throws(ImageError) -> Void) {
        self.tasks = tasks
        self.work = work
        self.threads = max(1, threads)
        ended = tasks.map { _ in DispatchSemaphore(value: 0) }
        succeeded = Mutex(tasks.map { _ in false })
    }

    func start() {
        for _ in 0..<min(threads, tasks.count) {
            running.enter()
            let thread = Thread { [self] in
                runTasks()
                running.leave()
            }
            // Room for the tar reader's and the applier's frames on deep trees.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Every thread takes the next index until none is left, so each task is taken (and its
    /// semaphore signalled) exactly once, also after a stop.
    private func runTasks() {
        while true {
            let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if index >= tasks.count { return }
            defer { ended[index].signal() }
            if stopped.load(ordering: .acquiring) { continue }
            do throws(ImageError) {
                try work(tasks[index])
                succeeded.withLock { $0[index] = true }
            } catch {
                fail(error)
            }
        }
    }

    private func fail(_ error: ImageError) {
        firstError.withLock { if $0 == nil { $0 = error } }
        stopped.store(true, ordering: .releasing)
    }

    /// Waits until the task for `digest` (if there is one) has succeeded; throws the first
    /// failure of any task otherwise.
    func wait(for digest: Digest) throws(ImageError) {
        guard let index = tasks.firstIndex(where: { $0.digest == digest }) else { return }
        ended[index].wait()
        ended[index].signal()  // a later wait for the same layer returns at once
        if succeeded.withLock({ $0[index] }) { return }
        throw firstError.withLock { $0 } ?? .layer("\(tasks[index].what): not converted")
    }

    /// Stops the tasks not yet begun (the caller failed) and waits for the running ones.
    func cancel() {
        stopped.store(true, ordering: .releasing)
        running.wait()
    }

    /// Waits for every task; throws the first failure.
    func finish() throws(ImageError) {
        running.wait()
        if let error = firstError.withLock({ $0 }) { throw error }
    }
}

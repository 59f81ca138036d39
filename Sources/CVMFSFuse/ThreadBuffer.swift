#if canImport(Glibc)
import Glibc
#endif

/// A per-thread scratch buffer for read and readdir replies, so the hot path
/// does not allocate per request. It grows to the largest request a thread
/// has served (bounded by the kernel's max_read / max_pages) and is freed by
/// the pthread key destructor when the worker thread ends.
///
/// Layout of a block: the capacity as an `Int`, then the bytes.
enum ThreadBuffer {
    private static let header = MemoryLayout<Int>.stride

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key) { block in free(block) }
        precondition(rc == 0, "pthread_key_create failed with \(rc)")
        return key
    }()

    /// Lends this thread's buffer with at least `count` bytes. The buffer must
    /// not escape `body`, and `body` must not call `with` again.
    @inline(__always)
    static func with<R>(count: Int, _ body: (UnsafeMutableRawBufferPointer) -> R) -> R {
        var block = pthread_getspecific(key)
        if block == nil || block!.load(as: Int.self) < count {
            block = grow(block, to: count)
        }
        return body(UnsafeMutableRawBufferPointer(start: block! + header, count: count))
    }

    @inline(never)
    private static func grow(_ old: UnsafeMutableRawPointer?, to count: Int) -> UnsafeMutableRawPointer {
        free(old)
        // Round up to 64 KiB so that slowly growing requests do not realloc each time.
        let capacity = (max(count, 1) + 0xFFFF) & ~0xFFFF
        guard let block = malloc(header + capacity) else {
            fatalError("out of memory for a \(capacity)-byte FUSE reply buffer")
        }
        block.storeBytes(of: capacity, as: Int.self)
        pthread_setspecific(key, block)
        return block
    }
}

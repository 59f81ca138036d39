import Glibc

/// Runs `body` on a new detached thread (a long-lived worker outside any
/// pool: libdispatch threads must not block forever). Returns false if the
/// thread could not be created.
@discardableResult
func spawnDetachedThread(_ body: @escaping @Sendable () -> Void) -> Bool {
    final class Box: @unchecked Sendable {  // handed to exactly one new thread
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var thread = pthread_t()
    let box = Unmanaged.passRetained(Box(body))
    let rc = pthread_create(&thread, nil, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        box.body()
        return nil
    }, box.toOpaque())
    guard rc == 0 else {
        box.release()
        return false
    }
    pthread_detach(thread)
    return true
}

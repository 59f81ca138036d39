#if canImport(Glibc)
import Glibc
#endif
import CVMFSFormat

/// The right, won by one thread, to fill one object of the cache: the caller
/// downloads into `sink` and then calls `commit()` (or `fail(_:)`). The cache
/// owns placement: the temp file, the reservation, the in-flight entry other
/// threads wait on, and making the verified file the cached object.
///
/// Exactly one of `commit` and `fail` ends the ticket; whatever happens,
/// the reservation is given back, the temp file removed and the waiters woken.
public final class CacheFillTicket {
    /// Where the downloaded bytes go: inflated, verified, counted against the quota.
    public let sink: CacheFillSink
    private let cache: ObjectCache
    private let request: FillRequest
    private let fill: CacheFill
    /// Whether a failure reaches the waiters (a reader's fill) or lets them
    /// fetch on their own (a fetch ahead, which must never fail a read).
    private let failureReachesWaiters: Bool
    private let reservation: HeldReservation
    private let tempFD: CInt
    private let tempPath: String
    private var renamed = false
    private var ended = false

    init(cache: ObjectCache, request: FillRequest, fill: CacheFill, reservation: Int64, failureReachesWaiters: Bool,
         tempFD: CInt, tempPath: String) {
        self.cache = cache
        self.request = request
        self.fill = fill
        self.failureReachesWaiters = failureReachesWaiters
        self.reservation = HeldReservation(reservation)
        self.tempFD = tempFD
        self.tempPath = tempPath
        sink = CacheFillSink(hash: request.hash, compression: request.compression, expectedSize: request.expectedSize,
                             fd: tempFD, tempPath: tempPath, directory: cache.directory, reservation: reservation,
                             grow: cache.reservationGrower(for: request.hash, into: self.reservation))
    }

    deinit {
        if !ended { end(.notCached(hash: request.hash)) }
    }

    /// Verifies what the sink received and makes it the cached object;
    /// returns a read-only descriptor of it (pinned if the request asked).
    public func commit() throws(CacheError) -> FileDescriptor {
        do {
            let fd = try place()
            end(nil)
            return fd
        } catch {
            end(error)
            throw error
        }
    }

    /// The download failed: ends the ticket and returns the error to report,
    /// the sink's own refusal (quota, disk, bytes that do not verify) when
    /// there is one, since it says more than the downloader's summary of it.
    public func fail(_ error: DownloadError) -> CacheError {
        let failure = sink.failure ?? .downloadFailed(hash: request.hash, error)
        end(failure)
        return failure
    }

    private func place() throws(CacheError) -> FileDescriptor {
        if !sink.isFinished { try sink.finish() }
        // Open the verified file read-only before it becomes visible, so
        // eviction between rename and open cannot make us lose it.
        let readFD: CInt
        do { readFD = try CacheSyscall.open(tempPath, O_RDONLY) } catch {
            throw .io(operation: "open", path: tempPath, errno: error.rawValue)
        }
        let finished = FinishedFill(hash: request.hash, tempPath: tempPath, tempFD: tempFD, readFD: readFD,
                                    size: sink.writtenSize, kind: request.kind, description: request.description,
                                    pin: request.pin, reservation: reservation.bytes, threshold: cache.threshold)
        let fd: CInt
        do {
            fd = try cache.place(finished)
        } catch {
            // Refused only the pin: the object is cached, unpinned, and its
            // reservation is already `used`; nothing of it is ours to undo.
            if case .pinLimitExceeded = error { placed() }
            throw error
        }
        placed()
        return FileDescriptor(rawValue: fd)
    }

    /// The temp file is the cached object now and the placement turned the
    /// reservation into `used` (or gave it back).
    private func placed() {
        reservation.bytes = 0
        renamed = true
    }

    private func end(_ failure: CacheError?) {
        guard !ended else { return }
        ended = true
        CacheSyscall.close(tempFD)
        if !renamed { try? CacheSyscall.unlink(tempPath) }
        cache.endFill(request.hash, releasing: reservation.bytes)
        fill.complete(failureReachesWaiters ? failure : nil)
    }
}

/// What a fill is for.
struct FillRequest {
    var hash: ContentHash
    var compression: Compression
    var expectedSize: Int64?
    var kind: CacheObjectKind
    var description: String
    var pin: Bool
}

/// The bytes a fill holds reserved; grows as the sink's decoded bytes do.
final class HeldReservation {
    var bytes: Int64
    init(_ bytes: Int64) { self.bytes = bytes }
}

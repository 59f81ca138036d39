#if canImport(Glibc)
import Glibc
#endif
import CVMFSFormat

extension ObjectCache {
    private enum Role {
        case retry
        case wait(CacheFill)
        case produce(CacheFill, reservation: Int64)
    }

    /// Returns a read-only descriptor of the object, downloading it on a miss.
    ///
    /// One download per object however many threads ask: the first caller
    /// runs `download` (which streams the served bytes into the sink, and may
    /// `reset()` and replay them on a retry); the others wait and then open
    /// the result, or get the producer's error. Decoded bytes go to
    /// `txn/fetchXXXXXX` and are renamed into place only after the hash, zlib
    /// end and `expectedSize` verified; on any failure the temp file is removed.
    ///
    /// Quota: space is reserved before the download (the expected size when
    /// known, growing as bytes arrive otherwise), evicting LRU objects first,
    /// so the cache never exceeds its limit. An object larger than half the
    /// limit throws `CacheError.objectTooLarge` (ENOSPC).
    public func fetch(
        hash: ContentHash,
        compression: Compression,
        expectedSize: Int64?,
        kind: CacheObjectKind,
        description: String? = nil,
        pin: Bool = false,
        download: (any ObjectSink) throws(DownloadError) -> Void
    ) throws(CacheError) -> FileDescriptor {
        while true {
            if let fd = try open(hash, pin: pin) { return fd }
            let limit = self.limit
            let directory = self.directory
            let role = try state.withLock { (s) throws(CacheError) -> Role in
                if limit >= 0 && s.entries[hash] != nil { return .retry }
                if let fill = s.inFlight[hash] { return .wait(fill) }
                var reservation: Int64 = 0
                if limit >= 0 {
                    reservation = max(expectedSize ?? 0, 0)
                    try Self.reserve(&s, hash, amount: reservation, size: reservation, limit: limit, directory: directory)
                }
                let fill = CacheFill()
                s.inFlight[hash] = fill
                return .produce(fill, reservation: reservation)
            }
            switch role {
            case .retry:
                continue
            case .wait(let fill):
                if let error = fill.wait() { throw error }
                continue
            case .produce(let fill, let reservation):
                do {
                    let fd = try produce(hash: hash, compression: compression, expectedSize: expectedSize, kind: kind,
                                         description: description ?? kind.defaultDescription, pin: pin,
                                         reservation: reservation, download: download)
                    fill.complete(nil)
                    return fd
                } catch {
                    fill.complete(error)
                    throw error
                }
            }
        }
    }

    /// Fetches an object ahead of a reader, unpinned, only if there is room
    /// to spare: returns `.present` at once when the object is cached or on
    /// its way, and `.noRoom` (nothing reserved, nothing evicted) when pinned
    /// plus reserved bytes and this object would pass `headroom` (a share of
    /// the limit, so fetching ahead never takes the room a reader's own fetch
    /// needs). Otherwise reserves `size` like `fetch` (evicting unpinned LRU
    /// objects if needed, never pinned ones) and fills it: `.filled`.
    ///
    /// A reader that asks for the object meanwhile waits for this fill; if
    /// it fails, the waiters are woken without the error and fetch the object
    /// themselves, so a failed prefetch never fails a read. Throws the fill's
    /// error.
    public func prefetch(
        hash: ContentHash,
        compression: Compression,
        size: Int64,
        kind: CacheObjectKind,
        headroom: Int64,
        download: (any ObjectSink) throws(DownloadError) -> Void
    ) throws(CacheError) -> PrefetchOutcome {
        // Another process may have filled a shared cache: its row is the truth.
        if isManaged, let fd = try openAdopted(hash, pin: false) {
            fd.close()
            return .present
        }
        let limit = self.limit
        let directory = self.directory
        // The fill this call produces, or why there is none.
        let claim: Result<CacheFill, PrefetchSkip> = state.withLock { s in
            if s.entries[hash] != nil || s.inFlight[hash] != nil { return .failure(PrefetchSkip(.present)) }
            if limit >= 0 {
                guard size >= 0, size <= limit / 2, s.pinned + s.reserved + size <= headroom else {
                    return .failure(PrefetchSkip(.noRoom))
                }
                do throws(CacheError) {
                    try Self.reserve(&s, hash, amount: size, size: size, limit: limit, directory: directory)
                } catch {
                    return .failure(PrefetchSkip(.noRoom))
                }
            }
            let fill = CacheFill()
            s.inFlight[hash] = fill
            return .success(fill)
        }
        let fill: CacheFill
        switch claim {
        case .success(let claimed): fill = claimed
        case .failure(let skip): return skip.outcome
        }
        do {
            let fd = try produce(hash: hash, compression: compression, expectedSize: size, kind: kind,
                                 description: kind.defaultDescription, pin: false,
                                 reservation: limit >= 0 ? size : 0, download: download)
            fd.close()
            fill.complete(nil)
            return .filled
        } catch {
            fill.complete(nil)  // waiters retry on their own
            throw error
        }
    }

    private struct PrefetchSkip: Error {
        var outcome: PrefetchOutcome
        init(_ outcome: PrefetchOutcome) { self.outcome = outcome }
    }

    /// Reserves `amount` more bytes (lock held). `size` is the object's size
    /// so far, checked against half the limit.
    static func reserve(_ s: inout ObjectCacheState, _ hash: ContentHash, amount: Int64, size: Int64,
                        limit: Int64, directory: CacheDirectory) throws(CacheError) {
        if size > limit / 2 { throw .objectTooLarge(hash: hash, size: size, limit: limit) }
        guard let ledger = s.ledger else { return }
        try ledger.reserve(&s, hash, amount: amount, limit: limit)
    }

    private func produce(
        hash: ContentHash, compression: Compression, expectedSize: Int64?, kind: CacheObjectKind,
        description: String, pin: Bool, reservation: Int64, download: (any ObjectSink) throws(DownloadError) -> Void
    ) throws(CacheError) -> FileDescriptor {
        let directory = self.directory
        var held = reservation
        defer {
            // Whatever happened, the reservation is released (commit turned it into `used`).
            let release = held
            if release > 0 { state.withLock { s in s.ledger?.release(&s, reservation: release) } }
            state.withLock { _ = $0.inFlight.removeValue(forKey: hash) }
        }
        // Unmanaged caches are not tracked in memory: another process may have filled it.
        if !isManaged {
            let (fd, _) = openObject(hash)
            if fd >= 0 { return FileDescriptor(rawValue: fd) }
        }
        let (tempFD, tempPath) = try makeTempFile()
        var renamed = false
        defer {
            CacheSyscall.close(tempFD)
            if !renamed { try? CacheSyscall.unlink(tempPath) }
        }
        let sink = CacheFillSink(
            hash: hash, compression: compression, expectedSize: expectedSize, fd: tempFD, tempPath: tempPath,
            directory: directory, reservation: reservation, grow: reservationGrower(for: hash) { held = $0 })
        do throws(DownloadError) { try download(sink) } catch {
            // The sink's own refusal (quota, disk, bytes that do not verify) says more than the
            // downloader's summary of it.
            throw sink.failure ?? .downloadFailed(hash: hash, error)
        }
        if !sink.isFinished { try sink.finish() }
        // Open the verified file read-only before it becomes visible, so
        // eviction between rename and open cannot make us lose it.
        let readFD: CInt
        do { readFD = try CacheSyscall.open(tempPath, O_RDONLY) } catch {
            throw .io(operation: "open", path: tempPath, errno: error.rawValue)
        }
        guard isManaged else {
            do { try directory.moveIntoPlace(tempPath, hash) } catch {
                CacheSyscall.close(readFD)
                throw .io(operation: "rename", path: directory.objectPath(hash), errno: error.rawValue)
            }
            renamed = true
            return FileDescriptor(rawValue: readFD)
        }
        let fill = FinishedFill(hash: hash, tempPath: tempPath, tempFD: tempFD, readFD: readFD, size: sink.writtenSize,
                                kind: kind, description: description, pin: pin, reservation: held, threshold: threshold)
        let fd = try state.withLock { (s) throws(CacheError) -> CInt in
            guard let ledger = s.ledger else { return readFD }
            return try ledger.commit(&s, fill)
        }
        // The reservation became `used` (or was given back) inside the commit.
        held = 0
        renamed = true
        return FileDescriptor(rawValue: fd)
    }

    /// A temp file in `txn/` for one fill, flocked while it is written: a
    /// shared cache's reconcile in another process leaves held files alone
    /// (see `removeStaleTemps`).
    private func makeTempFile() throws(CacheError) -> (CInt, String) {
        let file: (CInt, String)
        do { file = try CacheSyscall.mkstemp(directory.txnPath + "/fetchXXXXXX") } catch {
            throw .io(operation: "mkstemp", path: directory.txnPath, errno: error.rawValue)
        }
        // Cheap, and what keeps a shared cache's other processes from removing it.
        try? CacheSyscall.flock(file.0, LOCK_EX)
        return file
    }

    /// How a fill's reservation grows as its decoded bytes arrive:
    /// geometrically, so that a large object of unknown size does not take
    /// the lock per write; `note` learns the bytes now held.
    private func reservationGrower(for hash: ContentHash, _ note: @escaping (Int64) -> Void)
        -> (_ needed: Int64, _ current: Int64) throws(CacheError) -> Int64 {
        let limit = self.limit
        let directory = self.directory
        return { [self] (needed, current) throws(CacheError) -> Int64 in
            guard limit >= 0 else { return Int64.max }
            let target = min(max(needed, current * 2, 256 * 1024), max(limit / 2, needed))
            try state.withLock { (s) throws(CacheError) in
                try Self.reserve(&s, hash, amount: target - current, size: needed, limit: limit, directory: directory)
            }
            note(target)
            return target
        }
    }
}

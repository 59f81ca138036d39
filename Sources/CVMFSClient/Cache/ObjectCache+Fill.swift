#if canImport(Glibc)
import Glibc
#endif
import CVMFSFormat

/// What a reader gets when it asks the cache for an object.
public enum CacheClaim {
    /// The object is cached: a read-only descriptor of it.
    case cached(FileDescriptor)
    /// It is not, and this caller fills it: download into the ticket's sink, then commit.
    case fill(CacheFillTicket)
}

/// What a fetch ahead of demand gets.
public enum CacheAheadClaim {
    /// Cached, or already on its way: nothing to do.
    case present
    /// Skipped: it would take room a reader's own fetch may need.
    case noRoom
    /// This caller fills it, unpinned.
    case fill(CacheFillTicket)
}

extension ObjectCache {
    /// A cached copy whose length is not the size the catalog gives (cut short or grown on disk
    /// after it was verified, e.g. by a crash or a full disk): removed and forgotten, so the
    /// caller fetches it again instead of serving a file of the wrong length. One `fstat` per
    /// open; the content itself is not re-hashed on open (`fsck` does that,
    /// docs/format/client-behaviour.md §13).
    @inline(never)
    private func discardDamaged(_ hash: ContentHash, _ fd: FileDescriptor, pin: Bool, size: Int64, expectedSize: Int64) {
        fd.close()
        if pin { unpin(hash) }
        let path = directory.objectPath(hash)
        try? CacheSyscall.unlink(path)
        if isManaged { state.withLock { Self.forget(&$0, hash) } }
        Log.notice("cache: \(path) holds \(size) bytes, the catalog says \(expectedSize): removed, fetching it again")
    }

    private enum Role {
        case retry
        case wait(CacheFill)
        case produce(CacheFill, reservation: Int64)
    }

    /// The object, or the right to fill it.
    ///
    /// One download per object however many threads ask: the first caller
    /// gets the ticket; the others wait here and then open the result, or
    /// get the filler's error. Decoded bytes go to `txn/fetchXXXXXX` and are
    /// renamed into place only after the hash, zlib end and `expectedSize`
    /// verified; on any failure the temp file is removed.
    ///
    /// Quota: space is reserved before the download (the expected size when
    /// known, growing as bytes arrive otherwise), evicting LRU objects first,
    /// so the cache never exceeds its limit. An object larger than half the
    /// limit throws `CacheError.objectTooLarge` (ENOSPC).
    public func claim(hash: ContentHash, compression: Compression, expectedSize: Int64?, kind: CacheObjectKind,
                      description: String? = nil, pin: Bool = false) throws(CacheError) -> CacheClaim {
        let request = FillRequest(hash: hash, compression: compression, expectedSize: expectedSize, kind: kind,
                                  description: description ?? kind.defaultDescription, pin: pin)
        while true {
            if let fd = try open(hash, pin: pin) {
                guard let expectedSize, let size = try? CacheSyscall.fstat(fd.rawValue).size, size != expectedSize else {
                    return .cached(fd)
                }
                discardDamaged(hash, fd, pin: pin, size: size, expectedSize: expectedSize)
                continue
            }
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
                // Unmanaged caches are not tracked in memory: another process may have filled it.
                if !isManaged {
                    let (fd, _) = openObject(hash)
                    if fd >= 0 {
                        endFill(hash, releasing: 0)
                        fill.complete(nil)
                        return .cached(FileDescriptor(rawValue: fd))
                    }
                }
                return .fill(try ticket(request, fill, reservation: reservation, failureReachesWaiters: true))
            }
        }
    }

    /// Claims an object ahead of a reader, unpinned, only if there is room
    /// to spare: `.present` at once when the object is cached or on its way,
    /// and `.noRoom` (nothing reserved, nothing evicted) when pinned plus
    /// reserved bytes and this object would pass `headroom` (a share of the
    /// limit, so fetching ahead never takes the room a reader's own fetch
    /// needs). Otherwise reserves `size` like `claim` (evicting unpinned LRU
    /// objects if needed, never pinned ones) and hands out the ticket.
    ///
    /// A reader that asks for the object meanwhile waits for this fill; if
    /// it fails, the waiters are woken without the error and fetch the object
    /// themselves, so a failed fetch ahead never fails a read.
    public func claimAhead(hash: ContentHash, compression: Compression, size: Int64, kind: CacheObjectKind,
                           headroom: Int64) throws(CacheError) -> CacheAheadClaim {
        // Another process may have filled a shared cache: its row is the truth.
        if isManaged, let fd = try openAdopted(hash, pin: false) {
            fd.close()
            return .present
        }
        let limit = self.limit
        let directory = self.directory
        let claimed: Result<CacheFill, AheadSkip> = state.withLock { s in
            if s.entries[hash] != nil || s.inFlight[hash] != nil { return .failure(.present) }
            if limit >= 0 {
                guard size >= 0, size <= limit / 2, s.pinned + s.reserved + size <= headroom else { return .failure(.noRoom) }
                do throws(CacheError) {
                    try Self.reserve(&s, hash, amount: size, size: size, limit: limit, directory: directory)
                } catch {
                    return .failure(.noRoom)
                }
            }
            let fill = CacheFill()
            s.inFlight[hash] = fill
            return .success(fill)
        }
        let fill: CacheFill
        switch claimed {
        case .success(let claimedFill): fill = claimedFill
        case .failure(.present): return .present
        case .failure(.noRoom): return .noRoom
        }
        let request = FillRequest(hash: hash, compression: compression, expectedSize: size, kind: kind,
                                  description: kind.defaultDescription, pin: false)
        return .fill(try ticket(request, fill, reservation: limit >= 0 ? size : 0, failureReachesWaiters: false))
    }

    private enum AheadSkip: Error { case present, noRoom }

    /// The ticket of a claimed fill, with its temp file; a failure to make
    /// one ends the claim at once.
    private func ticket(_ request: FillRequest, _ fill: CacheFill, reservation: Int64,
                        failureReachesWaiters: Bool) throws(CacheError) -> CacheFillTicket {
        do {
            let (tempFD, tempPath) = try makeTempFile()
            return CacheFillTicket(cache: self, request: request, fill: fill, reservation: reservation,
                                   failureReachesWaiters: failureReachesWaiters, tempFD: tempFD, tempPath: tempPath)
        } catch {
            endFill(request.hash, releasing: reservation)
            fill.complete(failureReachesWaiters ? error : nil)
            throw error
        }
    }

    /// Makes a finished fill the cached object: the ledger's commit, or a
    /// plain rename in an unmanaged cache. Returns the descriptor to hand out.
    func place(_ finished: FinishedFill) throws(CacheError) -> CInt {
        guard isManaged else {
            do { try directory.moveIntoPlace(finished.tempPath, finished.hash) } catch {
                CacheSyscall.close(finished.readFD)
                throw .io(operation: "rename", path: directory.objectPath(finished.hash), errno: error.rawValue)
            }
            return finished.readFD
        }
        return try state.withLock { (s) throws(CacheError) -> CInt in
            guard let ledger = s.ledger else { return finished.readFD }
            return try ledger.commit(&s, finished)
        }
    }

    /// A fill ended either way: its reservation is given back (placement
    /// turned it into `used`) and it leaves the in-flight table.
    func endFill(_ hash: ContentHash, releasing bytes: Int64) {
        state.withLock { s in
            if bytes > 0 { s.ledger?.release(&s, reservation: bytes) }
            _ = s.inFlight.removeValue(forKey: hash)
        }
    }

    /// Reserves `amount` more bytes (lock held). `size` is the object's size
    /// so far, checked against half the limit.
    static func reserve(_ s: inout ObjectCacheState, _ hash: ContentHash, amount: Int64, size: Int64,
                        limit: Int64, directory: CacheDirectory) throws(CacheError) {
        if size > limit / 2 { throw .objectTooLarge(hash: hash, size: size, limit: limit) }
        guard let ledger = s.ledger else { return }
        try ledger.reserve(&s, hash, amount: amount, limit: limit)
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
    /// the lock per write; `held` follows the bytes now reserved.
    func reservationGrower(for hash: ContentHash, into held: HeldReservation)
        -> (_ needed: Int64, _ current: Int64) throws(CacheError) -> Int64 {
        let limit = self.limit
        let directory = self.directory
        return { [self] (needed, current) throws(CacheError) -> Int64 in
            guard limit >= 0 else { return Int64.max }
            let target = min(max(needed, current * 2, 256 * 1024), max(limit / 2, needed))
            try state.withLock { (s) throws(CacheError) in
                try Self.reserve(&s, hash, amount: target - current, size: needed, limit: limit, directory: directory)
            }
            held.bytes = target
            return target
        }
    }
}

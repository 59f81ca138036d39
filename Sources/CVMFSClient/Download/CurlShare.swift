import CCurl
import CVMFSCurl
import Glibc

/// A libcurl share object for the DNS cache, used by all easy handles of one `Downloader`.
///
/// Only DNS is shared. libcurl's CURLSHOPT_SHARE(3) says sharing the connection cache
/// (`CURL_LOCK_DATA_CONNECT`) between concurrently running threads is not supported, so each
/// pooled easy handle keeps its own connection cache instead; reusing the handles is what reuses
/// the connections.
///
/// `@unchecked Sendable`: libcurl serialises every access to the shared data through the lock
/// callbacks below, which take one `pthread_mutex_t` per `curl_lock_data` kind from `locks`.
final class CurlShare: @unchecked Sendable {
    let share: OpaquePointer
    private let locks: UnsafeMutablePointer<pthread_mutex_t>
    private static let lockCount = Int(CURL_LOCK_DATA_LAST.rawValue) + 1

    init() throws(DownloadConfigurationError) {
        CurlGlobal.ensureInitialised()
        guard let raw = curl_share_init() else { throw .curlSetup("curl_share_init returned NULL") }
        share = OpaquePointer(raw)
        locks = .allocate(capacity: Self.lockCount)
        for i in 0..<Self.lockCount { pthread_mutex_init(locks + i, nil) }
        let setups: [CURLSHcode] = [
            cvmfs_curl_share_setopt_ptr(raw, CURLSHOPT_USERDATA, UnsafeMutableRawPointer(locks)),
            cvmfs_curl_share_setopt_lock(raw) { _, data, _, user in
                pthread_mutex_lock(user!.assumingMemoryBound(to: pthread_mutex_t.self) + Int(data.rawValue))
            },
            cvmfs_curl_share_setopt_unlock(raw) { _, data, user in
                pthread_mutex_unlock(user!.assumingMemoryBound(to: pthread_mutex_t.self) + Int(data.rawValue))
            },
            cvmfs_curl_share_setopt_long(raw, CURLSHOPT_SHARE, Int(CURL_LOCK_DATA_DNS.rawValue)),
        ]
        if let bad = setups.first(where: { $0 != CURLSHE_OK }) {
            curl_share_cleanup(raw)
            throw .curlSetup("curl_share_setopt: " + String(cString: curl_share_strerror(bad)))
        }
    }

    deinit {
        // Every easy handle using the share is cleaned up first (the pool dies with its Downloader,
        // before this object), as curl_share_cleanup(3) requires.
        curl_share_cleanup(UnsafeMutableRawPointer(share))
        for i in 0..<Self.lockCount { pthread_mutex_destroy(locks + i) }
        locks.deallocate()
    }
}

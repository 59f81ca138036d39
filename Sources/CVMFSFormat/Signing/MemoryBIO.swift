import CCrypto

/// In-memory BIOs for OpenSSL's PEM and DER readers and writers.
///
/// The PEM API only speaks BIO; these wrappers keep the BIO's lifetime inside
/// one closure so no handle leaks on an early return.
enum MemoryBIO {
    /// Lends a read-only BIO over `bytes` for the duration of `body`.
    static func reading<R>(_ bytes: [UInt8], _ body: (OpaquePointer) -> R) -> R {
        bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
                fatalError("OpenSSL cannot allocate a memory BIO: out of memory")
            }
            defer { BIO_free(bio) }
            return body(bio)
        }
    }

    /// Runs `body` against an empty writable BIO and returns what it wrote,
    /// or `nil` if `body` reports failure.
    static func writing(_ body: (OpaquePointer) -> Bool) -> [UInt8]? {
        guard let bio = BIO_new(BIO_s_mem()) else {
            fatalError("OpenSSL cannot allocate a memory BIO: out of memory")
        }
        defer { BIO_free(bio) }
        guard body(bio) else { return nil }
        var data: UnsafeMutablePointer<CChar>?
        let count = cvmfs_bio_get_mem_data(bio, &data)
        guard count > 0, let data else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: count))
    }
}

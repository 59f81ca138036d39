import CFuse3

extension FuseMount {
    /// Tells the kernel to forget its cached dentries `name` in `parent`
    /// (after a revision switch), so the next access looks them up again.
    /// Entries the kernel no longer holds are ignored (ENOENT).
    public func invalidateEntries(_ entries: [(parent: UInt64, name: [UInt8])]) {
        guard let address = state.withLock({ $0.session }) else { return }
        let session = OpaquePointer(bitPattern: address)
        for entry in entries {
            entry.name.withUnsafeBufferPointer { name in
                name.withMemoryRebound(to: CChar.self) { chars in
                    _ = fuse_lowlevel_notify_inval_entry(session, entry.parent, chars.baseAddress, chars.count)
                }
            }
        }
    }
}

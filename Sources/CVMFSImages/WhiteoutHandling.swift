/// What `LayerApplier` does with the OCI whiteout entries of a layer tarball (image-spec
/// "layer.md", Whiteouts): `.wh.<name>` hides `<name>` of the layers below, `.wh..wh..opq`
/// hides everything the layers below put into its directory.
public enum WhiteoutHandling: Sendable {
    /// Carry them out: the named files and directory contents are deleted, so the root holds
    /// the merged file system (`.flat`).
    case apply
    /// Turn them into the whiteouts overlayfs reads in a lower layer (Documentation/
    /// filesystems/overlayfs.rst, "whiteouts and opaque directories"): `.wh.<name>` becomes a
    /// character device 0/0 named `<name>`, `.wh..wh..opq` sets `trusted.overlay.opaque=y` on
    /// its directory, and also `user.overlay.opaque=y`, which an overlay mounted with
    /// `userxattr` (rootless podman) reads instead. This is what containers/storage's overlay
    /// driver itself makes of a pulled layer, so its `diff` folders can be these copies.
    case overlay
    /// Keep them as the empty files they are in the tarball (a docker archive unpacked to
    /// read its blobs).
    case keep
}

/// What a conversion still needs of one layer (a digest appears once per image even if the
/// manifest lists it twice).
struct LayerTask: Sendable {
    var digest: Digest
    var size: Int64?
    var image: ImageReference
    /// `NAME layer 2/4 0123456789ab`, for progress lines.
    var label: String
    /// `layer 2/4 sha256:… of NAME`, for error messages.
    var what: String
    /// The verified blob must be spooled for the flat root.
    var needsBlob: Bool
    /// The `.layers` copy must be made.
    var needsCopy: Bool
}

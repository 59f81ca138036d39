/// The three signed or trust-carrying documents of a repository, named in
/// every `SignatureError` so a user knows which file to look at
/// (docs/format/manifest-and-signatures.md §1–4).
public enum SignedDocument: String, Sendable, CustomStringConvertible {
    case manifest
    case whitelist
    case certificate

    public var description: String { rawValue }
}

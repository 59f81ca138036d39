/// Why a manifest, whitelist, certificate or key was refused.
///
/// Each case carries what a user needs to find the problem: the document,
/// the repository name, the expected and actual values, the file path
/// (docs/format/manifest-and-signatures.md §5 lists the client's checks in order).
public enum SignatureError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The letter has no `\n--\n` line between payload and hash (§1, step 1).
    case missingSeparator(document: SignedDocument)
    /// The line after `--` is not a printable hash of a supported algorithm (§1, step 2).
    case unparsableHashLine(document: SignedDocument, line: String)
    /// The payload does not hash to the value in the hash line (§1, step 4).
    case payloadHashMismatch(document: SignedDocument, expected: ContentHash, actual: ContentHash)
    /// The RSA signature over the hash line does not verify (§1, step 5).
    case badSignature(document: SignedDocument)
    /// One of the keys `C R D S` the manifest parser requires is absent (§2.1).
    case manifestIncomplete(missingKey: Character)
    /// A manifest key's value cannot be read as its type (hash, number).
    case manifestMalformed(key: Character, value: String)
    /// The document belongs to another repository (`N` line, §5 step 3 and §3.1).
    case nameMismatch(document: SignedDocument, expected: String, found: String)
    /// Manifest key `R` is not MD5 of the empty path (§5 step 3).
    case rootPathHashMismatch(found: String)
    /// The manifest is older than a copy already seen: a possible replay (§5 step 4).
    case outdatedTimestamp(found: UInt64, minimum: UInt64)
    /// A whitelist line breaks the fixed layout of §3.1 (line numbers start at 1).
    case whitelistMalformed(line: Int, reason: String)
    /// The whitelist's expiry hour has begun (§3.2).
    case whitelistExpired(fqrn: String, expiry: WhitelistTimestamp)
    /// The whitelist asks for PKCS#7 verification, which this client does not do (§3.4).
    case whitelistPKCS7Unsupported(fqrn: String)
    /// The whitelist asks for X.509 CA-chain verification, which needs a CA store we do not have (§3.5).
    case whitelistCAChainUnsupported(fqrn: String)
    /// The certificate bytes are not a PEM or DER X.509 certificate (§4).
    case certificateUnparsable(reason: String)
    /// The certificate's fingerprint is in none of the whitelist's lines (§5 step 9).
    case certificateNotInWhitelist(fqrn: String, fingerprint: ContentHash)
    /// The site's blacklist names the certificate that signed the manifest.
    case certificateBlacklisted(fqrn: String, fingerprint: ContentHash)
    /// The manifest's revision is below the blacklist's minimum for the repository.
    case revisionBlacklisted(fqrn: String, revision: UInt64, minimum: UInt64)
    /// No public key could check the document: none was loaded, or each is too short.
    case noUsablePublicKey(document: SignedDocument)
    /// A key or certificate file cannot be opened or read (errno from the failing call).
    case keyFileUnreadable(path: String, errno: Int32)
    /// A key or certificate file does not hold the expected PEM (§6).
    case keyFileUnparsable(path: String)
    /// A key or certificate file cannot be written (errno from the failing call).
    case keyFileUnwritable(path: String, errno: Int32)
    /// OpenSSL failed at something that should not fail (key generation, signing).
    case cryptoFailure(operation: String, reason: String)

    public var description: String {
        switch self {
        case let .missingSeparator(document):
            return "\(document) is not signed: no '--' line separates the text from the signature"
        case let .unparsableHashLine(document, line):
            return "\(document) has an unreadable hash line after '--': '\(line)'"
        case let .payloadHashMismatch(document, expected, actual):
            return "\(document) was altered: its text hashes to \(actual), the signed hash line says \(expected)"
        case let .badSignature(document):
            return "\(document) signature does not verify"
        case let .manifestIncomplete(key):
            return "manifest is incomplete: required key '\(key)' is missing"
        case let .manifestMalformed(key, value):
            return "manifest key '\(key)' has an invalid value '\(value)'"
        case let .nameMismatch(document, expected, found):
            return "\(document) is for repository '\(found)', expected '\(expected)'"
        case let .rootPathHashMismatch(found):
            return "manifest root path hash is \(found), expected \(Manifest.rootPathHash) (MD5 of the empty path)"
        case let .outdatedTimestamp(found, minimum):
            return "manifest timestamp \(found) is older than the newest copy already seen (\(minimum)): possible replay"
        case let .whitelistMalformed(line, reason):
            return "whitelist line \(line) is malformed: \(reason)"
        case let .whitelistExpired(fqrn, expiry):
            return "whitelist of \(fqrn) expired at \(expiry)"
        case let .whitelistPKCS7Unsupported(fqrn):
            return "whitelist of \(fqrn) uses PKCS#7 signing, which is not supported"
        case let .whitelistCAChainUnsupported(fqrn):
            return "whitelist of \(fqrn) requires X.509 CA-chain verification, which is not supported"
        case let .certificateUnparsable(reason):
            return "certificate cannot be parsed: \(reason)"
        case let .certificateNotInWhitelist(fqrn, fingerprint):
            return "certificate \(Whitelist.fingerprintLine(fingerprint)) is not in the whitelist of \(fqrn)"
        case let .certificateBlacklisted(fqrn, fingerprint):
            return "certificate \(Whitelist.fingerprintLine(fingerprint)) of \(fqrn) is blacklisted (CVMFS_BLACKLIST)"
        case let .revisionBlacklisted(fqrn, revision, minimum):
            return "revision \(revision) of \(fqrn) is blacklisted: revisions below \(minimum) are refused (CVMFS_BLACKLIST)"
        case let .noUsablePublicKey(document):
            return "no usable public key to verify the \(document) (check CVMFS_PUBLIC_KEY / CVMFS_KEYS_DIR)"
        case let .keyFileUnreadable(path, errno):
            return "cannot read key file \(path): \(errnoText(errno))"
        case let .keyFileUnparsable(path):
            return "key file \(path) does not hold a valid PEM key or certificate"
        case let .keyFileUnwritable(path, errno):
            return "cannot write key file \(path): \(errnoText(errno))"
        case let .cryptoFailure(operation, reason):
            return "OpenSSL failed to \(operation): \(reason)"
        }
    }
}

/// The envelope shared by every signed document: payload, `--`, printable
/// hash of the payload, binary signature (docs/format/manifest-and-signatures.md §1).
///
/// Parsing checks that the payload hashes to the hash line; the signature
/// is checked by the caller, because manifest and whitelist use different
/// keys and RSA schemes (§1, step 5).
public struct Letter: Sendable, Equatable {
    /// The text lines, including the newline that ends the last one.
    public let payload: [UInt8]
    /// The hash line's ASCII bytes without its newline: what the signature covers.
    public let hashLine: [UInt8]
    /// The hash line, parsed.
    public let payloadHash: ContentHash
    /// Every byte after the hash line's newline: the raw RSA signature.
    public let signature: [UInt8]

    private static let separator: [UInt8] = Array("\n--\n".utf8)

    /// Splits `bytes` into payload, hash line and signature, and checks the
    /// payload against the hash line with the algorithm its length implies.
    public init(parsing bytes: [UInt8], document: SignedDocument) throws(SignatureError) {
        guard let cut = Self.firstSeparator(in: bytes) else { throw .missingSeparator(document: document) }
        let hashStart = cut + Self.separator.count
        let hashEnd = bytes[hashStart...].firstIndex(of: 0x0A) ?? bytes.endIndex
        let line = Array(bytes[hashStart..<hashEnd])
        let text = String(decoding: line, as: UTF8.self)
        guard hashEnd < bytes.endIndex, let expected = ContentHash(printable: text) else {
            throw .unparsableHashLine(document: document, line: text)
        }
        payload = Array(bytes[0...cut])
        let actual = ContentHasher.hash(payload, algorithm: expected.algorithm)
        guard actual == expected else {
            throw .payloadHashMismatch(document: document, expected: expected, actual: actual)
        }
        hashLine = line
        payloadHash = expected
        signature = Array(bytes[(hashEnd + 1)...])
    }

    /// Builds a signed letter: hashes `payload` with `algorithm`, asks `sign`
    /// to sign the printable hash's ASCII bytes, and joins the parts.
    ///
    /// `payload` must end in a newline, as every text line of a letter does.
    public static func make(
        payload: [UInt8],
        algorithm: HashAlgorithm,
        sign: ([UInt8]) throws(SignatureError) -> [UInt8]
    ) throws(SignatureError) -> [UInt8] {
        precondition(payload.last == 0x0A, "a letter's payload must end in a newline")
        let line = Array(ContentHasher.hash(payload, algorithm: algorithm).description.utf8)
        let signature = try sign(line)
        return payload + Array("--\n".utf8) + line + [0x0A] + signature
    }

    /// Offset of the `\n` that starts the first `\n--\n`.
    private static func firstSeparator(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= separator.count else { return nil }
        for i in 0...(bytes.count - separator.count)
        where bytes[i] == 0x0A && bytes[i + 1] == 0x2D && bytes[i + 2] == 0x2D && bytes[i + 3] == 0x0A {
            return i
        }
        return nil
    }
}

/// The repository whitelist `/.cvmfswhitelist`: which certificates may sign
/// the manifest, and until when (docs/format/manifest-and-signatures.md §3).
public struct Whitelist: Sendable, Equatable {
    /// Line 1; upstream checks only its length, so an unreadable value is `nil`.
    public let created: WhitelistTimestamp?
    /// Line 2 (`E…`): the whitelist is void from the start of this hour.
    public let expires: WhitelistTimestamp
    /// Line 3 (`N…`).
    public let fqrn: String
    /// `Vpkcs7`: the whitelist is meant to be checked through PKCS#7 (§3.4).
    public let usesPKCS7: Bool
    /// `Wcachain`: the certificate must also pass X.509 chain verification (§3.5).
    public let requiresCAChain: Bool
    /// Allowed certificate fingerprints, each with its own algorithm.
    public let fingerprints: [ContentHash]

    /// Parses the payload lines of §3.1 (everything before `--`; parsing also
    /// stops at a `--` line, so a whole letter is accepted too).
    public init(parsing payload: some Collection<UInt8>) throws(SignatureError) {
        // One copy into contiguous bytes, then lines cut by index: walking a generic collection
        // byte by byte from another module goes through its witness table for every byte.
        let bytes = Array(payload)
        var lines: [String] = []
        bytes.withUnsafeBufferPointer { buffer in
            var start = 0
            for index in buffer.indices where buffer[index] == 0x0A {
                let line = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<index]), as: UTF8.self)
                start = index + 1
                if line == "--" { break }
                lines.append(line)
            }
        }
        guard lines.count >= 1, lines[0].utf8.count == 14 else {
            throw .whitelistMalformed(line: 1, reason: "creation time must be 14 characters (YYYYMMDDHHMMSS)")
        }
        created = WhitelistTimestamp(digits: lines[0])
        guard lines.count >= 2, lines[1].hasPrefix("E"), let expiry = WhitelistTimestamp(digits: lines[1].dropFirst()) else {
            throw .whitelistMalformed(line: 2, reason: "expiry must be 'E' and 14 digits (YYYYMMDDHHMMSS)")
        }
        expires = expiry
        guard lines.count >= 3, lines[2].hasPrefix("N"), lines[2].utf8.count > 1 else {
            throw .whitelistMalformed(line: 3, reason: "repository name line 'N<fqrn>' is missing")
        }
        fqrn = String(lines[2].dropFirst())
        var index = 3
        usesPKCS7 = index < lines.count && lines[index] == "Vpkcs7"
        if usesPKCS7 { index += 1 }
        requiresCAChain = index < lines.count && lines[index] == "Wcachain"
        if requiresCAChain { index += 1 }
        fingerprints = lines[index...].compactMap(Self.parseFingerprint)
    }

    /// Whether the whitelist is still valid at UNIX time `now`: only if `now`
    /// lies in an hour before the expiry hour (§3.2).
    public func isValid(at now: Int64) -> Bool {
        WhitelistTimestamp(unixTime: now).isInEarlierHour(than: expires)
    }

    /// Reads one fingerprint line as `SignatureManager::MkFromFingerprint`
    /// does: up to the first space, tab or `#`, colons removed, lowercased;
    /// `nil` for lines that are not a printable hash (they are skipped).
    public static func parseFingerprint(_ line: String) -> ContentHash? {
        let field = line.prefix { $0 != " " && $0 != "\t" && $0 != "#" }
        return ContentHash(printable: field.filter { $0 != ":" }.lowercased())
    }

    /// A fingerprint as the server writes it (`openssl x509 -fingerprint`
    /// style): uppercase hex pairs joined by `:`, then the algorithm id in
    /// uppercase, e.g. `…:FF-RMD160`.
    public static func fingerprintLine(_ hash: ContentHash) -> String {
        let hex = hash.hex.uppercased()
        var pairs: [Substring] = []
        var start = hex.startIndex
        while start < hex.endIndex {
            let end = hex.index(start, offsetBy: 2)
            pairs.append(hex[start..<end])
            start = end
        }
        return pairs.joined(separator: ":") + hash.algorithm.suffixID.uppercased()
    }

    /// The unsigned payload the server writes (`Whitelist::CreateString`):
    /// creation and expiry times in UTC, the name, one fingerprint per line.
    public static func makePayload(fqrn: String, created: Int64, expires: Int64, fingerprints: [ContentHash]) -> [UInt8] {
        var text = WhitelistTimestamp(unixTime: created).digits + "\n"
        text += "E" + WhitelistTimestamp(unixTime: expires).digits + "\n"
        text += "N" + fqrn + "\n"
        for fingerprint in fingerprints { text += fingerprintLine(fingerprint) + "\n" }
        return Array(text.utf8)
    }
}

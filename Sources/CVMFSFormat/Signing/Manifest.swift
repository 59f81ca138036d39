/// The repository manifest `/.cvmfspublished`: which root catalog to mount
/// and how to check it (docs/format/manifest-and-signatures.md §2).
public struct Manifest: Sendable, Equatable {
    /// `C`: the root catalog's content hash; its algorithm is the repository's.
    public var rootCatalog: ContentHash
    /// `B`: the root catalog's size after decompression (informational).
    public var catalogSize: UInt64
    /// `R`: MD5 of the root path, always `rootPathHash`; kept as read so the
    /// verifier can report what it found.
    public var rootPath: String
    /// `D`: catalog TTL in seconds at publish time.
    public var ttl: UInt64
    /// `S`: revision of the root catalog.
    public var revision: UInt64
    /// `G`: garbage collection is enabled.
    public var garbageCollectable: Bool
    /// `A`: `.cvmfsalt-…` bootstrap names exist.
    public var hasAlternativeNames: Bool
    /// `L`: micro catalog hash (reserved upstream).
    public var microCatalog: ContentHash?
    /// `N`: the fully qualified repository name.
    public var fqrn: String?
    /// `X`: the certificate object's hash.
    public var certificate: ContentHash?
    /// `H`: the history database's hash.
    public var history: ContentHash?
    /// `T`: publish time in UNIX seconds; guards against replays (§5 step 4).
    public var timestamp: UInt64?
    /// `M`: the meta-info JSON's hash.
    public var metainfo: ContentHash?
    /// `Y`: the hash of `/.cvmfsreflog`.
    public var reflog: ContentHash?

    /// MD5 of the empty path: the only valid `R` (§2.1).
    public static let rootPathHash = "d41d8cd98f00b204e9800998ecf8427e"

    public init(
        rootCatalog: ContentHash,
        catalogSize: UInt64,
        ttl: UInt64,
        revision: UInt64,
        garbageCollectable: Bool = false,
        hasAlternativeNames: Bool = false,
        microCatalog: ContentHash? = nil,
        fqrn: String? = nil,
        certificate: ContentHash? = nil,
        history: ContentHash? = nil,
        timestamp: UInt64? = nil,
        metainfo: ContentHash? = nil,
        reflog: ContentHash? = nil
    ) {
        self.rootCatalog = rootCatalog
        self.catalogSize = catalogSize
        self.rootPath = Self.rootPathHash
        self.ttl = ttl
        self.revision = revision
        self.garbageCollectable = garbageCollectable
        self.hasAlternativeNames = hasAlternativeNames
        self.microCatalog = microCatalog
        self.fqrn = fqrn
        self.certificate = certificate
        self.history = history
        self.timestamp = timestamp
        self.metainfo = metainfo
        self.reflog = reflog
    }

    /// Parses key lines with upstream's `ParseKeyvalMem` rules (§2.1): the
    /// first byte is the key, the rest of the line the untrimmed value, empty
    /// lines are skipped, parsing stops at `--`, a later key wins (`Z`
    /// values are joined), an unterminated last line is ignored.
    ///
    /// Accepts the whole letter or just its payload. Checks only what the
    /// parser checks (`C R D S` present, values readable); name, root path
    /// and timestamp are the verifier's job (§5 steps 3–4).
    public init(parsing bytes: some Collection<UInt8>) throws(SignatureError) {
        var values: [Character: String] = [:]
        var line: [UInt8] = []
        for byte in bytes {
            guard byte == 0x0A else {
                line.append(byte)
                continue
            }
            defer { line.removeAll(keepingCapacity: true) }
            if line.isEmpty { continue }
            if line == [0x2D, 0x2D] { break }
            let key = Character(UnicodeScalar(line[0]))
            let value = String(decoding: line[1...], as: UTF8.self)
            if key == "Z", let earlier = values[key] {
                values[key] = earlier + "|" + value
            } else {
                values[key] = value
            }
        }

        func required(_ key: Character) throws(SignatureError) -> String {
            guard let value = values[key] else { throw .manifestIncomplete(missingKey: key) }
            return value
        }
        func hash(_ key: Character) throws(SignatureError) -> ContentHash? {
            guard let value = values[key] else { return nil }
            guard let parsed = ContentHash(printable: value) else { throw .manifestMalformed(key: key, value: value) }
            return parsed
        }
        func number(_ key: Character, _ value: String?) throws(SignatureError) -> UInt64? {
            guard let value else { return nil }
            guard let parsed = UInt64(value) else { throw .manifestMalformed(key: key, value: value) }
            return parsed
        }

        let rootText = try required("C")
        guard let root = ContentHash(printable: rootText) else { throw .manifestMalformed(key: "C", value: rootText) }
        rootCatalog = root
        rootPath = try required("R")
        ttl = try number("D", try required("D"))!
        revision = try number("S", try required("S"))!
        catalogSize = try number("B", values["B"]) ?? 0
        garbageCollectable = values["G"] == "yes"
        hasAlternativeNames = values["A"] == "yes"
        microCatalog = try hash("L")
        fqrn = values["N"]
        certificate = try hash("X")
        history = try hash("H")
        timestamp = try number("T", values["T"])
        metainfo = try hash("M")
        reflog = try hash("Y")
    }

    /// The payload the publisher signs, keys in upstream's order
    /// `C B R D S G A [L] [N] [X] [H] [T] [M] [Y]` (`Manifest::ExportString`, §2.1).
    public func exportPayload() -> [UInt8] {
        var text = "C\(rootCatalog)\nB\(catalogSize)\nR\(rootPath)\nD\(ttl)\nS\(revision)\n"
        text += "G\(garbageCollectable ? "yes" : "no")\nA\(hasAlternativeNames ? "yes" : "no")\n"
        if let microCatalog { text += "L\(microCatalog)\n" }
        if let fqrn { text += "N\(fqrn)\n" }
        if let certificate { text += "X\(certificate)\n" }
        if let history { text += "H\(history)\n" }
        if let timestamp { text += "T\(timestamp)\n" }
        if let metainfo { text += "M\(metainfo)\n" }
        if let reflog { text += "Y\(reflog)\n" }
        return Array(text.utf8)
    }
}

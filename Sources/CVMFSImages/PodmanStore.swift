import Foundation
import Glibc
import CVMFSFormat

/// The podman "additional image store" under `<repository>/podmanStore` (docs/format/container-images.md §5):
/// containers/storage's `overlay` driver layout, with each layer's `diff` a symlink to the
/// `.layers/<xx>/<digest>/layerfs` copy, so podman runs converted images by name
/// without pulling (`--storage-opt additionalimagestore=/cvmfs/<repo>/podmanStore`).
///
/// Unlike upstream ducc, every id is derived from content: a re-conversion writes the same
/// bytes, and a file whose bytes are already in place is not touched. Layer ids follow
/// containers/image's rule for pulled layers (the first layer's id is its diff_id, each
/// further one `sha256(<parent id>+<diff_id>)`), so a layer shared by two images with the
/// same layers below it is one entry; the 26-character `link` name is the base32 of
/// `sha256("link:" + layer id)`, uppercase like the random ones containers/storage makes.
struct PodmanStore {
    /// `<repository content>/podmanStore`.
    let root: String

    /// The store's folders that are nested catalogs (§2 of the format notes).
    static let catalogFolders = ["", "/overlay", "/overlay-images", "/overlay-layers"]

    /// One layer of an image, as the converter knows it.
    struct LayerSource: Sendable {
        /// The compressed blob's digest: `.layers/<xx>/<hex>/layerfs` holds it.
        var compressedDigest: Digest
        var compressedSize: Int64
        /// The uncompressed tar's digest (the config's diff_id).
        var diffID: Digest
        var diffSize: Int64
        /// containers/storage's `archive.Compression` code: 0 none, 2 gzip, 4 zstd.
        var compression: Int
    }

    /// One image: its config (the image id is the config digest) and manifest, and the names podman finds it by.
    struct Image: Sendable {
        var names: [String]
        var configDigest: Digest
        var configBytes: [UInt8]
        var manifestDigest: Digest
        var manifestBytes: [UInt8]
        var created: String
        var layers: [LayerSource]
    }

    // MARK: Ids

    /// containers/image's storage layer ids: diff_id hex for the base, then `sha256(parent + "+" + diff_id)`.
    static func layerIDs(_ diffIDs: [Digest]) -> [String] {
        var ids: [String] = []
        for diffID in diffIDs {
            if let parent = ids.last {
                ids.append(SHA256Hasher.digest(Array((parent + "+" + diffID.description).utf8)).hex)
            } else {
                ids.append(diffID.hex)
            }
        }
        return ids
    }

    /// The short name under `overlay/l/`: 26 characters of base32 (RFC 4648 alphabet), like
    /// containers/storage's `generateID`, but from the layer id instead of random bytes.
    static func linkName(layerID: String) -> String {
        let digest = SHA256Hasher.digest(Array(("link:" + layerID).utf8))
        return String(base32(Hex.decode(digest.hex) ?? []).prefix(26))
    }

    /// containers/storage's file name for an image big-data key: the key itself when it is only
    /// `[0-9a-z.]`, otherwise `=` and the key in standard base64 (`makeBigDataBaseName`).
    static func bigDataFileName(_ key: String) -> String {
        let plain = key.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E }
        return plain && !key.isEmpty ? key : "=" + Data(key.utf8).base64EncodedString()
    }

    // MARK: Writing

    /// Adds or refreshes one image and its layers; its names are taken from any other image
    /// that had them (a moved tag). Files already holding the same bytes are left alone.
    func add(_ image: Image) throws(ImageError) {
        let ids = Self.layerIDs(image.layers.map(\.diffID))
        guard let top = ids.last else { throw .manifest("\(image.names.first ?? image.configDigest.description): an image without layers cannot go to the podman store") }
        try makeSkeleton()

        var layerRecords = try readRecords(LayerRecord.self, root + "/overlay-layers/layers.json")
        for (i, layer) in image.layers.enumerated() {
            let id = ids[i]
            let dir = root + "/overlay/" + id
            try FS.makeDirectories(dir)
            let layerfs = ".layers/\(layer.compressedDigest.prefix)/\(layer.compressedDigest.hex)/layerfs"
            try Self.writeLink(dir + "/diff", target: "../../../" + layerfs)
            let link = Self.linkName(layerID: id)
            try Self.writeFile(dir + "/link", Array(link.utf8))
            try Self.writeLink(root + "/overlay/l/" + link, target: "../" + id + "/diff")
            if i > 0 {
                // nearest parent first, the base last: what containers/storage's getLower writes
                let lower = ids[..<i].reversed().map { "l/" + Self.linkName(layerID: $0) }.joined(separator: ":")
                try Self.writeFile(dir + "/lower", Array(lower.utf8))
            }
            if !layerRecords.contains(where: { $0.id == id }) {
                layerRecords.append(LayerRecord(id: id, parent: i > 0 ? ids[i - 1] : nil, created: image.created,
                                                compressedDiffDigest: layer.compressedDigest.description,
                                                compressedSize: layer.compressedSize, diffDigest: layer.diffID.description,
                                                diffSize: layer.diffSize, compression: layer.compression))
            }
        }
        layerRecords.sort { $0.id < $1.id }
        try Self.writeFile(root + "/overlay-layers/layers.json", JSON.encode(layerRecords))

        let id = image.configDigest.hex
        let dir = root + "/overlay-images/" + id
        try FS.makeDirectories(dir)
        // c/image stores the manifest under "manifest-<digest>" and "manifest", the config under its digest.
        let bigData: [(key: String, bytes: [UInt8], digest: Digest)] = [
            (image.configDigest.description, image.configBytes, image.configDigest),
            ("manifest", image.manifestBytes, image.manifestDigest),
            ("manifest-" + image.manifestDigest.description, image.manifestBytes, image.manifestDigest),
        ]
        for item in bigData { try Self.writeFile(dir + "/" + Self.bigDataFileName(item.key), item.bytes) }

        var imageRecords = try readRecords(ImageRecord.self, root + "/overlay-images/images.json")
        for i in imageRecords.indices where imageRecords[i].id != id {
            imageRecords[i].names.removeAll { image.names.contains($0) }
        }
        var names = imageRecords.first { $0.id == id }?.names ?? []
        for name in image.names where !names.contains(name) { names.append(name) }
        imageRecords.removeAll { $0.id == id }
        imageRecords.append(ImageRecord(id: id, digest: image.manifestDigest.description, names: names.sorted(), layer: top,
                                        metadata: "{}", bigDataNames: bigData.map(\.key),
                                        bigDataSizes: Dictionary(uniqueKeysWithValues: bigData.map { ($0.key, Int64($0.bytes.count)) }),
                                        bigDataDigests: Dictionary(uniqueKeysWithValues: bigData.map { ($0.key, $0.digest.description) }),
                                        created: image.created, digests: [image.manifestDigest.description]))
        imageRecords.sort { $0.id < $1.id }
        try Self.writeFile(root + "/overlay-images/images.json", JSON.encode(imageRecords))
    }

    /// Whether the store lists `name` for the image `configDigest`.
    func lists(name: String, configDigest: Digest) -> Bool {
        guard let records = try? readRecords(ImageRecord.self, root + "/overlay-images/images.json") else { return false }
        return records.contains { $0.id == configDigest.hex && $0.names.contains(name) }
            && FS.exists(root + "/overlay-images/" + configDigest.hex + "/" + Self.bigDataFileName(configDigest.description))
    }

    /// Folders, nested-catalog markers and the empty lock files a read-only store needs
    /// (containers/storage opens `images.lock` and `layers.lock` even for reading).
    private func makeSkeleton() throws(ImageError) {
        for folder in ["/overlay/l", "/overlay-images", "/overlay-layers"] { try FS.makeDirectories(root + folder) }
        for folder in Self.catalogFolders { try Self.writeFile(root + folder + "/.cvmfscatalog", []) }
        try Self.writeFile(root + "/overlay-images/images.lock", [])
        try Self.writeFile(root + "/overlay-layers/layers.lock", [])
    }

    func readRecords<T: Decodable>(_ type: T.Type, _ path: String) throws(ImageError) -> [T] {
        guard FS.exists(path) else { return [] }
        return try JSON.decode([T].self, try FS.read(path), what: path)
    }

    /// Writes `bytes` unless the file already holds them (an unchanged store keeps its mtimes).
    static func writeFile(_ path: String, _ bytes: [UInt8]) throws(ImageError) {
        if let existing = try? FS.read(path), existing == bytes { return }
        try FS.write(path, bytes)
    }

    /// Makes `path` a symlink to `target` unless it already is one.
    static func writeLink(_ path: String, target: String) throws(ImageError) {
        if FS.readLink(path) == target { return }
        try FS.remove(path)
        try FS.symlink(target: target, at: path)
    }

    private static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var out = ""
        var buffer = 0, bits = 0
        for byte in bytes {
            buffer = buffer << 8 | Int(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[(buffer >> bits) & 31])
            }
            buffer &= (1 << bits) - 1
        }
        if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return out
    }
}

/// An entry of `overlay-layers/layers.json` (containers/storage `Layer`).
struct LayerRecord: Codable, Equatable {
    var id: String
    var parent: String?
    var created: String
    var compressedDiffDigest: String
    var compressedSize: Int64
    var diffDigest: String
    var diffSize: Int64
    var compression: Int

    enum CodingKeys: String, CodingKey {
        case id, parent, created, compression
        case compressedDiffDigest = "compressed-diff-digest"
        case compressedSize = "compressed-size"
        case diffDigest = "diff-digest"
        case diffSize = "diff-size"
    }
}

/// An entry of `overlay-images/images.json` (containers/storage `Image`).
struct ImageRecord: Codable, Equatable {
    var id: String
    var digest: String
    var names: [String]
    var layer: String
    var metadata: String
    var bigDataNames: [String]
    var bigDataSizes: [String: Int64]
    var bigDataDigests: [String: String]
    var created: String
    var digests: [String]

    enum CodingKeys: String, CodingKey {
        case id, digest, names, layer, metadata, created, digests
        case bigDataNames = "big-data-names"
        case bigDataSizes = "big-data-sizes"
        case bigDataDigests = "big-data-digests"
    }
}

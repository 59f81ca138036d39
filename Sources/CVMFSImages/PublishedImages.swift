import Glibc
import CVMFSFormat

/// The public names of a staging tree and the images they point at: every symlink outside
/// the dot folders and `podmanStore/` whose target is the relative `../…/.flat/<xx>/<id>`
/// that `Converter.symlinkTarget` writes (docs/format/container-images.md §2.1).
struct PublishedImages: Sendable {
    /// Public path → image id (config digest hex).
    var names: [String: String] = [:]

    static func scan(staging: String) -> PublishedImages {
        var found = PublishedImages()
        for top in FS.list(staging) where !top.hasPrefix(".") && top != "podmanStore" {
            found.walk(staging, relative: top, depth: 0)
        }
        return found
    }

    private mutating func walk(_ staging: String, relative: String, depth: Int) {
        let path = staging + "/" + relative
        if FS.isDirectory(path) {
            for child in FS.list(path) { walk(staging, relative: relative + "/" + child, depth: depth + 1) }
        } else if let target = FS.readLink(path), let id = Self.imageID(linkTarget: target, depth: depth) {
            names[relative] = id
        }
    }

    /// The image id of `../` × depth + `.flat/<xx>/<64 hex>`, or nil for any other target.
    static func imageID(linkTarget: String, depth: Int) -> String? {
        let prefix = String(repeating: "../", count: depth) + ".flat/"
        guard linkTarget.hasPrefix(prefix) else { return nil }
        let parts = linkTarget.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let digest = Digest("sha256:" + parts[1]), parts[0] == digest.prefix else { return nil }
        return digest.hex
    }

    /// Where `.metadata` keeps a public name's manifest (`ImageReference.metadataPath`): the
    /// name itself, or for an image given only by digest its repository.
    static func metadataPath(name: String) -> String {
        let slash = name.lastIndex(of: "/").map { name.index(after: $0) } ?? name.startIndex
        if let range = name.range(of: ":sha256:", range: slash..<name.endIndex) {
            return ".metadata/" + name[..<range.lowerBound]
        }
        return ".metadata/" + name
    }

    /// The manifest `.metadata` records for `name`: its digest, config and compressed layers.
    static func recordedManifest(staging: String, name: String) -> (manifest: Digest, config: Digest, layers: [Digest])? {
        let path = staging + "/" + metadataPath(name: name) + "/manifest.json"
        guard let bytes = try? FS.read(path),
              let document = try? JSON.decode(ManifestDocument.self, bytes, what: path),
              let parts = try? document.imageParts(what: path) else { return nil }
        return (SHA256Hasher.digest(bytes), parts.config, parts.layers.map(\.digest))
    }
}

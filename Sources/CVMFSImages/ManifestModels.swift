import Foundation

/// Media types the converter understands (Docker v2 schema 2 and OCI).
package enum MediaType {
    static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    static let dockerList = "application/vnd.docker.distribution.manifest.list.v2+json"
    static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    static let ociIndex = "application/vnd.oci.image.index.v1+json"
    static let dockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json"
    static let dockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
    static let dockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar"
    static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    /// The Accept header of manifest requests: every format we can read.
    static let accept = [ociIndex, dockerList, ociManifest, dockerManifest].joined(separator: ", ")

    package static func isIndex(_ type: String?) -> Bool { type == dockerList || type == ociIndex }
}

package struct Platform: Codable, Sendable, Equatable {
    package var architecture: String
    package var os: String
    package var variant: String?

    enum CodingKeys: String, CodingKey { case architecture, os, variant }

    /// Parses `os/arch[/variant]`, e.g. `linux/amd64` or `linux/arm64/v8`.
    package static func parse(_ text: String) -> Platform? {
        let parts = text.split(separator: "/").map(String.init)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        return Platform(architecture: parts[1], os: parts[0], variant: parts.count == 3 ? parts[2] : nil)
    }

    package var description: String { "\(os)/\(architecture)" + (variant.map { "/\($0)" } ?? "") }
}

package struct Descriptor: Codable, Sendable {
    package var mediaType: String?
    package var digest: String
    package var size: Int64?
    package var platform: Platform?
    package var annotations: [String: String]?
    package var urls: [String]?
}

/// An image manifest or an index (manifest list); which one it is shows in the fields present.
package struct ManifestDocument: Codable, Sendable {
    package var schemaVersion: Int?
    package var mediaType: String?
    package var config: Descriptor?
    package var layers: [Descriptor]?
    package var manifests: [Descriptor]?
}

/// The parts of an image config the converter uses.
package struct ImageConfig: Codable, Sendable {
    package struct RootFS: Codable, Sendable {
        var type: String?
        package var diff_ids: [String]?
    }
    struct ContainerConfig: Codable, Sendable {
        var Env: [String]?
        var Entrypoint: [String]?
        var Cmd: [String]?
        var WorkingDir: String?
    }
    var created: String?
    var architecture: String?
    var os: String?
    var config: ContainerConfig?
    package var rootfs: RootFS?
}

/// `docker save`'s manifest.json.
package struct DockerArchiveEntry: Codable, Sendable {
    package var Config: String
    package var RepoTags: [String]?
    package var Layers: [String]
}

package enum JSON {
    package static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], what: String) throws(ImageError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw .manifest("\(what): invalid JSON: \(error)")
        }
    }

    package static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(value)) ?? Data())
    }
}

/// A platform-specific image manifest, resolved and checked.
public struct ResolvedImage: Sendable {
    public var reference: ImageReference
    /// Digest of the manifest (what a tag points to, after choosing the platform).
    public var manifestDigest: Digest
    public var manifestBytes: [UInt8]
    public var configDigest: Digest
    public var layers: [LayerDescriptor]

    /// `.flat/<xx>/<image id>`: the image id is the config digest.
    public var flatPath: String { ".flat/\(configDigest.prefix)/\(configDigest.hex)" }
}

public struct LayerDescriptor: Sendable {
    public var digest: Digest
    public var size: Int64?
    public var mediaType: String?
}

extension ManifestDocument {
    /// The image manifest's config and layers, with unsupported kinds refused.
    package func imageParts(what: String) throws(ImageError) -> (config: Digest, layers: [LayerDescriptor]) {
        if schemaVersion == 1 || mediaType == MediaType.dockerSchema1 || mediaType == MediaType.dockerSchema1Signed {
            throw .manifest("\(what): Docker schema 1 manifests are not supported")
        }
        guard let config, let layers else { throw .manifest("\(what): manifest has no config or layers") }
        let configDigest = try Digest.parse(config.digest, what: "\(what) config")
        var out: [LayerDescriptor] = []
        for layer in layers {
            let type = layer.mediaType ?? ""
            // Foreign (non-distributable) layers are skipped, as DUCC does.
            if type.contains("foreign") || type.contains("nondistributable") { continue }
            if type.contains("zstd") { throw .manifest("\(what): zstd layer \(layer.digest) is not supported") }
            out.append(LayerDescriptor(digest: try Digest.parse(layer.digest, what: "\(what) layer"), size: layer.size, mediaType: layer.mediaType))
        }
        return (configDigest, out)
    }

    /// Chooses the manifest for `platform` from an index.
    package func select(platform: Platform, what: String) throws(ImageError) -> Descriptor {
        let candidates = (manifests ?? []).filter { d in
            guard let p = d.platform else { return false }
            return p.os == platform.os && p.architecture == platform.architecture
                && (platform.variant == nil || p.variant == platform.variant)
        }
        guard let chosen = candidates.first else {
            let offered = (manifests ?? []).compactMap { $0.platform?.description }.joined(separator: ", ")
            throw .notFound("\(what): no image for platform \(platform.description) (index offers: \(offered.isEmpty ? "none" : offered))")
        }
        return chosen
    }
}

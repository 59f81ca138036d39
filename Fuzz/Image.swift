import CVMFSImages

/// Registry and OCI-layout JSON: a manifest or an index (`ManifestDocument`), an image
/// config, a `docker save` manifest.json, decoded by `JSON.decode` as the image sources do.
/// An index goes through `select(platform:)` for several platforms, a manifest through
/// `imageParts` (config and layer digests, refused kinds). A decoded document encodes to
/// JSON that decodes to a document encoding to the same bytes.
let imageHarness = Harness(
    name: "image",
    summary: "JSON.decode of manifests, indexes, configs, docker manifest.json; select(platform:), imageParts"
) { bytes in
    if let document = try? JSON.decode(ManifestDocument.self, bytes, what: "fuzz") {
        let encoded = JSON.encode(document)
        let again = try? JSON.decode(ManifestDocument.self, encoded, what: "re-encoded")
        FuzzCheck.require(again.map { JSON.encode($0) } == encoded, "a manifest does not survive encode and decode")
        if MediaType.isIndex(document.mediaType) || (document.manifests != nil && document.layers == nil) {
            for platform in ImageFuzz.platforms {
                guard let chosen = try? document.select(platform: platform, what: "fuzz") else { continue }
                FuzzCheck.require(chosen.platform?.os == platform.os && chosen.platform?.architecture == platform.architecture,
                                  "select(platform:) chose a manifest for another platform")
                _ = Digest(chosen.digest)
            }
        }
        if let parts = try? document.imageParts(what: "fuzz") {
            FuzzCheck.require(parts.layers.count <= (document.layers?.count ?? 0), "imageParts invented layers")
            _ = (parts.config.prefix, parts.config.short, parts.layers.map(\.digest.description))
        }
    }
    if let config = try? JSON.decode(ImageConfig.self, bytes, what: "fuzz") {
        for id in config.rootfs?.diff_ids ?? [] { _ = Digest(id) }
        _ = JSON.encode(config)
    }
    if bytes.first == UInt8(ascii: "["), let entries = try? JSON.decode([DockerArchiveEntry].self, bytes, what: "fuzz") {
        for entry in entries {
            for tag in entry.RepoTags ?? [] { _ = try? ImageReference.parse(tag) }
        }
    }
}

private enum ImageFuzz {
    static let platforms = ["linux/amd64", "linux/arm64/v8", "linux/arm/v7", "windows/amd64"].compactMap(Platform.parse)
}

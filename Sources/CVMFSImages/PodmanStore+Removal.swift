import Glibc

/// Taking images out of the store when their removal is due (docs/format/container-images.md
/// §7): names first, then whole images, then every layer no remaining image stands on.
extension PodmanStore {
    /// What `remove` took away, as paths relative to the repository content, for the report.
    struct Removal: Sendable {
        var paths: [String] = []
    }

    /// Drops each `(image id, name)` name from that image's record, removes the records and
    /// folders of `images`, then the layers (record, `overlay/<id>`, `overlay/l/<link>`) that no
    /// remaining image reaches through its top layer and the parents below it. With `dryRun`
    /// only reports. Layers are found from the store's own records, so a layer shared with a
    /// remaining image stays whatever the caller knows about it.
    func remove(names: [(image: String, name: String)], images: Set<String>, dryRun: Bool = false) throws(ImageError) -> Removal {
        var removal = Removal()
        let imagesFile = root + "/overlay-images/images.json"
        let layersFile = root + "/overlay-layers/layers.json"
        guard FS.exists(imagesFile) else { return removal }
        var imageRecords = try readRecords(ImageRecord.self, imagesFile)
        for (image, name) in names {
            guard let i = imageRecords.firstIndex(where: { $0.id == image }), imageRecords[i].names.contains(name) else { continue }
            imageRecords[i].names.removeAll { $0 == name }
            removal.paths.append("podmanStore/overlay-images/images.json: name \(name)")
        }
        for record in imageRecords where images.contains(record.id) {
            removal.paths.append("podmanStore/overlay-images/" + record.id)
        }
        imageRecords.removeAll { images.contains($0.id) }

        var layerRecords = try readRecords(LayerRecord.self, layersFile)
        let parents = Dictionary(layerRecords.map { ($0.id, $0.parent) }, uniquingKeysWith: { first, _ in first })
        var reached = Set<String>()
        for record in imageRecords {
            var next: String? = record.layer
            while let id = next, reached.insert(id).inserted { next = parents[id] ?? nil }
        }
        let unused = layerRecords.filter { !reached.contains($0.id) }.map(\.id)
        for id in unused {
            removal.paths.append("podmanStore/overlay/" + id)
            removal.paths.append("podmanStore/overlay/l/" + Self.linkName(layerID: id))
        }
        layerRecords.removeAll { !reached.contains($0.id) }
        if dryRun { return removal }

        try Self.writeFile(imagesFile, JSON.encode(imageRecords))
        try Self.writeFile(layersFile, JSON.encode(layerRecords))
        for id in images { try FS.remove(root + "/overlay-images/" + id) }
        for id in unused {
            try FS.remove(root + "/overlay/l/" + Self.linkName(layerID: id))
            try FS.remove(root + "/overlay/" + id)
        }
        return removal
    }
}

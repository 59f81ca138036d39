import Glibc

/// Carries out the image removals of a `RemoveSchedule` that are due (docs/format/container-images.md
/// §7): for each due name, its public symlink and `.metadata` manifest if they still belong
/// to the removed image; each removed image's `.flat` root and podman store entry unless
/// another name still uses the image; and the `.layers` copies and store layers that no
/// remaining image needs. What is not due, and anything a remaining name points at, stays.
/// Only the staging tree changes; the caller publishes, and the publisher's `gc` then frees
/// the objects no retained revision uses.
struct ImageCollector {
    let staging: String
    /// The podman store to clean as well, when the repository has one.
    let store: PodmanStore?

    /// What a collection removes, worked out before anything is touched.
    struct Plan: Sendable {
        /// The schedule entries that are due; all leave the schedule.
        var due: [RemoveSchedule.Entry] = []
        /// Public symlinks to remove (they still point at the removed image).
        var names: [String] = []
        /// `.metadata/…/manifest.json` files to remove.
        var manifests: [String] = []
        /// `.flat/<xx>/<id>` roots to remove, and the image ids.
        var flats: [String] = []
        var images: Set<String> = []
        /// `.layers/<xx>/<digest>` folders to remove.
        var layers: [String] = []
        /// Layers that stay but list a removed name in their `origin.json`.
        var origins: [String] = []
        /// Set when a remaining name's layers are unknown (its `.metadata` manifest is missing
        /// or names another image): then no layer is removed, since it might need any.
        var layersKept = false

        var isEmpty: Bool { due.isEmpty }

        /// Every path that goes, relative to the repository content, sorted.
        var paths: [String] { (names + manifests + flats + layers).sorted() }
    }

    func plan(schedule: RemoveSchedule, now: Int64, grace: Int64) -> Plan {
        var plan = Plan()
        plan.due = schedule.due(now: now, grace: grace)
        guard !plan.due.isEmpty else { return plan }
        let published = PublishedImages.scan(staging: staging)
        var going = Set<String>()
        for entry in plan.due {
            guard let image = Digest(entry.image), published.names[entry.name] == image.hex else { continue }
            going.insert(entry.name)
            plan.names.append(entry.name)
            if let recorded = PublishedImages.recordedManifest(staging: staging, name: entry.name), recorded.config == image {
                plan.manifests.append(PublishedImages.metadataPath(name: entry.name) + "/manifest.json")
            }
        }
        let dueKeys = Set(plan.due.map { $0.name + "\n" + $0.image })
        var keptImages = Set<String>()
        var keptLayers = Set<String>()
        for (name, id) in published.names where !going.contains(name) {
            keptImages.insert(id)
            if let recorded = PublishedImages.recordedManifest(staging: staging, name: name), recorded.config.hex == id {
                keptLayers.formUnion(recorded.layers.map(\.description))
            } else {
                plan.layersKept = true
            }
        }
        for entry in schedule.entries where !dueKeys.contains(entry.name + "\n" + entry.image) {
            if let image = Digest(entry.image) { keptImages.insert(image.hex) }
            if let layers = entry.layers { keptLayers.formUnion(layers) } else { plan.layersKept = true }
        }
        var candidateLayers = Set<String>()
        for entry in plan.due {
            guard let image = Digest(entry.image), !keptImages.contains(image.hex) else { continue }
            if plan.images.insert(image.hex).inserted {
                let flat = ".flat/\(image.prefix)/\(image.hex)"
                if FS.exists(staging + "/" + flat) { plan.flats.append(flat) }
            }
            candidateLayers.formUnion(entry.layers ?? [])
        }
        for text in candidateLayers.sorted() where !keptLayers.contains(text) && !plan.layersKept {
            guard let layer = Digest(text) else { continue }
            let folder = ".layers/\(layer.prefix)/\(layer.hex)"
            if FS.exists(staging + "/" + folder) { plan.layers.append(folder) }
        }
        // Layers that stay forget the removed names in their origin.json.
        var origins = Set<String>()
        for entry in plan.due where going.contains(entry.name) {
            for text in entry.layers ?? [] {
                guard let layer = Digest(text) else { continue }
                let folder = ".layers/\(layer.prefix)/\(layer.hex)"
                if !plan.layers.contains(folder) && FS.exists(staging + "/" + folder) { origins.insert(folder) }
            }
        }
        plan.origins = origins.sorted()
        return plan
    }

    /// Removes what `plan` lists, and returns the store paths that went with it.
    func carryOut(_ plan: Plan) throws(ImageError) -> [String] {
        for path in plan.names + plan.manifests {
            try FS.remove(staging + "/" + path)
            try removeEmptyParents(of: path)
        }
        for path in plan.flats + plan.layers {
            try FS.remove(staging + "/" + path)
            try removeEmptyParents(of: path, keeping: [".flat", ".layers"])
        }
        let goneNames = Set(plan.names)
        for folder in plan.origins {
            let path = staging + "/" + folder + "/.metadata/origin.json"
            guard let bytes = try? FS.read(path), var origin = try? JSON.decode(Origin.self, bytes, what: path) else { continue }
            origin.origin.removeAll { goneNames.contains($0) }
            try PodmanStore.writeFile(path, JSON.encode(origin))
        }
        return try removeFromStore(plan, dryRun: false)
    }

    /// The store's part of `plan`: the due names leave their images, the removed images and
    /// the layers nothing else stands on go.
    func removeFromStore(_ plan: Plan, dryRun: Bool) throws(ImageError) -> [String] {
        guard let store, FS.isDirectory(store.root) else { return [] }
        let names = plan.due.compactMap { entry in Digest(entry.image).map { (image: $0.hex, name: entry.name) } }
        return try store.remove(names: names, images: plan.images, dryRun: dryRun).paths
    }

    /// Removes the folders above `path` that it leaves empty, up to the content root, or up to
    /// one of `keeping`. A `.layers/<xx>` holding only its nested-catalog marker counts as empty.
    private func removeEmptyParents(of path: String, keeping: Set<String> = []) throws(ImageError) {
        var folder = FS.parent(path)
        while folder != "." && !folder.isEmpty && !keeping.contains(folder) && !folder.hasPrefix("/") {
            let full = staging + "/" + folder
            let left = FS.list(full)
            guard left.isEmpty || (left == [".cvmfscatalog"] && folder.hasPrefix(".layers/")) else { return }
            try FS.remove(full)
            folder = FS.parent(folder)
        }
    }
}

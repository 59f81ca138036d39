import Glibc
import CVMFSFormat
import CVMFSPublish

/// Converts the images of a recipe into the DUCC "unpacked" layout (docs/format/container-images.md §2) and
/// publishes it.
///
/// The repository's content is kept as plain files in a staging tree. Each run builds what is
/// new in `<staging>.work/new` (flat root file systems, layer copies, public symlinks and
/// metadata); only when every image succeeded is that merged into the staging tree and the
/// tree published. A failure therefore leaves both the staging tree and the repository at the
/// last good revision. Images whose manifest digest was already converted are skipped; when
/// nothing changed nothing is published.
public final class Converter {
    public let recipe: Recipe
    public let options: ConvertOptions
    let staging: String
    let work: String
    private let platform: Platform
    private let progress: Progress
    private let registry = RegistrySource()
    private var localSources: [String: ImageSource] = [:]

    public init(recipe: Recipe, options: ConvertOptions) throws(ImageError) {
        self.recipe = recipe
        self.options = options
        guard let platform = Platform.parse(options.platform) else {
            throw .reference("platform '\(options.platform)' is not os/arch[/variant]")
        }
        self.platform = platform
        let output = options.output.hasSuffix("/") ? String(options.output.dropLast()) : options.output
        staging = options.staging ?? FS.parent(output) + "/" + recipe.repository + ".staging"
        work = staging + ".work"
        progress = Progress(enabled: options.showProgress)
    }

    private var newTree: String { work + "/new" }
    /// Verified layer and config blobs: an interrupted run resumes from them, and a later
    /// image sharing layers with the recipe's images builds its flat root from them without
    /// downloading those layers again. After a publish only the blobs of the recipe's images stay.
    private var blobs: String { work + "/blobs" }
    /// Finished `.layers` copies (`<hex>`) and the one being made (`<hex>.partial`), moved into
    /// the staging tree by the commit.
    private var layerCopies: String { work + "/layers" }
    private var dirtyMarker: String { work + "/unpublished" }
    /// The podman store is written unless the recipe or the options turn it off; it points
    /// into the layer copies, so without them there is none.
    var writesPodmanStore: Bool { options.podmanStore && recipe.podmanStore && !options.skipLayers }
    private var podmanStore: PodmanStore { PodmanStore(root: staging + "/podmanStore") }

    public func run() throws(ImageError) -> ConvertReport {
        try FS.makeDirectories(staging)
        try FS.makeDirectories(work)
        let lock = try WorkLock(work: work)
        defer { withExtendedLifetime(lock) {} }
        try FS.remove(newTree)
        try FS.makeDirectories(newTree)
        try FS.makeDirectories(blobs)
        try FS.makeDirectories(layerCopies)
        var report = ConvertReport()
        var converted: [ResolvedImage] = []
        var wanted: [ResolvedImage] = []
        var profiles = ProfilePlan()
        do {
            for (reference, input) in try expandInputs() {
                let source = try source(for: reference)
                let image = try source.resolve(reference, platform: platform)
                wanted.append(image)
                try profiles.want(recipe.profiles[input], for: image)
                if isUpToDate(image) {
                    report.upToDate.append(image.reference.publicPath)
                    progress.line("\(image.reference.publicPath): up to date (\(image.manifestDigest.short))")
                    continue
                }
                try convert(image, source: source)
                converted.append(image)
                report.converted.append(image.reference.publicPath)
            }
        } catch {
            try? FS.remove(newTree)
            throw error
        }
        let profileChanges = profiles.changes(staging: staging)
        let now = Int64(time(nil))
        let storedSchedule = try RemoveSchedule.load(staging: staging)
        var schedule = storedSchedule
        updateSchedule(&schedule, wanted: wanted, now: now, report: &report)
        let dropsPodmanStore = !writesPodmanStore && FS.exists(podmanStore.root)
        // Before the commit the plan can differ from the one carried out below only when
        // images were converted, and then this run publishes anyway.
        let collects = options.collectImages && !collector.plan(schedule: schedule, now: now, grace: options.gracePeriod).isEmpty
        let repositoryExists = FS.exists(options.output + "/.cvmfspublished")
        if converted.isEmpty && profileChanges.isEmpty && schedule == storedSchedule && !dropsPodmanStore && !collects
            && repositoryExists && !FS.exists(dirtyMarker) && !options.forcePublish {
            try FS.remove(newTree)
            progress.line("nothing new to publish")
            return report
        }
        try FS.touch(dirtyMarker)
        try commit(converted)
        try FS.remove(newTree)
        if writesPodmanStore {
            for image in converted { try addToPodmanStore(image) }
        } else if dropsPodmanStore {
            // Turned off: a store left behind would list images it no longer follows.
            try FS.remove(podmanStore.root)
            report.podmanStoreRemoved = true
            progress.line("podmanStore removed (the podman store is turned off)")
        }
        for change in profileChanges {
            try change.apply(staging: staging)
            report.profileChanges.append(change.description)
        }
        if options.collectImages {
            let plan = collector.plan(schedule: schedule, now: now, grace: options.gracePeriod)
            let storePaths = try collector.carryOut(plan)
            report.removed = plan.paths + storePaths
            let due = Set(plan.due.map { $0.name + "\n" + $0.image })
            schedule.entries.removeAll { due.contains($0.name + "\n" + $0.image) }
            for entry in plan.due { progress.line("\(entry.name): removed image \(entry.image) (scheduled \(entry.scheduled))") }
        }
        try schedule.save(staging: staging)
        var publishOptions = options.publish
        publishOptions.fqrn = recipe.repository
        do {
            let publisher = try Publisher(options: publishOptions)
            report.published = try publisher.publish(source: staging, output: options.output)
        } catch {
            throw .publish("\(error) (the staged content is published by the next run)")
        }
        unlink(dirtyMarker)
        try pruneBlobs(keeping: wanted)
        try FS.remove(layerCopies)
        if let published = report.published {
            progress.line("published \(recipe.repository) revision \(published.revision)")
        }
        return report
    }

    /// Removes the blobs (and any `.part`) that belong to none of `images`.
    private func pruneBlobs(keeping images: [ResolvedImage]) throws(ImageError) {
        var keep = Set<String>()
        for image in images {
            keep.insert(image.configDigest.hex)
            for layer in image.layers { keep.insert(layer.digest.hex) }
        }
        for name in FS.list(blobs) where !keep.contains(name) { try FS.remove(blobs + "/" + name) }
    }

    // MARK: Image removal

    private var collector: ImageCollector {
        ImageCollector(staging: staging, store: writesPodmanStore ? podmanStore : nil)
    }

    /// What `convert --gc` would remove now, from the schedule as it stands; changes nothing
    /// and contacts no registry.
    public func collectionPreview(now: Int64 = Int64(time(nil))) throws(ImageError) -> [String] {
        let plan = collector.plan(schedule: try RemoveSchedule.load(staging: staging), now: now, grace: options.gracePeriod)
        return plan.paths + (try collector.removeFromStore(plan, dryRun: true))
    }

    /// Schedules the removal of each published name the recipe no longer lists, and of the
    /// image a wanted name pointed at before it moved; cancels a scheduled removal of a name
    /// the recipe wants with the same image again. Reads the tree before the commit, while the
    /// old symlinks and manifests are still in place.
    private func updateSchedule(_ schedule: inout RemoveSchedule, wanted: [ResolvedImage], now: Int64, report: inout ConvertReport) {
        let published = PublishedImages.scan(staging: staging)
        let time = UTCDate.string(now)
        func entry(_ name: String, image id: String, reason: String) -> RemoveSchedule.Entry {
            var entry = RemoveSchedule.Entry(name: name, image: "sha256:" + id, scheduled: time, reason: reason)
            if let recorded = PublishedImages.recordedManifest(staging: staging, name: name), recorded.config.hex == id {
                entry.manifest = recorded.manifest.description
                entry.layers = recorded.layers.map(\.description)
            }
            return entry
        }
        var wantedNames = Set<String>()
        for image in wanted {
            let name = image.reference.publicPath
            wantedNames.insert(name)
            if let cancelled = schedule.cancel(name: name, image: image.configDigest) {
                report.cancelled.append("\(name) (image \(image.configDigest.short)): scheduled \(cancelled.scheduled), wanted again")
                progress.line("\(name): removal of image \(image.configDigest.short) cancelled, the recipe wants it again")
            }
            if let old = published.names[name], old != image.configDigest.hex {
                let moved = entry(name, image: old, reason: "the tag moved to \(image.manifestDigest)")
                if schedule.schedule(moved) { report.scheduled.append("\(name) (image \(old.prefix(12))): \(moved.reason)") }
            }
        }
        for (name, id) in published.names.sorted(by: { $0.key < $1.key }) where !wantedNames.contains(name) {
            let gone = entry(name, image: id, reason: "no longer in the recipe")
            if schedule.schedule(gone) { report.scheduled.append("\(name) (image \(id.prefix(12))): \(gone.reason)") }
        }
        for line in report.scheduled { progress.line("removal scheduled: \(line)") }
    }

    // MARK: Inputs

    /// Every image to convert, with the recipe input it came from (a wildcard gives several).
    private func expandInputs() throws(ImageError) -> [(ImageReference, String)] {
        var result: [(ImageReference, String)] = []
        var seen = Set<String>()
        for input in recipe.inputs {
            let reference: ImageReference
            do {
                reference = try ImageReference.parse(input, insecure: options.insecure)
            } catch {
                throw .reference(error.description)
            }
            var expanded = [reference]
            if reference.hasWildcard, let pattern = reference.tag {
                let tags = try source(for: reference).tags(reference).filter { fnmatch(pattern, $0, 0) == 0 }.sorted()
                guard !tags.isEmpty else { throw .notFound("no tag of \(reference.registry)/\(reference.repository) matches '\(pattern)'") }
                expanded = tags.map { tag in
                    var r = reference
                    r.tag = tag
                    return r
                }
            }
            for r in expanded where seen.insert(r.description).inserted { result.append((r, input)) }
        }
        return result
    }

    private func source(for reference: ImageReference) throws(ImageError) -> ImageSource {
        switch reference.source {
        case .registry:
            return registry
        case .ociLayout(let path):
            if let s = localSources[path] { return s }
            let s = try OCILayoutSource(root: path)
            localSources[path] = s
            return s
        case .dockerArchive(let path):
            if let s = localSources[path] { return s }
            let s = try DockerArchiveSource(archive: path, workFolder: work + "/archive-\(localSources.count)")
            localSources[path] = s
            return s
        }
    }

    // MARK: Conversion

    /// Converted before: the same manifest is recorded and its flat tree and symlink are in place.
    private func isUpToDate(_ image: ResolvedImage) -> Bool {
        let recorded = staging + "/" + image.reference.metadataPath + "/manifest.json"
        guard let bytes = try? FS.read(recorded), SHA256Hasher.digest(bytes) == image.manifestDigest else { return false }
        guard FS.isDirectory(staging + "/" + image.flatPath) else { return false }
        if writesPodmanStore && !podmanStore.lists(name: image.reference.publicPath, configDigest: image.configDigest) { return false }
        return FS.readLink(staging + "/" + image.reference.publicPath) == symlinkTarget(image)
    }

    /// `../` once per directory level of `<registry>/<repository>`, then `.flat/<xx>/<id>`.
    func symlinkTarget(_ image: ResolvedImage) -> String {
        let levels = image.reference.publicPath.split(separator: "/").count - 1
        return String(repeating: "../", count: levels) + image.flatPath
    }

    private func convert(_ image: ResolvedImage, source: ImageSource) throws(ImageError) {
        let name = image.reference.publicPath
        progress.line("\(name): converting \(image.manifestDigest.short) (image \(image.configDigest.short), \(image.layers.count) layers)")
        let flatNeeded = !FS.exists(staging + "/" + image.flatPath) && !FS.exists(newTree + "/" + image.flatPath)
        let config = try fetchConfig(image, source: source)
        let worker = LayerWorker(source: source, blobs: blobs, copies: layerCopies, created: config.created ?? "", progress: progress)
        let tasks = layerTasks(image, flatNeeded: flatNeeded, worker: worker)
        let scheduler = LayerScheduler(tasks: tasks, threads: options.jobs) { (task) throws(ImageError) in try worker.run(task) }
        scheduler.start()
        do {
            if flatNeeded { try unpackFlat(image, config: config, scheduler: scheduler) }
        } catch {
            scheduler.cancel()
            throw error
        }
        try scheduler.finish()
        // Public symlink and the manifest that marks the conversion complete.
        let link = newTree + "/" + name
        try FS.makeDirectories(FS.parent(link))
        try FS.remove(link)
        try FS.symlink(target: symlinkTarget(image), at: link)
        let metadata = newTree + "/" + image.reference.metadataPath
        try FS.makeDirectories(metadata)
        try FS.write(metadata + "/manifest.json", image.manifestBytes)
        progress.line("\(name): converted into \(image.flatPath)")
    }

    /// The image's config, downloading it if the blob folder lacks it.
    private func fetchConfig(_ image: ResolvedImage, source: ImageSource) throws(ImageError) -> ImageConfig {
        let configPath = blobs + "/" + image.configDigest.hex
        if !FS.exists(configPath) {
            try source.fetch(image.configDigest, size: nil, image: image.reference, to: configPath) { _ throws(ImageError) in }
        }
        return try JSON.decode(ImageConfig.self, try FS.read(configPath), what: "config of \(image.reference.publicPath)")
    }

    /// What each layer still needs, once per digest: its verified blob (for the flat root)
    /// unless spooled before, its `.layers` copy unless staged or made by an earlier image
    /// of this run or by an interrupted run. A layer that needs neither has no task.
    private func layerTasks(_ image: ResolvedImage, flatNeeded: Bool, worker: LayerWorker) -> [LayerTask] {
        var tasks: [LayerTask] = []
        var seen = Set<Digest>()
        for (i, layer) in image.layers.enumerated() where seen.insert(layer.digest).inserted {
            let staged = FS.exists(staging + "/.layers/\(layer.digest.prefix)/\(layer.digest.hex)")
            let needsCopy = !options.skipLayers && !staged && !FS.exists(worker.copyPath(layer.digest))
            let needsBlob = flatNeeded && !FS.exists(worker.blobPath(layer.digest))
            guard needsCopy || needsBlob else { continue }
            let position = "layer \(i + 1)/\(image.layers.count)"
            tasks.append(LayerTask(digest: layer.digest, size: layer.size, image: image.reference,
                                   label: "\(image.reference.publicPath) \(position) \(layer.digest.short)",
                                   what: "\(position) \(layer.digest) of \(image.reference.publicPath)",
                                   needsBlob: needsBlob, needsCopy: needsCopy))
        }
        return tasks
    }

    /// The flat root file system: every layer applied in order from its verified blob as soon
    /// as the blob is ready (later layers still downloading), each checked against its config
    /// diff_id, and the Apptainer files added.
    private func unpackFlat(_ image: ResolvedImage, config: ImageConfig, scheduler: LayerScheduler) throws(ImageError) {
        let name = image.reference.publicPath
        let diffIDs = config.rootfs?.diff_ids ?? []
        let root = newTree + "/" + image.flatPath
        try FS.makeDirectories(FS.parent(root))
        let applier = try LayerApplier(root: root, whiteouts: .apply)
        for (i, layer) in image.layers.enumerated() {
            try scheduler.wait(for: layer.digest)
            let label = "\(name) flat root, layer \(i + 1)/\(image.layers.count) \(layer.digest.short)"
            let blob = blobs + "/" + layer.digest.hex
            let size = try FS.size(blob)
            let file = try FileStream(path: blob)
            let stream = HashingStream(source: try LayerDecompression.tarStream(CountingStream(source: file) { done in
                self.progress.advance("flat", done: done)
            }, layer: "layer \(layer.digest)"))
            progress.begin("flat", label: label, total: size)
            let stats: LayerApplier.Statistics
            do {
                stats = try applier.apply(TarReader(source: stream, name: "layer \(layer.digest)"), name: "layer \(layer.digest)")
            } catch {
                progress.end("flat", nil)
                throw error
            }
            let diffID = try stream.finish()
            progress.end("flat", "\(label): \(stats.entries) entries, \(Progress.megabytes(stats.bytes))")
            if i < diffIDs.count, let expected = Digest(diffIDs[i]), expected != diffID {
                throw .digestMismatch(what: "uncompressed layer \(layer.digest) of \(name) (config diff_id)", expected: expected.description, actual: diffID.description)
            }
        }
        try ApptainerFiles.add(root: root, config: config.config)
        try FS.touch(root + "/.cvmfscatalog")
    }

    /// The image's entry in the podman store, from the config blob and the staged layer metadata.
    private func addToPodmanStore(_ image: ResolvedImage) throws(ImageError) {
        let name = image.reference.publicPath
        let configBytes = try FS.read(blobs + "/" + image.configDigest.hex)
        let config = try JSON.decode(ImageConfig.self, configBytes, what: "config of \(name)")
        var layers: [PodmanStore.LayerSource] = []
        for layer in image.layers {
            let path = staging + "/.layers/\(layer.digest.prefix)/\(layer.digest.hex)/.metadata/layers.json"
            guard let info = try JSON.decode([LayerInfo].self, try FS.read(path), what: path).first,
                  let diffID = Digest(info.diffDigest) else { throw .layer("\(path): no layer entry") }
            let media = layer.mediaType ?? ""
            var size = layer.size ?? -1
            if size < 0 { size = try FS.size(blobs + "/" + layer.digest.hex) }
            layers.append(PodmanStore.LayerSource(compressedDigest: layer.digest, compressedSize: size, diffID: diffID,
                                                  diffSize: info.diffSize,
                                                  compression: media.hasSuffix("gzip") ? 2 : media.hasSuffix("zstd") ? 4 : 0))
        }
        // containers/storage parses `created` as a time: the config's, or the epoch.
        let created = config.created.flatMap { $0.isEmpty ? nil : $0 } ?? "1970-01-01T00:00:00Z"
        try podmanStore.add(PodmanStore.Image(names: [name], configDigest: image.configDigest, configBytes: configBytes,
                                              manifestDigest: image.manifestDigest, manifestBytes: image.manifestBytes,
                                              created: created, layers: layers))
        progress.line("\(name): in the podman store as image \(image.configDigest.short)")
    }

    /// Moves the new tree into the staging tree and records the layers' origins.
    private func commit(_ images: [ResolvedImage]) throws(ImageError) {
        try merge(from: newTree, into: staging)
        for image in images {
            for layer in image.layers where FS.exists(layerCopies + "/" + layer.digest.hex) {
                let folder = staging + "/.layers/\(layer.digest.prefix)/\(layer.digest.hex)"
                if FS.exists(folder) { continue }
                try FS.makeDirectories(FS.parent(folder))
                try FS.rename(layerCopies + "/" + layer.digest.hex, folder)
            }
        }
        for dir in [".flat", ".layers"] where FS.isDirectory(staging + "/" + dir) {
            try FS.touch(staging + "/" + dir + "/.cvmfscatalog")
            if dir == ".layers" {
                for prefix in FS.list(staging + "/.layers") where FS.isDirectory(staging + "/.layers/" + prefix) {
                    try FS.touch(staging + "/.layers/" + prefix + "/.cvmfscatalog")
                }
            }
        }
        if options.skipLayers { return }
        for image in images {
            for layer in image.layers {
                let metadata = staging + "/.layers/\(layer.digest.prefix)/\(layer.digest.hex)/.metadata"
                try FS.makeDirectories(metadata)
                let path = metadata + "/origin.json"
                var origin = Origin(origin: [])
                if let bytes = try? FS.read(path), let decoded = try? JSON.decode(Origin.self, bytes, what: path) { origin = decoded }
                if !origin.origin.contains(image.reference.publicPath) {
                    origin.origin.append(image.reference.publicPath)
                    try FS.write(path, JSON.encode(origin))
                }
            }
        }
    }

    /// Renames every entry of `source` into `destination`, descending into directories that
    /// exist on both sides; files and symlinks replace what was there.
    private func merge(from source: String, into destination: String) throws(ImageError) {
        for name in FS.list(source) {
            let from = source + "/" + name
            let to = destination + "/" + name
            if FS.isDirectory(from) && FS.isDirectory(to) {
                try merge(from: from, into: to)
            } else {
                if FS.isDirectory(to) { try FS.remove(to) }
                try FS.rename(from, to)
            }
        }
    }
}

struct LayerInfo: Codable {
    var id: String
    var created: String
    var compressedDiffDigest: String
    var diffDigest: String
    var diffSize: Int64

    enum CodingKeys: String, CodingKey {
        case id, created
        case compressedDiffDigest = "compressed-diff-digest"
        case diffDigest = "diff-digest"
        case diffSize = "diff-size"
    }
}

struct Origin: Codable {
    var origin: [String]
}

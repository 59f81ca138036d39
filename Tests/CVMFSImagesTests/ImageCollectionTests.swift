import CVMFSFormat
@testable import CVMFSImages
import CVMFSPublish
import CVMFSTestSupport
import Foundation
import Glibc
import Testing

/// Scheduling and carrying out image removals (`RemoveSchedule`, `ImageCollector`) through
/// `Converter`, on OCI layouts made by integration/make-test-image.py and a real published
/// repository: `multilayer` (tag 1) and `multilayer2` (tag 2) share four layers.
@Suite("Image removal", .serialized)
struct ImageCollectionTests {
    static let fqrn = "gc.test.local"

    struct Workspace {
        let scratch: String
        var layout: String { scratch + "/layout" }
        var output: String { scratch + "/repo" }
        var staging: String { scratch + "/staging" }

        func makeImage(_ variant: String, tag: String) throws {
            let result = try ProcessSupport.run("python3", [Fixtures.packageRoot + "/integration/make-test-image.py", layout, variant, tag])
            #expect(result.status == 0, "make-test-image.py: \(result.stderr)")
        }

        func convert(_ tags: [String], gc grace: Int64? = nil, podmanStore: Bool = true) throws -> ConvertReport {
            try converter(tags, gc: grace, podmanStore: podmanStore).run()
        }

        func converter(_ tags: [String], gc grace: Int64? = nil, podmanStore: Bool = true) throws -> Converter {
            let inputs = tags.map { "  - oci:\(layout):\($0) as localhost/test/image:\($0)\n" }.joined()
            let recipe = try Recipe(text: "version: 1\ncvmfs_repo: \(ImageCollectionTests.fqrn)\ninput:\n" + inputs)
            var options = ConvertOptions(output: output, publish: PublishOptions(fqrn: ImageCollectionTests.fqrn, keyDirectory: scratch + "/keys"))
            options.staging = staging
            options.showProgress = false
            options.podmanStore = podmanStore
            if let grace {
                options.collectImages = true
                options.gracePeriod = grace
            }
            return try Converter(recipe: recipe, options: options)
        }

        /// Every path of the staging tree, relative to it.
        func listing() -> Set<String> {
            var paths = Set<String>()
            func walk(_ relative: String) {
                for name in FS.list(staging + relative) {
                    paths.insert(String((relative + "/" + name).dropFirst()))
                    if FS.isDirectory(staging + relative + "/" + name) { walk(relative + "/" + name) }
                }
            }
            walk("")
            return paths
        }

        func storeImages() throws -> [ImageRecord] {
            try JSON.decode([ImageRecord].self, try FS.read(staging + "/podmanStore/overlay-images/images.json"), what: "images.json")
        }

        func storeLayers() throws -> [LayerRecord] {
            try JSON.decode([LayerRecord].self, try FS.read(staging + "/podmanStore/overlay-layers/layers.json"), what: "layers.json")
        }

        func imageID(_ tag: String) -> String? {
            FS.readLink(staging + "/localhost/test/image:" + tag).map { String($0.split(separator: "/").last!) }
        }
    }

    static func workspace() throws -> Workspace {
        let work = Workspace(scratch: try ProcessSupport.makeTemporaryDirectory("imagegc"))
        try work.makeImage("multilayer", tag: "1")
        try work.makeImage("multilayer2", tag: "2")
        return work
    }

    @Test("a schedule keeps the first time per name and image, cancels, and is due after the grace period; an empty one leaves no file")
    func scheduleFile() throws {
        let staging = try ProcessSupport.makeTemporaryDirectory("schedule")
        defer { ProcessSupport.remove(staging) }
        let image = "sha256:" + String(repeating: "a", count: 64)
        var schedule = RemoveSchedule()
        let first = schedule.schedule(.init(name: "r/x:1", image: image, scheduled: UTCDate.string(1_000), reason: "gone"))
        let second = schedule.schedule(.init(name: "r/x:1", image: image, scheduled: UTCDate.string(5_000), reason: "gone"))
        #expect(first && !second)
        try schedule.save(staging: staging)
        let loaded = try RemoveSchedule.load(staging: staging)
        #expect(loaded == schedule && loaded.entries.map(\.scheduled) == ["1970-01-01T00:16:40Z"])
        #expect(loaded.due(now: 1_000 + 59, grace: 60).isEmpty)
        #expect(loaded.due(now: 1_000 + 60, grace: 60).map(\.name) == ["r/x:1"])
        var cancelled = loaded
        let removed = cancelled.cancel(name: "r/x:1", image: Digest(image)!)
        #expect(removed?.scheduled == "1970-01-01T00:16:40Z")
        try cancelled.save(staging: staging)
        #expect(!FS.exists(staging + "/" + RemoveSchedule.path))
    }

    @Test("a tag removed from the recipe: scheduled and published; --gc before the grace period removes nothing; after it only the image's own paths go; again: nothing published")
    func removedTag() throws {
        let work = try Self.workspace()
        defer { ProcessSupport.remove(work.scratch) }
        _ = try work.convert(["1", "2"])
        let id1 = try #require(work.imageID("1")), id2 = try #require(work.imageID("2"))
        #expect(try work.storeImages().count == 2 && work.storeLayers().count == 5)
        let full = work.listing()

        let scheduling = try work.convert(["1"], gc: 3_600)
        #expect(scheduling.scheduled == ["localhost/test/image:2 (image \(id2.prefix(12))): no longer in the recipe"])
        #expect(scheduling.removed.isEmpty)
        let revision = try #require(scheduling.published, "the schedule is repository content").revision
        #expect(work.listing() == full.union([RemoveSchedule.path]), "nothing removed before the grace period")
        #expect(try work.convert(["1"], gc: 3_600).published == nil, "an unchanged schedule publishes nothing")
        #expect(try work.converter(["1"], gc: 0).collectionPreview().contains(".flat/\(id2.prefix(2))/\(id2)"), "the dry run lists the flat root")
        #expect(work.listing() == full.union([RemoveSchedule.path]), "the dry run changes nothing")

        let collecting = try work.convert(["1"], gc: 0)
        #expect(try #require(collecting.published).revision == revision + 1)
        let gone = full.subtracting(work.listing())
        let top = try #require(gone.first { $0.hasPrefix(".layers/") && $0.split(separator: "/").last?.count == 64 }, "the top layer's folder goes")
        let topID = String(top.split(separator: "/")[2])
        // The fan-out folders the image and its layer were alone in go with them.
        let own = [".flat/\(id2.prefix(2))/\(id2)", top, "podmanStore/"]
        let emptied: Set<String> = [".flat/\(id2.prefix(2))", ".layers/\(topID.prefix(2))", ".layers/\(topID.prefix(2))/.cvmfscatalog"]
        #expect(gone.filter { path in !own.contains { path.hasPrefix($0) } }.subtracting(emptied).sorted()
                == ["localhost/test/image:2", ".metadata/localhost/test/image:2", ".metadata/localhost/test/image:2/manifest.json"].sorted(),
                "besides the flat root, the top layer and the store entry only the name and its manifest go: \(gone.sorted())")
        #expect(work.listing().isSuperset(of: full.subtracting(gone)) && FS.isDirectory(work.staging + "/.flat/\(id1.prefix(2))/\(id1)"))
        let storeGone = gone.filter { $0.hasPrefix("podmanStore/") }
        #expect(storeGone.contains("podmanStore/overlay-images/\(id2)") && storeGone.contains { $0.hasPrefix("podmanStore/overlay/l/") }
                && storeGone.allSatisfy { $0.hasPrefix("podmanStore/overlay-images/\(id2)") || $0.hasPrefix("podmanStore/overlay/") },
                "the store loses the image's folder and its top layer's folder and link: \(storeGone.sorted())")
        #expect(!FS.exists(work.staging + "/" + RemoveSchedule.path), "the schedule is empty and gone")
        #expect(work.imageID("1") == id1 && FS.isDirectory(work.staging + "/.flat/\(id1.prefix(2))/\(id1)"))
        #expect(try work.storeImages().map(\.id) == [id1] && work.storeLayers().count == 4)
        #expect(try work.storeLayers().allSatisfy { $0.compressedDiffDigest != "sha256:" + topID })
        #expect(try work.storeImages().first?.names == ["localhost/test/image:1"])
        let origin = try FS.read(work.staging + "/" + (try #require(work.listing().first { $0.hasSuffix("/.metadata/origin.json") })))
        #expect(!String(decoding: origin, as: UTF8.self).contains("image:2"), "the shared layers forget the removed name")

        let again = try work.convert(["1"], gc: 0)
        #expect(again.published == nil && again.removed.isEmpty, "converting again changes nothing")
    }

    @Test("re-adding an image before the grace period ends cancels its removal")
    func reAdded() throws {
        let work = try Self.workspace()
        defer { ProcessSupport.remove(work.scratch) }
        _ = try work.convert(["1", "2"])
        let full = work.listing()
        #expect(try work.convert(["1"]).scheduled.count == 1)
        let readded = try work.convert(["1", "2"], gc: 0)
        #expect(readded.cancelled.count == 1 && readded.removed.isEmpty)
        #expect(work.listing() == full, "the schedule is gone and nothing was removed")
    }

    @Test("a tag moved to another image: the old image goes after the grace period, the name, its new image and the shared layers stay")
    func movedTag() throws {
        let work = try Self.workspace()
        defer { ProcessSupport.remove(work.scratch) }
        _ = try work.convert(["1"])
        let old = try #require(work.imageID("1"))
        try work.makeImage("multilayer2", tag: "1")
        let moved = try work.convert(["1"], gc: 3_600)
        let new = try #require(work.imageID("1"))
        #expect(new != old && moved.converted == ["localhost/test/image:1"])
        #expect(moved.scheduled.first?.hasPrefix("localhost/test/image:1 (image \(old.prefix(12))): the tag moved to sha256:") == true)
        let before = work.listing()
        let collected = try work.convert(["1"], gc: 0)
        let gone = before.subtracting(work.listing())
        #expect(gone.contains(".flat/\(old.prefix(2))/\(old)")
                && gone.allSatisfy { $0.hasPrefix(".flat/\(old.prefix(2))/\(old)") || $0 == ".flat/\(old.prefix(2))" || $0 == RemoveSchedule.path
                    || $0.hasPrefix("podmanStore/overlay-images/\(old)") },
                "only the old flat root and its store folder go: \(gone.sorted())")
        #expect(collected.published != nil && work.imageID("1") == new)
        #expect(try work.storeImages().map(\.id) == [new] && work.storeLayers().count == 5)
    }

    @Test("turning the podman store off removes podmanStore and publishes")
    func storeTurnedOff() throws {
        let work = try Self.workspace()
        defer { ProcessSupport.remove(work.scratch) }
        _ = try work.convert(["1"])
        #expect(FS.isDirectory(work.staging + "/podmanStore"))
        let off = try work.convert(["1"], podmanStore: false)
        #expect(off.podmanStoreRemoved && off.published != nil && !FS.exists(work.staging + "/podmanStore"))
        let key = try RSAPublicKey(contentsOf: work.scratch + "/keys/\(Self.fqrn).pub")
        let reader = try RepositoryReader(source: FolderSource(root: work.output), publicKeys: [key], fqrn: Self.fqrn)
        #expect(throws: RepositoryError.self) { try reader.lookup("/podmanStore") }
        #expect(try work.convert(["1"], podmanStore: false).published == nil, "off again: nothing to do")
    }
}

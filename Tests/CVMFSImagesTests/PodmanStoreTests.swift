@testable import CVMFSImages
import CVMFSTestSupport
import Foundation
import Testing

/// `PodmanStore`: the containers/storage overlay layout, ids from content, shared layers once,
/// and a second write that changes nothing.
@Suite("Podman image store")
struct PodmanStoreTests {
    static func digest(_ text: String) -> Digest { SHA256Hasher.digest(Array(text.utf8)) }

    static func layer(_ name: String) -> PodmanStore.LayerSource {
        PodmanStore.LayerSource(compressedDigest: digest("blob " + name), compressedSize: 10, diffID: digest("tar " + name),
                                diffSize: 20, compression: 2)
    }

    static func image(_ name: String, layers: [String]) -> PodmanStore.Image {
        let config = Array("{\"config\":\"\(name)\"}".utf8)
        let manifest = Array("{\"manifest\":\"\(name)\"}".utf8)
        return PodmanStore.Image(names: [name], configDigest: SHA256Hasher.digest(config), configBytes: config,
                                 manifestDigest: SHA256Hasher.digest(manifest), manifestBytes: manifest,
                                 created: "2023-11-14T22:13:20Z", layers: layers.map(layer))
    }

    /// Every file and symlink below `root` with its bytes or target, and its mtime.
    static func snapshot(_ root: String) throws -> [String: String] {
        var result: [String: String] = [:]
        let fm = FileManager.default
        for path in try fm.subpathsOfDirectory(atPath: root) {
            let full = root + "/" + path
            var st = stat()
            lstat(full, &st)
            let body = (try? fm.destinationOfSymbolicLink(atPath: full)).map { "-> " + $0 }
                ?? (fm.contents(atPath: full).map { String(decoding: $0, as: UTF8.self) } ?? "dir")
            result[path] = body + " @\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
        }
        return result
    }

    @Test("layer ids follow containers/image: the base is its diff_id, the next sha256(parent+diff_id); link names are stable 26-character base32")
    func ids() {
        let diffs = [Self.digest("a"), Self.digest("b")]
        let ids = PodmanStore.layerIDs(diffs)
        #expect(ids[0] == diffs[0].hex)
        #expect(ids[1] == SHA256Hasher.digest(Array((ids[0] + "+" + diffs[1].description).utf8)).hex)
        let link = PodmanStore.linkName(layerID: ids[1])
        #expect(link.count == 26 && link.allSatisfy { ("A"..."Z").contains($0) || ("2"..."7").contains($0) })
        #expect(link == PodmanStore.linkName(layerID: ids[1]) && link != PodmanStore.linkName(layerID: ids[0]))
        #expect(PodmanStore.bigDataFileName("manifest") == "manifest")
        #expect(PodmanStore.bigDataFileName("sha256:ab") == "=" + Data("sha256:ab".utf8).base64EncodedString())
    }

    @Test("the overlay layout podman reads: diff into .layers, link, l/ symlink, lower, layers.json, images.json, big data, lock files")
    func layout() throws {
        let scratch = try ProcessSupport.makeTemporaryDirectory("podman-store")
        defer { ProcessSupport.remove(scratch) }
        let store = PodmanStore(root: scratch + "/podmanStore")
        let image = Self.image("registry.test/one:1", layers: ["base", "top"])
        try store.add(image)
        let fm = FileManager.default
        let ids = PodmanStore.layerIDs(image.layers.map(\.diffID))
        let base = scratch + "/podmanStore/overlay/" + ids[0]
        let top = scratch + "/podmanStore/overlay/" + ids[1]
        let blob = image.layers[0].compressedDigest
        #expect(try fm.destinationOfSymbolicLink(atPath: base + "/diff") == "../../../.layers/\(blob.prefix)/\(blob.hex)/layerfs")
        let baseLink = PodmanStore.linkName(layerID: ids[0])
        #expect(fm.contents(atPath: base + "/link") == Data(baseLink.utf8))
        #expect(!fm.fileExists(atPath: base + "/lower"), "the base layer has no lower file")
        #expect(fm.contents(atPath: top + "/lower") == Data("l/\(baseLink)".utf8))
        #expect(try fm.destinationOfSymbolicLink(atPath: scratch + "/podmanStore/overlay/l/" + baseLink) == "../\(ids[0])/diff")
        for lock in ["overlay-images/images.lock", "overlay-layers/layers.lock"] {
            #expect(fm.contents(atPath: scratch + "/podmanStore/" + lock) == Data(), "\(lock) exists, empty")
        }
        for folder in PodmanStore.catalogFolders {
            #expect(fm.fileExists(atPath: scratch + "/podmanStore" + folder + "/.cvmfscatalog"))
        }
        let layers = try JSONDecoder().decode([LayerRecord].self, from: try #require(fm.contents(atPath: scratch + "/podmanStore/overlay-layers/layers.json")))
        #expect(layers.count == 2)
        #expect(layers.first { $0.id == ids[1] }?.parent == ids[0])
        #expect(layers.first { $0.id == ids[0] }?.parent == nil)
        let images = try JSONDecoder().decode([ImageRecord].self, from: try #require(fm.contents(atPath: scratch + "/podmanStore/overlay-images/images.json")))
        let record = try #require(images.first)
        #expect(record.id == image.configDigest.hex && record.layer == ids[1] && record.names == ["registry.test/one:1"])
        #expect(record.digest == image.manifestDigest.description)
        let dir = scratch + "/podmanStore/overlay-images/" + record.id
        #expect(fm.contents(atPath: dir + "/" + PodmanStore.bigDataFileName(image.configDigest.description)) == Data(image.configBytes))
        #expect(fm.contents(atPath: dir + "/manifest") == Data(image.manifestBytes))
        #expect(record.bigDataSizes["manifest"] == Int64(image.manifestBytes.count))
        #expect(store.lists(name: "registry.test/one:1", configDigest: image.configDigest))
    }

    @Test("two images on one base layer: one layer entry for it; writing both again changes no byte and no mtime; a moved name leaves the old image")
    func sharedAndIdempotent() throws {
        let scratch = try ProcessSupport.makeTemporaryDirectory("podman-store")
        defer { ProcessSupport.remove(scratch) }
        let store = PodmanStore(root: scratch + "/podmanStore")
        let one = Self.image("registry.test/app:1", layers: ["base", "one"])
        let two = Self.image("registry.test/app:2", layers: ["base", "two"])
        try store.add(one)
        try store.add(two)
        let layers = try JSONDecoder().decode([LayerRecord].self, from: try #require(FileManager.default.contents(atPath: scratch + "/podmanStore/overlay-layers/layers.json")))
        #expect(layers.count == 3, "base once, one top layer each")
        #expect(Set(layers.map(\.id)).count == 3)
        let before = try Self.snapshot(scratch + "/podmanStore")
        try store.add(one)
        try store.add(two)
        #expect(try Self.snapshot(scratch + "/podmanStore") == before)

        var moved = two
        moved.names = ["registry.test/app:1"]
        try store.add(moved)
        let images = try JSONDecoder().decode([ImageRecord].self, from: try #require(FileManager.default.contents(atPath: scratch + "/podmanStore/overlay-images/images.json")))
        #expect(images.first { $0.id == one.configDigest.hex }?.names == [])
        #expect(images.first { $0.id == two.configDigest.hex }?.names == ["registry.test/app:1", "registry.test/app:2"])
        #expect(!store.lists(name: "registry.test/app:1", configDigest: one.configDigest))
    }

    @Test("the recipe's podman_store key: default on, false turns it off, another value is refused")
    func recipeSwitch() throws {
        let base = "version: 1\ncvmfs_repo: r.test\ninput:\n  - registry.test/app:1\n"
        #expect(try Recipe(text: base).podmanStore)
        #expect(try !Recipe(text: base + "podman_store: false\n").podmanStore)
        #expect(throws: ImageError.self) { try Recipe(text: base + "podman_store: maybe\n") }
    }
}

import CVMFSFormat
@testable import CVMFSImages
import CVMFSPublish
import CVMFSTestSupport
import Foundation
import Testing

/// `Converter` end to end without a registry: OCI image layouts made by
/// integration/make-test-image.py, converted and published, then read back
/// from the published repository with its signature checked.
@Suite("Image conversion", .serialized)
struct ConverterTests {
    static let fqrn = "convert.test.local"

    struct Workspace {
        let scratch: String
        var layout: String { scratch + "/layout" }
        var output: String { scratch + "/repo" }
        var keys: String { scratch + "/keys" }

        func makeImage(_ variant: String, tag: String) throws {
            let script = Fixtures.packageRoot + "/integration/make-test-image.py"
            let result = try ProcessSupport.run("python3", [script, layout, variant, tag])
            #expect(result.status == 0, "make-test-image.py: \(result.stderr)")
        }

        func convert(_ tags: [String]) throws -> ConvertReport {
            let inputs = tags.map { "  - oci:\(layout):\($0) as localhost/test/multilayer:\($0)\n" }.joined()
            let recipe = try Recipe(text: "version: 1\nuser: test\ncvmfs_repo: \(ConverterTests.fqrn)\ninput:\n" + inputs)
            var options = ConvertOptions(output: output, publish: PublishOptions(fqrn: ConverterTests.fqrn, keyDirectory: keys))
            options.showProgress = false
            return try Converter(recipe: recipe, options: options).run()
        }

        func reader() throws -> RepositoryReader {
            let key = try RSAPublicKey(contentsOf: keys + "/\(ConverterTests.fqrn).pub")
            return try RepositoryReader(source: FolderSource(root: output), publicKeys: [key], fqrn: ConverterTests.fqrn)
        }
    }

    /// The public name sits two folders deep: its `../../.flat/xx/id` is `/.flat/xx/id`.
    static func flatRoot(_ target: String) -> String {
        "/" + target.replacingOccurrences(of: "../", with: "")
    }

    static func text(_ reader: RepositoryReader, _ path: String) throws -> String {
        var bytes: [UInt8] = []
        try reader.readFile(try reader.lookup(path)) { (chunk: UnsafeRawBufferPointer) throws(ObjectError) in bytes += chunk }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("layers applied in order (whiteouts, opaque directories, replacements), published under the public name; again: nothing to do; a new tag shares the layers")
    func convertAndReconvert() throws {
        let work = Workspace(scratch: try ProcessSupport.makeTemporaryDirectory("convert"))
        defer { ProcessSupport.remove(work.scratch) }
        try work.makeImage("multilayer", tag: "1")

        let first = try work.convert(["1"])
        #expect(first.converted == ["localhost/test/multilayer:1"])
        let revision = try #require(first.published).revision
        var reader = try work.reader()
        let link = try reader.lookup("/localhost/test/multilayer:1")
        #expect(link.entry.isSymlink && link.entry.symlink.hasPrefix("../../.flat/"), "public name → \(link.entry.symlink)")
        let root = Self.flatRoot(link.entry.symlink)
        #expect(try Self.text(reader, root + "/etc/hello") == "hello v2\n", "the top layer's replacement wins")
        #expect(try Self.text(reader, root + "/etc/version") == "1\n")
        #expect(try reader.lookup(root + "/data/keep.txt").entry.isSymlink, "a file replaced by a symlink")
        #expect(throws: RepositoryError.self, "a whiteout deletes the lower layer's file") { try reader.lookup(root + "/data/gone.txt") }
        #expect(throws: RepositoryError.self, "an opaque directory hides the old content") { try reader.lookup(root + "/opt/dir/old.txt") }
        #expect(try Self.text(reader, root + "/opt/dir/new.txt") == "new\n")
        #expect(try reader.lookup(root + "/bin/sh").entry.mode & 0o111 != 0, "the shell is executable")

        let again = try work.convert(["1"])
        #expect(again.converted.isEmpty && again.upToDate == ["localhost/test/multilayer:1"])
        #expect(again.published == nil, "an unchanged recipe publishes nothing")
        #expect(try work.reader().manifest.revision == revision)

        try work.makeImage("multilayer2", tag: "2")
        let second = try work.convert(["1", "2"])
        #expect(second.converted == ["localhost/test/multilayer:2"])
        reader = try work.reader()
        #expect(reader.manifest.revision == revision + 1)
        let root2 = Self.flatRoot(try reader.lookup("/localhost/test/multilayer:2").entry.symlink)
        #expect(try Self.text(reader, root2 + "/new/file") == "tag two\n")
        #expect(try Self.text(reader, root2 + "/etc/version") == "2\n")
        #expect(try Self.text(reader, root + "/etc/version") == "1\n", "tag 1 is unchanged")
        let staging = work.output + "/../\(Self.fqrn).staging/.layers"
        var layers: [String] = []
        for bucket in try FileManager.default.contentsOfDirectory(atPath: staging) where bucket.count == 2 {
            for digest in try FileManager.default.contentsOfDirectory(atPath: staging + "/" + bucket)
            where FileManager.default.fileExists(atPath: staging + "/" + bucket + "/" + digest + "/layerfs") {
                layers.append(digest)
            }
        }
        #expect(layers.count == 5, "four shared layers and the new top one: \(layers)")
    }

    @Test("the published layer copies carry overlay whiteouts: a character device 0/0 for .wh.NAME, trusted.overlay.opaque on an opaque directory")
    func publishedOverlayWhiteouts() throws {
        let work = Workspace(scratch: try ProcessSupport.makeTemporaryDirectory("convert"))
        defer { ProcessSupport.remove(work.scratch) }
        try work.makeImage("multilayer", tag: "1")
        _ = try work.convert(["1"])
        let reader = try work.reader()
        var whiteouts: [String] = [], opaque: [String] = []
        for bucket in try reader.list("/.layers") where bucket.entry.isDirectory {
            for layer in try reader.list(bucket.path) where layer.entry.isDirectory {
                if let gone = try? reader.lookup(layer.path + "/layerfs/data/gone.txt"), gone.entry.mode & 0o170000 == 0o020000 {
                    #expect(gone.entry.size == 0, "device 0/0")
                    whiteouts.append(gone.path)
                }
                if let dir = try? reader.lookup(layer.path + "/layerfs/opt/dir"),
                   let xattrs = try dir.catalog.xattrs(of: PathHash(path: dir.path)), xattrs["trusted.overlay.opaque"] == Array("y".utf8) {
                    #expect(xattrs["user.overlay.opaque"] == Array("y".utf8))
                    #expect((try? reader.lookup(layer.path + "/layerfs/opt/dir/.wh..wh..opq")) == nil)
                    opaque.append(dir.path)
                }
            }
        }
        #expect(whiteouts.count == 1 && opaque.count == 1, "layer 2 deletes data/gone.txt and makes opt/dir opaque: \(whiteouts) \(opaque)")
    }
}

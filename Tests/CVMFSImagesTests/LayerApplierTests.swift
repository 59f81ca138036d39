import Glibc
import CLinux
import Testing
@testable import CVMFSImages

@Suite("Layer application")
struct LayerApplierTests {
    func apply(_ layers: [TarBuilder], whiteouts: WhiteoutHandling = .apply) throws -> String {
        let root = temporaryDirectory() + "/rootfs"
        let applier = try LayerApplier(root: root, whiteouts: whiteouts)
        for (i, layer) in layers.enumerated() {
            _ = try applier.apply(TarReader(source: MemoryStream(layer.archive), name: "layer \(i)"), name: "layer \(i)")
        }
        return root
    }

    @Test("whiteouts, opaque directories, replacement, symlinks and hard links across layers")
    func layering() throws {
        var one = TarBuilder()
        one.directory("etc/"); one.file("etc/hello", "hello\n")
        one.directory("data/"); one.file("data/gone", "x"); one.file("data/keep", "k")
        one.directory("dir/"); one.file("dir/old", "old"); one.directory("dir/sub/"); one.file("dir/sub/deep", "d")
        one.directory("replaced/"); one.file("replaced/child", "c")
        one.file("a", "linked")
        var two = TarBuilder()
        two.file("data/.wh.gone", "")
        two.directory("dir/"); two.file("dir/.wh..wh..opq", ""); two.file("dir/new", "new")
        two.symlink("link", "etc/hello")
        two.hardlink("b", "a")
        two.file("replaced", "file now")
        let root = try apply([one, two])
        #expect(!FS.exists(root + "/data/gone"))
        #expect(FS.exists(root + "/data/keep"))
        #expect(FS.list(root + "/dir") == ["new"])
        #expect(FS.readLink(root + "/link") == "etc/hello")
        #expect(readText(root + "/replaced") == "file now")
        var sa = stat(), sb = stat()
        #expect(lstat(root + "/a", &sa) == 0 && lstat(root + "/b", &sb) == 0)
        #expect(sa.st_ino == sb.st_ino)
        #expect(sa.st_mtim.tv_sec == 1_700_000_000)
        var sd = stat()
        #expect(lstat(root + "/data", &sd) == 0 && sd.st_mtim.tv_sec == 1_700_000_000)  // kept after the whiteout
    }

    @Test("keep mode leaves whiteout files as they are")
    func keep() throws {
        var layer = TarBuilder()
        layer.directory("d/"); layer.file("d/.wh.x", ""); layer.file("d/.wh..wh..opq", "")
        let root = try apply([layer], whiteouts: .keep)
        #expect(FS.list(root + "/d") == [".wh..wh..opq", ".wh.x"])
    }

    @Test("overlay mode: .wh.NAME becomes a character device 0/0, .wh..wh..opq the opaque xattrs, a name the layer adds wins")
    func overlay() throws {
        var layer = TarBuilder()
        layer.directory("d/"); layer.file("d/.wh.x", ""); layer.file("d/.wh..wh..opq", ""); layer.file("d/new", "n")
        layer.file("d/.wh.new", "")  // the layer's own file stays: a whiteout hides only the layers below
        layer.file("e/.wh.gone", "")  // no directory entry before it: made like any parent
        let root = try apply([layer], whiteouts: .overlay)
        #expect(FS.list(root + "/d") == ["new", "x"])
        var st = stat()
        #expect(lstat(root + "/d/x", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == 0)
        #expect(lstat(root + "/e/gone", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == 0)
        #expect(readText(root + "/d/new") == "n")
        for key in LayerApplier.opaqueXattrs {
            var value = [UInt8](repeating: 0, count: 8)
            let n = lgetxattr(root + "/d", key, &value, value.count)
            #expect(n == 1 && value[0] == UInt8(ascii: "y"), "\(key)")
            #expect(lgetxattr(root + "/e", key, &value, value.count) < 0, "\(key) on a directory without .wh..wh..opq")
        }
    }

    @Test("entries that would leave the root are refused", arguments: ["dotdot", "absolute", "symlink", "hardlink"])
    func escapes(kind: String) throws {
        var layer = TarBuilder()
        layer.directory("etc/")
        switch kind {
        case "dotdot": layer.file("etc/../../evil", "x")
        case "absolute": layer.file("/evil", "x")
        case "symlink": layer.symlink("etc/out", "../../../../.."); layer.file("etc/out/evil", "x")
        default: layer.hardlink("etc/h", "../../etc/passwd")
        }
        #expect(throws: ImageError.self) { _ = try apply([layer]) }
    }

    @Test("symlinks in parent paths resolve inside the root")
    func inRootSymlink() throws {
        var layer = TarBuilder()
        layer.directory("usr/"); layer.directory("usr/lib/"); layer.symlink("lib", "/usr/lib"); layer.file("lib/x.so", "so")
        let root = try apply([layer])
        #expect(readText(root + "/usr/lib/x.so") == "so")
    }

    @Test("a truncated archive is an error")
    func truncated() throws {
        var layer = TarBuilder()
        layer.file("f", String(repeating: "x", count: 5000))
        let bytes = Array(layer.bytes.prefix(2000))
        let root = temporaryDirectory() + "/r"
        let applier = try LayerApplier(root: root, whiteouts: .apply)
        #expect(throws: ImageError.self) { _ = try applier.apply(TarReader(source: MemoryStream(bytes), name: "t"), name: "t") }
    }
}

@Suite("References and recipes")
struct ReferenceTests {
    @Test("image references")
    func references() throws {
        let hub = try ImageReference.parse("ubuntu:22.04")
        #expect(hub.publicPath == "registry.hub.docker.com/library/ubuntu:22.04")
        let local = try ImageReference.parse("127.0.0.1:5000/test/multilayer:1", insecure: true)
        #expect(local.registry == "127.0.0.1:5000" && local.repository == "test/multilayer" && local.tag == "1")
        #expect(local.source == .registry(scheme: "http"))
        let noTag = try ImageReference.parse("https://ghcr.io/org/image")
        #expect(noTag.tag == "latest" && noTag.source == .registry(scheme: "https"))
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let byDigest = try ImageReference.parse("quay.io/a/b@\(digest)")
        #expect(byDigest.tag == nil && byDigest.publicPath == "quay.io/a/b:\(digest)")
        #expect(byDigest.metadataPath == ".metadata/quay.io/a/b")
        let oci = try ImageReference.parse("oci:/tmp/layout:1 as localhost/x/y:2")
        #expect(oci.source == .ociLayout(path: "/tmp/layout") && oci.publicPath == "localhost/x/y:2")
        #expect(throws: ImageReference.ParseError.self) { _ = try ImageReference.parse("ftp://x/y") }
        #expect(try ImageReference.parse("reg.io/a/b:v1.*").hasWildcard)
    }

    @Test("recipe")
    func recipe() throws {
        let recipe = try Recipe(text: """
            version: 1   # comment
            user: smith
            cvmfs_repo: 'unpacked.cern.ch'
            output_format: '$(scheme)://registry.gitlab.cern.ch/thin/$(image)'
            input:
            - 'https://registry.hub.docker.com/library/fedora:latest'
              - "ubuntu:2*"
            """)
        #expect(recipe.repository == "unpacked.cern.ch")
        #expect(recipe.inputs == ["https://registry.hub.docker.com/library/fedora:latest", "ubuntu:2*"])
        #expect(throws: ImageError.self) { _ = try Recipe(text: "version: 2\ncvmfs_repo: a.b\ninput:\n - x") }
        #expect(throws: ImageError.self) { _ = try Recipe(text: "version: 1\ncvmfs_repo: a.b\n") }
    }

    @Test("recipe profiles: image references with colons, quoting, and errors that name the line")
    func recipeProfiles() throws {
        let recipe = try Recipe(text: """
            version: 1
            cvmfs_repo: unpacked.example.org
            input:
              - 'https://localhost:5000/library/python:3.11'
              - ubuntu:22.04
            profiles:
              'https://localhost:5000/library/python:3.11': profiles/python.profile
              ubuntu:22.04: "/srv/ubuntu start.profile"   # absolute, with a space
            """)
        #expect(recipe.profiles == [
            "https://localhost:5000/library/python:3.11": "profiles/python.profile",
            "ubuntu:22.04": "/srv/ubuntu start.profile",
        ])
        #expect(recipe.inputs.count == 2)
        let head = "version: 1\ncvmfs_repo: a.b\ninput:\n  - x:1\nprofiles:\n"
        #expect(try Recipe(text: head).profiles.isEmpty)
        #expect(throws: ImageError.recipe("'profiles' names 'y:1', which is not an entry of 'input'")) {
            _ = try Recipe(text: head + "  y:1: p\n")
        }
        #expect(throws: ImageError.recipe("line 7: a second profile for 'x:1'")) {
            _ = try Recipe(text: head + "  x:1: p\n  x:1: q\n")
        }
        #expect(throws: ImageError.recipe("line 6: expected 'image: profile file' in 'profiles'")) {
            _ = try Recipe(text: head + "  x:1\n")
        }
        #expect(throws: ImageError.self) { _ = try Recipe(text: "version: 1\ncvmfs_repo: a.b\ninput:\n  - x\nprofiles: x\n") }
    }

    @Test("a recipe file's relative profile paths are relative to its folder")
    func recipeProfilePathsFromFile() throws {
        let folder = temporaryDirectory()
        defer { try? FS.remove(folder) }
        let path = folder + "/recipe.yaml"
        try FS.write(path, Array("version: 1\ncvmfs_repo: a.b\ninput:\n  - x:1\n  - y:2\nprofiles:\n  x:1: x.profile\n  y:2: /abs/y.profile\n".utf8))
        let recipe = try Recipe.load(path: path)
        #expect(recipe.profiles == ["x:1": folder + "/x.profile", "y:2": "/abs/y.profile"])
    }
}

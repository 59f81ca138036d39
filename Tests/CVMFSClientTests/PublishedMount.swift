import Foundation
import Glibc
import Testing
@testable import CVMFSClient
import CVMFSFormat
import CVMFSPublish
import CVMFSTestSupport

/// A real repository for client tests: a source tree published with
/// `Publisher`, served over loopback HTTP by `FaultServer`, and opened by a
/// `MountSession` (no FUSE). `close()` (from a `defer`) shuts the session
/// down, stops the server and removes every scratch folder.
final class PublishedMount {
    let fqrn: String
    let scratch: String
    /// The tree that is published; change it and call `publishAgain()` for the next revision.
    let source: String
    /// The published repository, the folder the server serves.
    let output: String
    let keys: String
    let options: PublishOptions
    private(set) var report: PublishReport
    let server: FaultServer
    private var serverRunning = true
    /// The client configuration's parameters (written to a file for `ClientConfiguration.load`).
    let clientParameters: [String: String]
    let session: MountSession
    var fileSystem: RepositoryFileSystem { session.fileSystem }

    /// Makes a scratch folder, lets `tree` fill `<scratch>/source`, publishes
    /// it with `configure`'s options and mounts it with `parameters` added to
    /// the client configuration. Opening the session fetches the manifest,
    /// whitelist, certificate and root catalog only: a test may damage other
    /// served objects before it first uses them.
    init(label: String, parameters: [String: String] = [:],
         configure: (inout PublishOptions) -> Void = { _ in },
         tree: (_ source: String) throws -> Void) throws {
        let fqrn = "\(label).cvmfs.local"
        self.fqrn = fqrn
        scratch = try ProcessSupport.makeTemporaryDirectory(label)
        source = scratch + "/source"
        output = scratch + "/repo"
        keys = scratch + "/keys"
        var server: FaultServer?
        do {
            try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
            try tree(source)
            try Self.writeKeys(into: keys, fqrn: fqrn)
            var options = PublishOptions(fqrn: fqrn, keyDirectory: keys)
            configure(&options)
            self.options = options
            report = try Publisher(options: options).publish(source: source, output: output)
            let started = try FaultServer(root: URL(fileURLWithPath: output))
            server = started
            self.server = started
            let clientParameters = [
                "CVMFS_SERVER_URL": started.url,
                "CVMFS_HTTP_PROXY": "DIRECT",
                "CVMFS_PUBLIC_KEY": "\(keys)/\(fqrn).pub",
                "CVMFS_CACHE_BASE": "\(scratch)/cache",
                "CVMFS_SHARED_CACHE": "no",
            ].merging(parameters) { $1 }
            self.clientParameters = clientParameters
            session = try MountSession(configuration: Self.loadConfiguration(fqrn: fqrn, scratch: scratch, clientParameters))
        } catch {
            server?.stop()
            Self.removeTree(scratch)
            throw error
        }
    }

    /// Publishes `source` again into the same folder: the next revision
    /// (signed at `now`, if given).
    @discardableResult
    func publishAgain(now: Int64? = nil) throws -> PublishReport {
        var options = self.options
        if let now { options.now = now }
        report = try Publisher(options: options).publish(source: source, output: output)
        return report
    }

    /// One master key and one certificate key, made once per test process and
    /// kept in memory (generating RSA keys is most of a publish's time); each
    /// test writes them into its own key folder, and the publisher adds the
    /// public key and the certificate.
    private static let sharedKeys: Result<(master: [UInt8], certificate: [UInt8]), SignatureError> = Result {
        () throws(SignatureError) in (try RSAPrivateKey.generate().pem(), try RSAPrivateKey.generate().pem())
    }

    static func writeKeys(into directory: String, fqrn: String) throws {
        let keys = try sharedKeys.get()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (suffix, pem) in [(".masterkey", keys.master), (".key", keys.certificate)] {
            let path = directory + "/" + fqrn + suffix
            try Data(pem).write(to: URL(fileURLWithPath: path))
            chmod(path, 0o600)
        }
    }

    /// The client configuration of this mount, with `overrides`, as a
    /// second mount of the same repository would read it.
    func configuration(_ overrides: [String: String] = [:]) throws -> ClientConfiguration {
        try Self.loadConfiguration(fqrn: fqrn, scratch: scratch, clientParameters.merging(overrides) { $1 })
    }

    private static func loadConfiguration(fqrn: String, scratch: String, _ parameters: [String: String]) throws -> ClientConfiguration {
        let file = scratch + "/client-\(UUID().uuidString).conf"
        let lines = parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        return try ClientConfiguration.load(repository: fqrn, configDirectory: scratch, explicitFiles: [file],
                                            environment: ["PATH": "/usr/bin:/bin"])
    }

    /// Stops the server early (it answers nothing from then on).
    func stopServer() {
        if serverRunning { server.stop() }
        serverRunning = false
    }

    func close() {
        session.shutDown()
        stopServer()
        Self.removeTree(scratch)
    }

    /// `rm -rf` in this process: a cache and a repository hold 256 bucket
    /// folders each, which Foundation's `removeItem` takes half a second for,
    /// and spawning `rm` would open a fork window (see `SharedCacheLedgerTests`).
    static func removeTree(_ path: String) {
        func remove(_ dirFD: Int32, _ name: String) {
            if unlinkat(dirFD, name, 0) == 0 || errno != EISDIR { return }
            let fd = openat(dirFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd >= 0 {
                for child in (try? DirectoryListing.names(inDirectory: fd)) ?? [] {
                    remove(fd, String(decoding: child, as: UTF8.self))
                }
                Glibc.close(fd)
            }
            unlinkat(dirFD, name, AT_REMOVEDIR)
        }
        remove(AT_FDCWD, path)
        if FileManager.default.fileExists(atPath: path) { ProcessSupport.remove(path) }
    }

    /// The catalog entry of `path` (`/a/b`), read from the catalog that holds
    /// it: what the file system's answers must match.
    func catalogEntry(_ path: String) throws -> DirectoryEntry {
        let catalog = try fileSystem.tree.catalog(for: Array(path.utf8), includeExact: false)
        return try #require(try catalog.catalog.lookup(path: path), "no catalog entry for \(path)")
    }

    /// The chunk list of a chunked file, from its catalog.
    func catalogChunks(_ path: String) throws -> [FileChunk] {
        let catalog = try fileSystem.tree.catalog(for: Array(path.utf8), includeExact: false)
        return try catalog.catalog.chunks(of: try catalogEntry(path))
    }

    /// The served object file of `hash` in the published folder.
    func servedObject(_ hash: ContentHash, suffix: ObjectSuffix = .none) -> String {
        output + "/" + hash.objectPath(suffix: suffix)
    }
}

// MARK: - The sample tree

extension PublishedMount {
    /// The tree most client tests mount:
    ///
    ///     /top.txt            small file, mtime with nanoseconds
    ///     /empty              empty file, mode 0600
    ///     /script.sh          mode 0755
    ///     /link -> top.txt
    ///     /tagged.txt         xattrs user.color=blue, user.shape=round
    ///     /fifo               a named pipe
    ///     /device             character device 1:3 (only when running as root)
    ///     /big.bin            3 MiB of random bytes, chunked (256 KiB / 512 KiB / 1 MiB)
    ///     /dir/a.txt, b.txt   one file under two names (hardlinks)
    ///     /dir/sub/deep.txt
    ///     /nested/            a nested catalog (.cvmfscatalog marker)
    ///     /nested/inner.txt
    ///     /nested/innerdir/x.txt
    enum Sample {
        static let top = Array("hello from the top\n".utf8)
        static let script = Array("#!/bin/sh\necho hi\n".utf8)
        static let tagged = Array("tagged\n".utf8)
        static let hardlinked = Array("one file, two names\n".utf8)
        static let deep = Array("deep down\n".utf8)
        static let inner = Array("inside the nested catalog\n".utf8)
        static let innerX = Array("x marks the spot\n".utf8)
        static let big = SourceTreeWriter.randomBytes(3 << 20, seed: 42)
        static let chunking = ChunkingParameters(minimum: 256 << 10, average: 512 << 10, maximum: 1 << 20)
        /// mknod of a device needs root.
        static let hasDevice = getuid() == 0
        /// `makedev(1, 3)` (a macro Swift does not see): glibc puts small major and minor numbers in bits 8-19 and 0-7.
        static let deviceNumber: dev_t = 1 << 8 | 3
        /// Every path of the tree but the root, parents before children.
        static let paths = [
            "top.txt", "empty", "script.sh", "link", "tagged.txt", "fifo"] + (hasDevice ? ["device"] : []) + ["big.bin",
            "dir", "dir/a.txt", "dir/b.txt", "dir/sub", "dir/sub/deep.txt",
            "nested", "nested/.cvmfscatalog", "nested/inner.txt", "nested/innerdir", "nested/innerdir/x.txt",
        ]
        /// Regular files and their content.
        static let files: [String: [UInt8]] = [
            "top.txt": top, "empty": [], "script.sh": script, "tagged.txt": tagged, "big.bin": big,
            "dir/a.txt": hardlinked, "dir/b.txt": hardlinked, "dir/sub/deep.txt": deep,
            "nested/.cvmfscatalog": [], "nested/inner.txt": inner, "nested/innerdir/x.txt": innerX,
        ]

        static func write(_ root: String) throws {
            typealias W = SourceTreeWriter
            try W.write(top, to: root + "/top.txt")
            try W.write([], to: root + "/empty", mode: 0o600)
            try W.write(script, to: root + "/script.sh", mode: 0o755)
            try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: "top.txt")
            try W.write(tagged, to: root + "/tagged.txt")
            for (key, value) in [("user.color", "blue"), ("user.shape", "round")] {
                #expect(SourceTreeWriter.setXattr(root + "/tagged.txt", key, value), "setxattr \(key): errno \(errno)")
            }
            #expect(mkfifo(root + "/fifo", 0o640) == 0)
            chmod(root + "/fifo", 0o640)
            if hasDevice {
                #expect(mknod(root + "/device", S_IFCHR | 0o620, deviceNumber) == 0, "mknod: errno \(errno)")
                chmod(root + "/device", 0o620)  // past the umask
            }
            try W.write(big, to: root + "/big.bin")
            try W.directory(root + "/dir/sub")
            try W.write(hardlinked, to: root + "/dir/a.txt")
            #expect(link(root + "/dir/a.txt", root + "/dir/b.txt") == 0)
            try W.write(deep, to: root + "/dir/sub/deep.txt")
            try W.directory(root + "/nested/innerdir")
            try W.write([], to: root + "/nested/.cvmfscatalog")
            try W.write(inner, to: root + "/nested/inner.txt")
            try W.write(innerX, to: root + "/nested/innerdir/x.txt")
            // Fixed times, children before their directories (creating an entry touches its parent).
            for (index, path) in paths.reversed().enumerated() {
                W.setMtime(root + "/" + path, seconds: 1_600_000_000 + index * 1000, nanoseconds: 123_456_789 + index)
            }
            W.setMtime(root, seconds: 1_700_000_000, nanoseconds: 5)
        }
    }

    /// The sample tree, published with small chunks and mounted.
    static func sample(_ label: String, parameters: [String: String] = [:]) throws -> PublishedMount {
        try PublishedMount(label: label, parameters: parameters, configure: { $0.chunking = Sample.chunking }, tree: Sample.write)
    }
}

// MARK: - Writing source trees

enum SourceTreeWriter {
    static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        chmod(path, mode)
    }

    static func directory(_ path: String, mode: mode_t = 0o755) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, mode)
    }

    /// Sets a path's mtime (not following symlinks), nanoseconds included.
    static func setMtime(_ path: String, seconds: Int, nanoseconds: Int) {
        var times = [timespec(tv_sec: seconds, tv_nsec: nanoseconds), timespec(tv_sec: seconds, tv_nsec: nanoseconds)]
        _ = utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
    }

    /// `setxattr(2)`, which Glibc's module does not export.
    static func setXattr(_ path: String, _ name: String, _ value: String) -> Bool {
        typealias SetXattr = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setxattr") else { return false }
        let call = unsafeBitCast(symbol, to: SetXattr.self)
        let bytes = Array(value.utf8)
        return bytes.withUnsafeBytes { call(path, name, $0.baseAddress, $0.count, 0) } == 0
    }

    /// Bytes that do not compress and have no repeats, from a fixed seed.
    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var out = [UInt8](repeating: 0, count: count)
        for index in 0..<count {
            // xorshift64*
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            out[index] = UInt8(truncatingIfNeeded: (state &* 0x2545_F491_4F6C_DD1D) >> 56)
        }
        return out
    }
}

// MARK: - Calling the file system the way the FUSE adapter does

extension RepositoryFileSystem {
    static var root: UInt64 { rootInode }

    func lookup(_ parent: UInt64, _ name: String) throws -> InodeAttributes {
        let bytes = Array(name.utf8)
        return try bytes.withUnsafeBytes { (raw) in try lookup(parent: parent, name: raw) }
    }

    /// Looks up each component of `path` (`a/b/c`) from the root, as the
    /// kernel walks a path: one count on each inode on the way, kept (the
    /// kernel holds a directory while it holds an entry below it).
    func walk(_ path: String) throws -> [InodeAttributes] {
        var parent = Self.rootInode
        var chain: [InodeAttributes] = []
        for component in path.split(separator: "/") {
            let found = try lookup(parent, String(component))
            chain.append(found)
            parent = found.inode
        }
        return chain
    }

    /// The attributes of `path`'s last component (see `walk`).
    func lookup(path: String) throws -> InodeAttributes {
        try walk(path).last ?? getattr(Self.rootInode)
    }

    /// Gives back the counts of a `walk`, deepest first, as the kernel's FORGETs would.
    func forget(_ chain: [InodeAttributes]) {
        for attributes in chain.reversed() { forget(attributes.inode, count: 1) }
    }

    /// The names a listing hands out, in order (with `.` and `..`).
    func listNames(_ inode: UInt64, plus: Bool = false) throws -> [String] {
        let handle = try openDirectory(inode)
        defer { releaseDirectory(handle) }
        var names: [String] = []
        try readDirectory(handle, offset: 0, plus: plus) { name, _, _ in
            names.append(String(decoding: name, as: UTF8.self))
            return true
        }
        return names
    }

    /// Up to `count` bytes at `offset` of an open file.
    func read(_ handle: UInt64, offset: UInt64, count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let got = try buffer.withUnsafeMutableBytes { (raw) in try read(handle, offset: offset, into: raw) }
        return Array(buffer[0..<got])
    }

    /// The whole content of an open file, read in `piece`-byte requests.
    func readToEnd(_ handle: UInt64, piece: Int = 128 << 10) throws -> [UInt8] {
        var out: [UInt8] = []
        while true {
            let bytes = try read(handle, offset: UInt64(out.count), count: piece)
            if bytes.isEmpty { return out }
            out += bytes
        }
    }

    /// Opens, reads all of it and releases.
    func contents(of inode: UInt64) throws -> [UInt8] {
        let opened = try open(inode)
        defer { release(opened.handle) }
        return try readToEnd(opened.handle)
    }

    func xattr(_ inode: UInt64, _ name: String) throws -> String {
        let bytes = Array(name.utf8)
        let value = try bytes.withUnsafeBytes { (raw) in try getxattr(inode, name: raw) }
        return String(decoding: value, as: UTF8.self)
    }

    /// The lookup count the file system holds for `inode` (0: not held).
    func lookupCount(_ inode: UInt64) -> UInt64 {
        inodes.withLock { $0.lookups(of: inode) }
    }
}

/// The `FileSystemError` `body` threw, or nil (any other error is an issue).
func fileSystemError<T>(_ body: () throws -> T, sourceLocation: SourceLocation = #_sourceLocation) -> FileSystemError? {
    do {
        _ = try body()
        return nil
    } catch let error as FileSystemError {
        return error
    } catch {
        Issue.record("expected a FileSystemError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

import Glibc
import CVMFSFormat

/// Small file helpers for the staging and work trees (paths we own, not image content).
enum FS {
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// The size of a file, from `stat`, without reading it.
    static func size(_ path: String) throws(ImageError) -> Int64 {
        var st = stat()
        guard stat(path, &st) == 0 else { throw .io(path: path, reason: "stat: \(errnoText())") }
        return Int64(st.st_size)
    }

    static func makeDirectories(_ path: String) throws(ImageError) {
        if let problem = DirectoryPath.create(path) { throw .io(path: path, reason: problem) }
    }

    static func read(_ path: String) throws(ImageError) -> [UInt8] {
        let stream = try FileStream(path: path)
        var bytes = [UInt8]()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let n = try stream.read(into: chunk)
            if n == 0 { break }
            bytes += UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(chunk)[0..<n])
        }
        return bytes
    }

    /// Writes a file through a temporary name and a rename.
    static func write(_ path: String, _ bytes: [UInt8]) throws(ImageError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: temporary, reason: "create: \(errnoText())") }
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else { throw .io(path: temporary, reason: "write: \(errnoText())") }
        try rename(temporary, path)
    }

    static func rename(_ from: String, _ to: String) throws(ImageError) {
        guard Glibc.rename(from, to) == 0 else { throw .io(path: to, reason: "rename from \(from): \(errnoText())") }
    }

    static func symlink(target: String, at path: String) throws(ImageError) {
        guard Glibc.symlink(target, path) == 0 else { throw .io(path: path, reason: "symlink: \(errnoText())") }
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlink(path, &buffer, 4096)
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func touch(_ path: String) throws(ImageError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: path, reason: "create: \(errnoText())") }
        close(fd)
    }

    static func list(_ path: String) -> [String] {
        ((try? DirectoryListing.strings(at: path)) ?? []).sorted()
    }

    /// Removes a file or tree without following symbolic links.
    static func remove(_ path: String) throws(ImageError) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for name in list(path) { try remove(path + "/" + name) }
            guard rmdir(path) == 0 else { throw .io(path: path, reason: "rmdir: \(errnoText())") }
        } else {
            guard unlink(path) == 0 else { throw .io(path: path, reason: "unlink: \(errnoText())") }
        }
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Copies a file while hashing it, and checks the digest.
    static func copyVerified(from source: String, to destination: String, digest: Digest, what: String,
                             received: (UnsafeRawBufferPointer) throws(ImageError) -> Void = { _ throws(ImageError) in }) throws(ImageError) {
        let input = HashingStream(source: try FileStream(path: source))
        let temporary = destination + ".part"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: temporary, reason: "create: \(errnoText())") }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        do throws(ImageError) {
            while true {
                let n = try input.read(into: buffer)
                if n == 0 { break }
                guard Glibc.write(fd, buffer.baseAddress, n) == n else { throw ImageError.io(path: temporary, reason: "write: \(errnoText())") }
                try received(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<n]))
            }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        let actual = try input.finish()
        guard actual == digest else {
            unlink(temporary)
            throw .digestMismatch(what: what, expected: digest.description, actual: actual.description)
        }
        try rename(temporary, destination)
    }
}

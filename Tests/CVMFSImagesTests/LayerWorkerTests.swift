import CVMFSFormat
@testable import CVMFSImages
import CVMFSTestSupport
import Foundation
import Synchronization
import Testing

/// `LayerWorker` on the layers of a real OCI layout (integration/make-test-image.py): a
/// layer's blob spooled and its `.layers` copy made in one pass, a corrupt blob refused with
/// the layer named, a copy left half-made by an interrupted run made again.
@Suite("Layer conversion", .serialized)
struct LayerWorkerTests {
    struct Workspace {
        let scratch: String
        let source: OCILayoutSource
        let image: ResolvedImage
        var blobs: String { scratch + "/blobs" }
        var copies: String { scratch + "/layers" }
        var layout: String { scratch + "/layout" }

        init() throws {
            scratch = try ProcessSupport.makeTemporaryDirectory("layer-worker")
            let script = Fixtures.packageRoot + "/integration/make-test-image.py"
            let made = try ProcessSupport.run("python3", [script, scratch + "/layout", "multilayer", "1"])
            #expect(made.status == 0, "make-test-image.py: \(made.stderr)")
            source = try OCILayoutSource(root: scratch + "/layout")
            let reference = try ImageReference.parse("oci:\(scratch)/layout:1 as localhost/test/multilayer:1")
            image = try source.resolve(reference, platform: Platform.parse("linux/amd64")!)
            try FS.makeDirectories(scratch + "/blobs")
            try FS.makeDirectories(scratch + "/layers")
        }

        var worker: LayerWorker {
            LayerWorker(source: source, blobs: blobs, copies: copies, created: "2023-11-14T22:13:20Z", progress: Progress(enabled: false))
        }

        func task(_ index: Int, needsCopy: Bool = true) -> LayerTask {
            let layer = image.layers[index]
            return LayerTask(digest: layer.digest, size: layer.size, image: image.reference,
                             label: "layer \(index + 1)", what: "layer \(index + 1)/\(image.layers.count) \(layer.digest) of \(image.reference.publicPath)",
                             needsBlob: true, needsCopy: needsCopy)
        }
    }

    @Test("a layer is spooled under its digest and unpacked into its copy (overlay whiteout included) in one pass; nothing is left half-made")
    func spoolAndCopy() throws {
        let work = try Workspace()
        defer { ProcessSupport.remove(work.scratch) }
        let layer = work.image.layers[1]
        try work.worker.run(work.task(1))
        let blob = try FS.read(work.blobs + "/" + layer.digest.hex)
        #expect(SHA256Hasher.digest(blob) == layer.digest)
        let copy = work.copies + "/" + layer.digest.hex
        // Layer 2 deletes data/gone.txt: in its copy a character device 0/0.
        var st = stat()
        #expect(lstat(copy + "/layerfs/data/gone.txt", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == 0)
        #expect(try String(decoding: FS.read(copy + "/layerfs/opt/dir/new.txt"), as: UTF8.self) == "new\n")
        let info = try JSON.decode([LayerInfo].self, try FS.read(copy + "/.metadata/layers.json"), what: "layers.json")
        #expect(info.first?.compressedDiffDigest == layer.digest.description)
        #expect(FS.list(work.copies) == [layer.digest.hex])
        #expect(FS.list(work.blobs) == [layer.digest.hex])
    }

    @Test("a blob that does not match its digest: the error names the layer and its image; no blob and no copy under their names")
    func corruptBlob() throws {
        let work = try Workspace()
        defer { ProcessSupport.remove(work.scratch) }
        let layer = work.image.layers[0]
        let stored = work.layout + "/blobs/sha256/" + layer.digest.hex
        try FS.write(stored, try FS.read(stored) + Array("corrupt".utf8))
        #expect {
            try work.worker.run(work.task(0))
        } throws: { error in
            "\(error)".hasPrefix("digest mismatch for layer 1/4 \(layer.digest) of localhost/test/multilayer:1")
        }
        #expect(FS.list(work.blobs).isEmpty)
        #expect(FS.list(work.copies).isEmpty)
    }

    @Test("a copy left half-made by an interrupted run is made again from the spooled blob, without a download")
    func halfMadeCopy() throws {
        let work = try Workspace()
        defer { ProcessSupport.remove(work.scratch) }
        let layer = work.image.layers[0]
        try work.worker.run(work.task(0, needsCopy: false))
        let partial = work.copies + "/" + layer.digest.hex + ".partial"
        try FS.makeDirectories(partial + "/layerfs/left-over")
        // The layout's blob is gone: only the spooled one can be used.
        unlink(work.layout + "/blobs/sha256/" + layer.digest.hex)
        try work.worker.run(work.task(0))
        let copy = work.copies + "/" + layer.digest.hex
        #expect(!FS.exists(partial))
        #expect(!FS.exists(copy + "/layerfs/left-over"))
        #expect(try String(decoding: FS.read(copy + "/layerfs/etc/hello"), as: UTF8.self) == "hello\n")
    }
}

/// `LayerScheduler`: bounded concurrency, and what the caller waiting for layers in order sees.
@Suite("Layer scheduling")
struct LayerSchedulerTests {
    static func tasks(_ count: Int) -> [LayerTask] {
        let reference = try! ImageReference.parse("localhost/test/x:1")
        return (0..<count).map { i in
            let digest = SHA256Hasher.digest(Array("layer \(i)".utf8))
            return LayerTask(digest: digest, size: nil, image: reference, label: "layer \(i)", what: "layer \(i + 1)",
                             needsBlob: true, needsCopy: true)
        }
    }

    @Test("no more than --jobs layers run at once, and every layer runs once")
    func bounded() throws {
        let tasks = Self.tasks(8)
        let running = Atomic<Int>(0)
        let most = Atomic<Int>(0)
        let ran = Mutex<[Digest]>([])
        let scheduler = LayerScheduler(tasks: tasks, threads: 3) { task in
            let now = running.wrappingAdd(1, ordering: .relaxed).newValue
            _ = most.max(now, ordering: .relaxed)
            usleep(20_000)
            ran.withLock { $0.append(task.digest) }
            running.wrappingSubtract(1, ordering: .relaxed)
        }
        scheduler.start()
        for task in tasks { try scheduler.wait(for: task.digest) }
        try scheduler.finish()
        #expect(most.load(ordering: .relaxed) == 3)
        #expect(Set(ran.withLock { $0 }) == Set(tasks.map(\.digest)))
        #expect(ran.withLock { $0.count } == 8)
    }

    @Test("a failing layer: waiting for it or a later one throws its error, and the layers not begun are not run")
    func failure() throws {
        let tasks = Self.tasks(6)
        let ran = Atomic<Int>(0)
        let scheduler = LayerScheduler(tasks: tasks, threads: 1) { (task) throws(ImageError) in
            ran.wrappingAdd(1, ordering: .relaxed)
            if task.what == "layer 2" { throw .layer("layer 2 is broken") }
        }
        scheduler.start()
        try scheduler.wait(for: tasks[0].digest)
        #expect(throws: ImageError.layer("layer 2 is broken")) { try scheduler.wait(for: tasks[1].digest) }
        #expect(throws: ImageError.layer("layer 2 is broken")) { try scheduler.wait(for: tasks[4].digest) }
        #expect(throws: ImageError.layer("layer 2 is broken")) { try scheduler.finish() }
        #expect(ran.load(ordering: .relaxed) == 2)
    }
}

/// Streams a layer is read through: the socket pair between download and unpacking, and
/// the compression told from the first bytes.
@Suite("Layer streams")
struct LayerStreamTests {
    static func readAll(_ stream: ByteStream) throws -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1000)
        while true {
            let n = try buffer.withUnsafeMutableBytes { (b: UnsafeMutableRawBufferPointer) throws(ImageError) -> Int in try stream.read(into: b) }
            if n == 0 { return out }
            out += buffer[0..<n]
        }
    }

    @Test("bytes written into the pipe on one thread come out whole on the other, more than its buffer holds")
    func pipe() throws {
        let data = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let pipe = try StreamPipe()
        let written = DispatchSemaphore(value: 0)
        Thread {
            data.withUnsafeBytes { try? pipe.write($0) }
            pipe.closeWriting()
            written.signal()
        }.start()
        #expect(try Self.readAll(pipe.stream) == data)
        written.wait()
    }

    @Test("a write after the reader gave up fails (no SIGPIPE) with the error the worker recognises")
    func readerGone() throws {
        let pipe = try StreamPipe()
        pipe.closeReading()
        #expect { try [UInt8](repeating: 1, count: 10).withUnsafeBytes { try pipe.write($0) } } throws: { error in
            StreamPipe.isReaderGone(error as! ImageError)
        }
    }

    @Test("gzip is inflated, a plain tar passes through, zstd is refused naming the layer")
    func compression() throws {
        var tar = TarBuilder()
        tar.file("hello", "hello\n")
        let plain = tar.bytes + [UInt8](repeating: 0, count: 1024)
        let scratch = try ProcessSupport.makeTemporaryDirectory("layer-streams")
        defer { ProcessSupport.remove(scratch) }
        try FS.write(scratch + "/plain", plain)
        let gzip = try ProcessSupport.run("gzip", ["-k", scratch + "/plain"])
        #expect(gzip.status == 0)
        for file in ["plain", "plain.gz"] {
            let stream = try LayerDecompression.tarStream(try FileStream(path: scratch + "/" + file), layer: "layer x")
            #expect(try Self.readAll(stream) == plain, "\(file)")
        }
        try FS.write(scratch + "/zstd", [0x28, 0xB5, 0x2F, 0xFD, 0, 0])
        #expect(throws: ImageError.layer("layer x: zstd-compressed layers are not supported")) {
            _ = try LayerDecompression.tarStream(try FileStream(path: scratch + "/zstd"), layer: "layer x")
        }
    }

    @Test("a progress line: MB done of the total, the share and the rate")
    func progressLine() {
        #expect(Progress.describe(label: "img layer 2/4 0123456789ab", done: 3_000_000, total: 12_000_000, seconds: 2)
                == "img layer 2/4 0123456789ab: 3.0 MB of 12.0 MB (25%), 1.5 MB/s")
        #expect(Progress.describe(label: "x", done: 0, total: nil, seconds: 0) == "x: 0.0 MB")
    }
}

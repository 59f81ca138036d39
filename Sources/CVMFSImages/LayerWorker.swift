import Foundation
import Synchronization

/// Carries out one `LayerTask`: downloads the blob into the blob folder (verified against
/// its digest before it gets its final name) and, at the same time, unpacks it into its layer
/// copy. The bytes go from the network to the spooled blob and, through a `StreamPipe`, to a
/// second thread that inflates and applies them, so a layer is never held in memory and is
/// read only once.
///
/// A layer copy is made under `<copies>/<hex>.partial` and renamed to `<copies>/<hex>` only
/// when the blob's digest matched and the tar was applied to its end: a copy under its final
/// name is complete, one under `.partial` (a run that was killed) is removed and made again.
/// The spooled blob is what the flat root is built from, in layer order, while later layers
/// are still downloading; it is also what an interrupted run resumes from without
/// downloading the layer again.
final class LayerWorker: Sendable {
    let source: ImageSource
    let blobs: String
    let copies: String
    /// The image config's `created`, for the layer copies' `layers.json`.
    let created: String
    let progress: Progress

    init(source: ImageSource, blobs: String, copies: String, created: String, progress: Progress) {
        self.source = source
        self.blobs = blobs
        self.copies = copies
        self.created = created
        self.progress = progress
    }

    func blobPath(_ digest: Digest) -> String { blobs + "/" + digest.hex }
    func copyPath(_ digest: Digest) -> String { copies + "/" + digest.hex }

    func run(_ task: LayerTask) throws(ImageError) {
        let blob = blobPath(task.digest)
        guard task.needsCopy else {
            if !FS.exists(blob) { try download(task) { _ throws(ImageError) in } }
            return
        }
        let partial = copyPath(task.digest) + ".partial"
        try FS.remove(partial)
        try FS.makeDirectories(partial + "/layerfs")
        let unpacked: (diffID: Digest, size: Int64)
        do {
            if FS.exists(blob) {
                progress.line("\(task.label): unpacking the downloaded blob")
                unpacked = try unpack(try FileStream(path: blob), task: task, into: partial)
            } else {
                unpacked = try downloadAndUnpack(task, into: partial)
            }
        } catch {
            try? FS.remove(partial)
            throw error
        }
        try FS.touch(partial + "/layerfs/.cvmfscatalog")
        try FS.makeDirectories(partial + "/.metadata")
        let info = LayerInfo(id: unpacked.diffID.hex, created: created, compressedDiffDigest: task.digest.description,
                             diffDigest: unpacked.diffID.description, diffSize: unpacked.size)
        try FS.write(partial + "/.metadata/layers.json", JSON.encode([info]))
        try FS.rename(partial, copyPath(task.digest))
    }

    /// The download on a thread of its own, feeding the pipe; the unpacking here. When both
    /// fail, the download's error is the one reported: a digest mismatch explains a tar that
    /// made no sense.
    private func downloadAndUnpack(_ task: LayerTask, into folder: String) throws(ImageError) -> (diffID: Digest, size: Int64) {
        let pipe = try StreamPipe()
        let downloadError = DownloadOutcome()
        let downloaded = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            do throws(ImageError) {
                try download(task) { (chunk) throws(ImageError) in try pipe.write(chunk) }
            } catch {
                downloadError.error.withLock { $0 = error }
            }
            pipe.closeWriting()
            downloaded.signal()
        }
        thread.start()
        var result: Result<(diffID: Digest, size: Int64), ImageError>
        do throws(ImageError) {
            result = .success(try unpack(pipe.stream, task: task, into: folder))
        } catch {
            result = .failure(error)
        }
        // A download still writing (the unpacking failed) now fails and ends.
        pipe.closeReading()
        downloaded.wait()
        // The download's own failure explains an unpacking that failed; its write into a pipe
        // the unpacking closed does not.
        if let error = downloadError.error.withLock({ $0 }), !StreamPipe.isReaderGone(error) { throw error }
        return try result.get()
    }

    private final class DownloadOutcome: Sendable {
        let error = Mutex<ImageError?>(nil)
    }

    /// Applies a blob's tar into `<folder>/layerfs` (whiteouts as overlayfs reads them) and
    /// returns its diff id and uncompressed size.
    private func unpack(_ blob: ByteStream, task: LayerTask, into folder: String) throws(ImageError) -> (diffID: Digest, size: Int64) {
        let tar = HashingStream(source: try LayerDecompression.tarStream(blob, layer: task.what))
        let applier = try LayerApplier(root: folder + "/layerfs", whiteouts: .overlay)
        _ = try applier.apply(TarReader(source: tar, name: "layer \(task.digest)"), name: "layer \(task.digest)")
        let diffID = try tar.finish()
        return (diffID, tar.count)
    }

    /// Fetches the blob into the blob folder, with a progress line of its own; a digest
    /// mismatch names the layer and its image.
    private func download(_ task: LayerTask, forward: (UnsafeRawBufferPointer) throws(ImageError) -> Void) throws(ImageError) {
        let key = task.digest.hex
        progress.begin(key, label: task.label, total: task.size)
        let started = Progress.seconds()
        var count: Int64 = 0
        do throws(ImageError) {
            try source.fetch(task.digest, size: task.size, image: task.image, to: blobPath(task.digest)) { (chunk) throws(ImageError) in
                count += Int64(chunk.count)
                progress.advance(key, done: count)
                try forward(chunk)
            }
        } catch {
            progress.end(key, nil)
            if case .digestMismatch(_, let expected, let actual) = error {
                throw .digestMismatch(what: "\(task.what) (the blob \(task.image.registry) sent)", expected: expected, actual: actual)
            }
            throw error
        }
        let seconds = Progress.seconds() - started
        progress.end(key, "\(task.label): \(Progress.megabytes(count)) downloaded and verified, \(Progress.rate(count, seconds: seconds))")
    }
}

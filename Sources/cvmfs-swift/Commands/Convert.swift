import ArgumentParser
import CVMFSFormat
import CVMFSImages
import CVMFSPublish

extension CVMFSSwift {
    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "convert",
            abstract: "Convert container images into an unpacked (DUCC-layout) repository.",
            discussion: """
                Reads a cvmfs_ducc recipe (version, cvmfs_repo, input: a list of images \
                [scheme://]registry/repository[:tag][@digest], '*' in tags globbed against the \
                registry's tag list; also oci:<layout dir>[:tag] and docker-archive:<file>, \
                optionally followed by ' as registry/repository:tag'). Each image's flattened \
                root file system goes to .flat/<xx>/<image id> (a nested catalog), with the \
                symlink <registry>/<repository>:<tag> pointing to it, the layers (whiteouts as overlayfs reads them) to \
                .layers, the manifests to .metadata, and a podman additional image store to \
                podmanStore (podman --storage-opt additionalimagestore=/cvmfs/<repo>/podmanStore \
                run <registry>/<repository>:<tag>). The content is staged as plain files \
                (--staging, default <output>/../<fqrn>.staging) and published into OUTPUT only \
                when every image converted; images already converted are skipped, and nothing \
                is published when nothing changed. Registry credentials: DUCC_AUTH_REGISTRIES, \
                DUCC_<R>_IDENT, DUCC_<R>_USER, DUCC_<R>_PASS.

                Layers are downloaded and unpacked --jobs at a time, each streamed into its \
                .layers copy while its blob is spooled and checked against its digest; the flat \
                root is built in layer order from the checked blobs. An interrupted run (even \
                kill -9) resumes: layers it had finished are not downloaded again. On a terminal \
                each layer in flight has a progress line (digest, MB done of the total, MB/s).

                An image that leaves the recipe (its tag removed, or moved to another digest) \
                is not deleted: its removal is scheduled in .metadata/remove-schedule.json. \
                With --gc, the removals scheduled at least --grace ago are carried out: the \
                public symlink and .metadata manifest if they still belong to that image, its \
                .flat root and podman store entry if no other name uses it, and the layers no \
                remaining image uses; then the repository is published, and 'cvmfs-swift gc' \
                frees the objects. An image put back in the recipe before then stays. \
                --gc --dry-run lists what would go and changes nothing.
                """)

        @Argument(help: "The recipe (recipe.yaml).")
        var recipe: String

        @Option(help: "The repository folder to write (created if missing).")
        var output: String

        @Option(help: "Staging tree with the repository's content (default: <output>/../<fqrn>.staging).")
        var staging: String?

        @Option(help: "Platform to choose from multi-platform images, os/arch[/variant].")
        var platform: String = "linux/amd64"

        @Flag(help: "Contact registries given without a scheme over plain HTTP (loopback test registries).")
        var insecure = false

        @Flag(help: "Do not write the layer copies under .layers (nor the podman store, which points into them).")
        var skipLayers = false

        @Flag(help: "Do not write the podman image store under podmanStore, and remove one written before (also: 'podman_store: false' in the recipe).")
        var skipPodman = false

        @Flag(name: .customLong("gc"), help: "Also remove the images whose scheduled removal is older than --grace.")
        var collectImages = false

        @Option(help: ArgumentHelp("How long a scheduled image removal waits before --gc carries it out.", valueName: "DURATION: N[s|m|h|d]"))
        var grace = DurationArgument(seconds: 86_400)

        @Flag(help: "With --gc: only list what it would remove now; convert and publish nothing.")
        var dryRun = false

        @Flag(help: "Publish a new revision even if no image changed.")
        var forcePublish = false

        @Flag(help: "No progress lines on stderr (off a terminal, only finished steps are printed anyway).")
        var quiet = false

        @Option(help: "Layers downloaded and unpacked at the same time (default: the number of cores, 2 to 4).")
        var jobs: Int = ConvertOptions.defaultJobs

        @OptionGroup var writing: WritingOptions

        func validate() throws {
            if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
            if dryRun && !collectImages { throw ValidationError("--dry-run lists what --gc would remove: give --gc as well") }
        }

        func run() throws {
            do {
                let recipe = try Recipe.load(path: recipe)
                var options = ConvertOptions(output: output, publish: writing.publishOptions(fqrn: recipe.repository))
                options.staging = staging
                options.platform = platform
                options.insecure = insecure
                options.skipLayers = skipLayers
                options.forcePublish = forcePublish
                options.podmanStore = !skipPodman
                options.showProgress = !quiet
                options.jobs = jobs
                options.collectImages = collectImages
                options.gracePeriod = grace.seconds
                let converter = try Converter(recipe: recipe, options: options)
                if dryRun {
                    let paths = try converter.collectionPreview()
                    print("gc (dry run): \(paths.isEmpty ? "nothing is due for removal" : "would remove \(paths.count) path(s)")")
                    for path in paths { print("  \(path)") }
                    return
                }
                let report = try converter.run()
                print("converted \(report.converted.count) image(s), \(report.upToDate.count) up to date")
                for path in report.converted { print("  new: \(path)") }
                for change in report.profileChanges { print("  \(change)") }
                for line in report.scheduled { print("  removal scheduled: \(line)") }
                for line in report.cancelled { print("  removal cancelled: \(line)") }
                if report.podmanStoreRemoved { print("  removed podmanStore (turned off)") }
                if collectImages {
                    print("gc: \(report.removed.isEmpty ? "nothing is due for removal" : "removed \(report.removed.count) path(s)")")
                    for path in report.removed { print("  removed: \(path)") }
                }
                if let published = report.published {
                    print("published \(recipe.repository) revision \(published.revision): root catalog \(published.rootCatalog)")
                    print("  objects: \(published.objectsWritten) written, \(published.objectsReused) already present; catalogs: \(published.catalogsWritten) written, \(published.catalogsReused) unchanged")
                } else {
                    print("nothing published: the repository is up to date")
                }
            } catch {
                throw CommandFailure("convert failed: \(error)")
            }
        }
    }
}

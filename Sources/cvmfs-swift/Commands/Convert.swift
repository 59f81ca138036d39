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
                symlink <registry>/<repository>:<tag> pointing to it, the verbatim layers to \
                .layers, the manifests to .metadata, and a podman additional image store to \
                podmanStore (podman --storage-opt additionalimagestore=/cvmfs/<repo>/podmanStore \
                run <registry>/<repository>:<tag>). The content is staged as plain files \
                (--staging, default <output>/../<fqrn>.staging) and published into OUTPUT only \
                when every image converted; images already converted are skipped, and nothing \
                is published when nothing changed. Registry credentials: DUCC_AUTH_REGISTRIES, \
                DUCC_<R>_IDENT, DUCC_<R>_USER, DUCC_<R>_PASS.
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

        @Flag(help: "Do not write the verbatim layer copies under .layers.")
        var skipLayers = false

        @Flag(help: "Do not write the podman image store under podmanStore (also: 'podman_store: false' in the recipe).")
        var skipPodman = false

        @Flag(help: "Publish a new revision even if no image changed.")
        var forcePublish = false

        @Flag(help: "No progress lines on stderr.")
        var quiet = false

        @OptionGroup var writing: WritingOptions

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
                let report = try Converter(recipe: recipe, options: options).run()
                print("converted \(report.converted.count) image(s), \(report.upToDate.count) up to date")
                for path in report.converted { print("  new: \(path)") }
                for change in report.profileChanges { print("  \(change)") }
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

import CVMFSPublish
import Glibc

/// How `Converter` works: where the repository and its staging tree are, and how images are chosen.
public struct ConvertOptions: Sendable {
    /// The repository folder the Publisher writes.
    public var output: String
    /// Content of the repository as plain files; default `<output>/../<fqrn>.staging`.
    public var staging: String?
    /// Platform chosen from manifest lists and indexes.
    public var platform: String = "linux/amd64"
    /// Registries given without a scheme are contacted over plain HTTP.
    public var insecure = false
    /// Leave out the `.layers/<xx>/<digest>/layerfs` copies.
    public var skipLayers = false
    /// Write the podman additional image store under `podmanStore/` (needs the layer copies;
    /// a recipe's `podman_store: false` turns it off too).
    public var podmanStore = true
    /// After converting, remove the images whose scheduled removal is at least `gracePeriod`
    /// old (docs/format/container-images.md §7).
    public var collectImages = false
    /// Seconds between scheduling an image's removal and carrying it out; one day by default.
    public var gracePeriod: Int64 = 86_400
    /// Publish even if no image changed.
    public var forcePublish = false
    public var showProgress = true
    /// Layers downloaded and unpacked at the same time (the flat root is still built in layer
    /// order). Downloads mostly wait on the network and unpacking takes about one core, so the
    /// default is the number of cores, at least 2 and at most 4.
    public var jobs = ConvertOptions.defaultJobs

    public static var defaultJobs: Int { min(4, max(2, sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
    /// Publisher settings (`fqrn` is replaced by the recipe's `cvmfs_repo`).
    public var publish: PublishOptions

    public init(output: String, publish: PublishOptions) {
        self.output = output
        self.publish = publish
    }
}

/// What a conversion run did.
public struct ConvertReport: Sendable {
    /// Public paths converted in this run.
    public var converted: [String] = []
    /// Public paths whose manifest was already converted.
    public var upToDate: [String] = []
    /// Start-up profiles added, replaced or removed, one line each ("IMAGE: start-up profile added (N items)").
    public var profileChanges: [String] = []
    /// Removals scheduled in this run ("NAME (image ID): REASON"), and those cancelled because
    /// the recipe wants the image under that name again.
    public var scheduled: [String] = []
    public var cancelled: [String] = []
    /// Paths removed by the image collection, relative to the repository root (for the store's
    /// JSON files, the names dropped from them).
    public var removed: [String] = []
    /// The podman store was removed because it is turned off.
    public var podmanStoreRemoved = false
    /// The new revision, or nil when nothing was published.
    public var published: PublishReport?
}

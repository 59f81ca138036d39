/// Locations of the test fixtures committed under `Tests/Fixtures`.
enum Fixtures {
    /// The package root, found from this file's path.
    static let packageRoot: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/CVMFSPublishTests/Fixtures.swift
        return parts.joined(separator: "/")
    }()

    /// The repository written by the upstream server tools (see Tests/Fixtures/README.md).
    static let small = packageRoot + "/Tests/Fixtures/small.cvmfs.local"
    static let smallRepository = small + "/repo"
    static let smallPublicKey = small + "/small.cvmfs.local.pub"
    static let smallExpectedListing = small + "/expected.tsv"
    static let smallMakeContent = small + "/make-content.sh"
    static let treeListingScript = packageRoot + "/tools/tree-listing.py"
}

/// Locations of the test fixtures committed under `Tests/Fixtures`.
public enum Fixtures {
    /// The package root, found from this file's path.
    public static let packageRoot: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/Support/Fixtures.swift
        return parts.joined(separator: "/")
    }()

    /// The repository written by the upstream server tools (see Tests/Fixtures/README.md).
    public static let small = packageRoot + "/Tests/Fixtures/small.cvmfs.local"
    public static let smallRepository = small + "/repo"
    public static let smallPublicKey = small + "/small.cvmfs.local.pub"
    public static let smallExpectedListing = small + "/expected.tsv"
    public static let smallMakeContent = small + "/make-content.sh"
    public static let treeListingScript = packageRoot + "/tools/tree-listing.py"
}

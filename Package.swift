// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "cvmfs-swift",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cvmfs-swift", targets: ["cvmfs-swift"]),
        .executable(name: "cvmfs-fuzz", targets: ["cvmfs-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System-library shims: headers and link flags only.
        .systemLibrary(name: "CFuse3", pkgConfig: "fuse3"),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib"),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3"),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto"),
        .systemLibrary(name: "CLinux"),
        // Proxy auto-configuration scripts (`CVMFS_HTTP_PROXY=auto`), evaluated by Debian's libpacparser.
        .systemLibrary(name: "CPacParser"),

        // Repository format: hashes, signatures, catalogs, objects. No network, no FUSE.
        .target(
            name: "CVMFSFormat",
            dependencies: ["CZlib", "CSQLite", "CCrypto", "CLinux"]
        ),
        // Writes repositories from a directory tree.
        .target(name: "CVMFSPublish", dependencies: ["CVMFSFormat", "CLinux"]),
        // One libcurl easy-handle wrapper and the process-wide curl_global_init, for both
        // network users: the client's downloader and the image converter's registry client.
        .target(name: "CVMFSCurl", dependencies: ["CCurl"]),
        // Client core: configuration, downloads, cache, catalog manager, file system operations.
        .target(name: "CVMFSClient", dependencies: ["CVMFSFormat", "CVMFSCurl", "CCurl", "CSQLite", "CPacParser", "CLinux"]),
        // Translates libfuse low-level requests into client-core calls.
        // Stratum 1 replicas: snapshot over HTTP (docs/replication.md).
        .target(name: "CVMFSReplica", dependencies: ["CVMFSClient", "CVMFSPublish", "CVMFSFormat"]),
        .target(name: "CVMFSFuse", dependencies: ["CVMFSClient", "CFuse3"]),
        // Converts container images (registries, OCI layouts, docker archives) into the DUCC layout.
        .target(name: "CVMFSImages", dependencies: ["CVMFSPublish", "CVMFSFormat", "CVMFSCurl", "CCurl", "CZlib", "CCrypto", "CLinux"]),
        .executableTarget(
            name: "cvmfs-swift",
            dependencies: [
                "CVMFSFormat", "CVMFSPublish", "CVMFSClient", "CVMFSFuse", "CVMFSImages", "CVMFSReplica", "CLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Release-build benchmarks (integration/bench/README.md).
        .executableTarget(name: "cvmfs-swift-bench", dependencies: ["CVMFSFormat", "CVMFSPublish"]),
        // The parser fuzz harnesses (integration/fuzz/README.md): an ordinary build replays input
        // files through them; built with `-DFUZZING -sanitize=fuzzer,address` it is a libFuzzer binary.
        .executableTarget(
            name: "cvmfs-fuzz",
            dependencies: ["CVMFSFormat", "CVMFSClient", "CVMFSImages", "CSQLite"],
            path: "Fuzz"
        ),
        // Fixture paths and process helpers shared by the test targets.
        .target(name: "CVMFSTestSupport", path: "Tests/Support"),
        .testTarget(name: "CVMFSFormatTests", dependencies: ["CVMFSFormat", "CVMFSPublish", "CVMFSTestSupport"]),
        .testTarget(name: "CVMFSPublishTests", dependencies: ["CVMFSPublish", "CVMFSFormat", "CVMFSTestSupport"]),
        .testTarget(name: "CVMFSClientTests", dependencies: ["CVMFSClient", "CVMFSReplica", "CVMFSFormat", "CVMFSPublish", "CVMFSTestSupport"]),
        .testTarget(name: "CVMFSImagesTests", dependencies: ["CVMFSImages", "CVMFSPublish", "CVMFSFormat", "CVMFSTestSupport"]),
        .testTarget(name: "CVMFSFuseTests", dependencies: ["CVMFSFuse", "CVMFSClient", "CVMFSPublish", "CVMFSTestSupport", "CLinux"]),
    ],
    swiftLanguageModes: [.v6]
)

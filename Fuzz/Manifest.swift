import CVMFSFormat

/// `.cvmfspublished` payloads: `Manifest(parsing:)` on the whole input (the parser accepts a
/// whole letter or its payload). A parsed manifest, exported and parsed again, is the same value.
let manifestHarness = Harness(
    name: "manifest",
    summary: "Manifest(parsing:) and exportPayload round trip"
) { bytes in
    guard let manifest = try? Manifest(parsing: bytes) else { return }
    let again: Manifest
    do { again = try Manifest(parsing: manifest.exportPayload()) } catch {
        FuzzCheck.require(false, "an exported manifest does not parse: \(error)")
        return
    }
    FuzzCheck.require(again == manifest, "manifest changed in an export/parse round trip")
}

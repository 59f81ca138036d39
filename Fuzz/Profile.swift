import CVMFSFormat

/// Start-up profiles (`.cvmfsprofile`, served from the repository): `StartupProfile(bytes:)`.
/// A parsed profile serialises to bytes that parse to the same profile.
let profileHarness = Harness(
    name: "profile",
    summary: "StartupProfile(bytes:) and serialized round trip"
) { bytes in
    guard let profile = try? StartupProfile(bytes: bytes) else { return }
    let again: StartupProfile
    do { again = try StartupProfile(bytes: profile.serialized) } catch {
        FuzzCheck.require(false, "a serialised profile does not parse: \(error)")
        return
    }
    FuzzCheck.require(again == profile, "profile changed in a serialise/parse round trip")
}

import CVMFSFormat

/// The start-up profiles a recipe asks for (its `profiles:` key), one per flat root, and what
/// must change in the staging tree to match them (docs/profiles.md).
///
/// A profile lives as `<flat root>/.cvmfsprofile`; the publisher names it in the flat root's
/// catalog. Convert owns that name: an image converted without a profile loses a profile a
/// previous run stored.
struct ProfilePlan {
    private struct Wanted {
        var bytes: [UInt8]?
        var items: Int
        var image: String
    }

    /// Keyed by flat path: two tags of one image share a flat root, so they must agree.
    private var wanted: [String: Wanted] = [:]
    private var order: [String] = []

    /// Records the profile `file` (or none) for `image`; the file must parse as a profile.
    mutating func want(_ file: String?, for image: ResolvedImage) throws(ImageError) {
        var next = Wanted(bytes: nil, items: 0, image: image.reference.publicPath)
        if let file {
            let bytes = try FS.read(file)
            do {
                next.items = try StartupProfile(bytes: bytes).items.count
            } catch {
                throw .recipe("profile \(file) for \(image.reference.publicPath): not a usable start-up profile: \(error)")
            }
            next.bytes = bytes
        }
        if let earlier = wanted[image.flatPath] {
            guard earlier.bytes == next.bytes else {
                throw .recipe("\(earlier.image) and \(next.image) are one image (\(image.flatPath)) but the recipe gives them different profiles")
            }
            return
        }
        wanted[image.flatPath] = next
        order.append(image.flatPath)
    }

    /// What differs between the wanted profiles and `staging`, in recipe order.
    func changes(staging: String) -> [ProfileChange] {
        order.compactMap { flatPath in
            let want = wanted[flatPath]!
            let stored = staging + "/" + flatPath + "/" + StartupProfile.fileName
            let current = FS.exists(stored) ? try? FS.read(stored) : nil
            guard current != want.bytes else { return nil }
            return ProfileChange(flatPath: flatPath, image: want.image, bytes: want.bytes, items: want.items, replaces: current != nil)
        }
    }
}

/// One profile to add, replace or remove in the staging tree.
struct ProfileChange: CustomStringConvertible {
    var flatPath: String
    var image: String
    /// `nil`: remove the stored profile.
    var bytes: [UInt8]?
    var items: Int
    var replaces: Bool

    func apply(staging: String) throws(ImageError) {
        let stored = staging + "/" + flatPath + "/" + StartupProfile.fileName
        if let bytes {
            try FS.write(stored, bytes)
        } else {
            try FS.remove(stored)
        }
    }

    var description: String {
        guard bytes != nil else { return "\(image): start-up profile removed" }
        return "\(image): start-up profile \(replaces ? "replaced" : "added") (\(items) items)"
    }
}

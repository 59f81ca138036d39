import CVMFSFormat
import Glibc

/// A `cvmfs_ducc` recipe, version 1 (docs/format/container-images.md §1).
///
/// The format is a small subset of YAML: top-level `key: value` pairs, the `input` list
/// (`- item` lines, or a flow list `[a, b]`) and the `profiles` mapping (indented
/// `image: file` lines, split at the first `: ` since image references hold colons).
/// Comments start with `#`.
///
/// `profiles` is this project's key (docs/profiles.md): upstream ducc decodes recipes without
/// strict fields and ignores it.
public struct Recipe: Sendable {
    public var version: Int
    public var user: String?
    public var repository: String
    public var outputFormat: String?
    public var inputs: [String]
    /// A start-up profile file per input, keyed by the input as written; relative files are
    /// relative to the recipe's folder once `load(path:)` read it.
    public var profiles: [String: String]
    /// `podman_store: false` leaves out the podman image store (this project's key; default true).
    public var podmanStore = true

    public init(text: String) throws(ImageError) {
        var fields: [String: String] = [:]
        var inputs: [String] = []
        var profiles: [String: String] = [:]
        var inInput = false
        var inProfiles = false
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = Self.stripComment(String(rawLine))
            if line.trimmingSpaces.isEmpty { continue }
            let indented = line.first == " " || line.first == "\t"
            let trimmed = line.trimmingSpaces
            if trimmed.hasPrefix("- ") || trimmed == "-" {
                guard inInput else { throw .recipe("line \(number + 1): list item outside 'input'") }
                let item = Self.unquote(String(trimmed.dropFirst()).trimmingSpaces)
                if !item.isEmpty { inputs.append(item) }
                continue
            }
            if indented && inInput { throw .recipe("line \(number + 1): expected '- image' in 'input'") }
            if indented && inProfiles {
                guard let (image, file) = Self.splitMapping(trimmed), !image.isEmpty, !file.isEmpty else {
                    throw .recipe("line \(number + 1): expected 'image: profile file' in 'profiles'")
                }
                guard profiles[image] == nil else { throw .recipe("line \(number + 1): a second profile for '\(image)'") }
                profiles[image] = file
                continue
            }
            guard let colon = trimmed.firstIndex(of: ":") else { throw .recipe("line \(number + 1): expected 'key: value'") }
            let key = String(trimmed[..<colon]).trimmingSpaces
            let value = String(trimmed[trimmed.index(after: colon)...]).trimmingSpaces
            inInput = key == "input"
            inProfiles = key == "profiles"
            if inProfiles {
                guard value.isEmpty else { throw .recipe("line \(number + 1): 'profiles' must be a mapping of indented 'image: file' lines") }
                continue
            }
            if key == "input" {
                if value.hasPrefix("[") && value.hasSuffix("]") {
                    inputs += value.dropFirst().dropLast().split(separator: ",").map { Self.unquote(String($0).trimmingSpaces) }.filter { !$0.isEmpty }
                    inInput = false
                } else if !value.isEmpty {
                    throw .recipe("line \(number + 1): 'input' must be a list")
                }
                continue
            }
            fields[key] = Self.unquote(value)
        }
        guard let versionText = fields["version"], let version = Int(versionText) else { throw .recipe("'version' is missing") }
        guard version == 1 else { throw .recipe("version \(version) is not supported (only 1)") }
        guard let repository = fields["cvmfs_repo"], !repository.isEmpty else { throw .recipe("'cvmfs_repo' is missing") }
        guard !inputs.isEmpty else { throw .recipe("'input' lists no images") }
        for image in profiles.keys.sorted() where !inputs.contains(image) {
            throw .recipe("'profiles' names '\(image)', which is not an entry of 'input'")
        }
        self.profiles = profiles
        if let value = fields["podman_store"] {
            switch value.lowercased() {
            case "true", "yes": podmanStore = true
            case "false", "no": podmanStore = false
            default: throw .recipe("'podman_store' must be true or false, not '\(value)'")
            }
        }
        self.version = version
        self.user = fields["user"]
        self.repository = repository
        self.outputFormat = fields["output_format"]
        self.inputs = inputs
    }

    public static func load(path: String) throws(ImageError) -> Recipe {
        guard let file = fopen(path, "r") else { throw .recipe("\(path): cannot open: \(errnoText())") }
        defer { fclose(file) }
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, 65536, file) }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        do {
            var recipe = try Recipe(text: String(decoding: bytes, as: UTF8.self))
            let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
            for (image, file) in recipe.profiles where !file.hasPrefix("/") {
                recipe.profiles[image] = folder + "/" + file
            }
            return recipe
        } catch {
            throw .recipe("\(path): \(error.description.dropFirst("recipe: ".count))")
        }
    }

    private static func stripComment(_ line: String) -> String {
        var quote: Character?
        var previous: Character = " "
        for (offset, c) in line.enumerated() {
            if let q = quote { if c == q { quote = nil } } else if c == "\"" || c == "'" { quote = c } else if c == "#" && (previous == " " || previous == "\t" || offset == 0) {
                return String(line.prefix(offset))
            }
            previous = c
        }
        return line
    }

    /// `key: value` at the first `: `, both unquoted (a key may be quoted, too).
    private static func splitMapping(_ line: String) -> (String, String)? {
        let bytes = Array(line.utf8)
        var quote: UInt8?
        for i in 0..<bytes.count - 1 {
            let c = bytes[i]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                quote = c
            } else if c == UInt8(ascii: ":") && (bytes[i + 1] == UInt8(ascii: " ") || bytes[i + 1] == UInt8(ascii: "\t")) {
                let key = String(decoding: bytes[..<i], as: UTF8.self).trimmingSpaces
                let value = String(decoding: bytes[(i + 1)...], as: UTF8.self).trimmingSpaces
                return (unquote(key), unquote(value))
            }
        }
        return nil
    }

    private static func unquote(_ value: String) -> String {
        if value.count >= 2, let f = value.first, f == "\"" || f == "'", value.last == f {
            return String(value.dropFirst().dropLast())
        }
        return value
    }
}

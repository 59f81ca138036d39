import Glibc

/// A `cvmfs_ducc` recipe, version 1 (container-images.md §1).
///
/// The format is a small subset of YAML: top-level `key: value` pairs and the `input` list
/// (`- item` lines, or a flow list `[a, b]`). Comments start with `#`.
public struct Recipe: Sendable {
    public var version: Int
    public var user: String?
    public var repository: String
    public var outputFormat: String?
    public var inputs: [String]

    public init(text: String) throws(ImageError) {
        var fields: [String: String] = [:]
        var inputs: [String] = []
        var inInput = false
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
            guard let colon = trimmed.firstIndex(of: ":") else { throw .recipe("line \(number + 1): expected 'key: value'") }
            let key = String(trimmed[..<colon]).trimmingSpaces
            let value = String(trimmed[trimmed.index(after: colon)...]).trimmingSpaces
            inInput = key == "input"
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
            return try Recipe(text: String(decoding: bytes, as: UTF8.self))
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

    private static func unquote(_ value: String) -> String {
        if value.count >= 2, let f = value.first, f == "\"" || f == "'", value.last == f {
            return String(value.dropFirst().dropLast())
        }
        return value
    }
}

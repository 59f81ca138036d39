import CVMFSClient
import CVMFSFormat

/// Client configuration text. `ConfigurationParser.assignedNames(in:)` (which names a file
/// sets: the shell subset the parser reads back) on the whole input; then, without running a
/// shell, each `[readonly |export |eval ]NAME=value` line's literal value (quotes removed)
/// becomes a parameter, and the chain's later stages run on them: `@fqrn@`/`@org@`
/// templates, `ClientConfiguration` validation of every typed parameter, the proxy and host
/// chains, the variant-symlink environment and the repository name rules.
let configHarness = Harness(
    name: "config",
    summary: "assignedNames(in:), expandingTemplates, ClientConfiguration(repository:parameters:), ProxyChain, HostChain, RepositoryName"
) { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    let names = ConfigurationParser.assignedNames(in: text)
    FuzzCheck.require(Set(names).count == names.count, "assignedNames returned a name twice")
    for name in names {
        FuzzCheck.require(!name.isEmpty && !name.hasPrefix("__cvmfs_"), "assignedNames invented '\(name)'")
    }

    var parameters = ConfigurationParameters()
    let assigned = Set(names)
    for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
        guard let (name, value) = literalAssignment(line), assigned.contains(name) else { continue }
        parameters.set(name, value, source: "/fuzz/default.local")
    }
    let repositoryText = parameters["CVMFS_FUZZ_REPOSITORY"] ?? "atlas.cern.ch"
    let repository = (try? RepositoryName.sanitize(repositoryText, defaultDomain: parameters["CVMFS_DEFAULT_DOMAIN"]))
        ?? (try! RepositoryName(validating: "atlas.cern.ch"))
    _ = (repository.org, repository.domain)
    let expanded = parameters.expandingTemplates(for: repository)
    // (A default domain may itself hold "@fqrn@", which then comes back through the name.)
    for parameter in expanded.all where !repository.fqrn.contains("@") {
        FuzzCheck.require(!parameter.value.contains("@fqrn@"), "@fqrn@ left in \(parameter.name)")
    }
    if let configuration = try? ClientConfiguration(repository: repository, parameters: expanded, configDirectory: scratchDirectory) {
        for url in configuration.serverURLs { _ = try? HostChain(serverURL: url) }
        _ = try? HostChain(configuration.serverURLs)
        _ = try? ProxyChain(proxies: configuration.httpProxy, fallback: configuration.fallbackProxy ?? "")
        _ = VariantEnvironment(configuration: configuration, processEnvironment: [:], architecture: "x86_64").lookup("CVMFS_ARCH")
    }
    if let proxy = expanded["CVMFS_HTTP_PROXY"] { _ = try? ProxyChain(proxies: proxy, fallback: expanded["CVMFS_FALLBACK_PROXY"] ?? "") }
}

/// `NAME=value` of one line, the value as the shell would see a literal word: quotes
/// removed, cut at the first unquoted blank or `#`.
private func literalAssignment(_ line: Substring) -> (String, String)? {
    guard let equals = line.firstIndex(of: "=") else { return nil }
    var name = line[..<equals].drop { $0 == " " || $0 == "\t" }
    for prefix in ["readonly ", "export ", "eval "] where name.hasPrefix(prefix) {
        name = name.dropFirst(prefix.count).drop { $0 == " " || $0 == "\t" }
    }
    var value = ""
    value.reserveCapacity(line.utf8.count)
    var quote: Character?
    for c in line[line.index(after: equals)...] {
        if let q = quote {
            if c == q { quote = nil } else { value.append(c) }
        } else if c == "'" || c == "\"" {
            quote = c
        } else if c == " " || c == "\t" || c == "#" || c == ";" {
            break
        } else {
            value.append(c)
        }
    }
    return (String(name).trimmingCharacters(), value)
}

private extension String {
    /// Without leading and trailing blanks. (Built from the indexes of the first and last
    /// non-blank: the former `reversed().drop(while:).reversed()` made a String through
    /// nested generic collections and was half of the harness's time.)
    func trimmingCharacters() -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(self[first...last])
    }
}

/// One parameter as left by the configuration chain.
public struct ConfigurationParameter: Sendable, Equatable {
    public let name: String
    public let value: String
    /// The file whose evaluation last set the value.
    public let source: String

    public init(name: String, value: String, source: String) {
        self.name = name
        self.value = value
        self.source = source
    }
}

/// Every parameter named in the chain, with its final value and the file that set it.
public struct ConfigurationParameters: Sendable, Equatable {
    private var byName: [String: ConfigurationParameter] = [:]
    /// Files that existed and were evaluated, in order.
    public internal(set) var files: [String] = []
    /// Notes about refused changes (for example to the protected `CVMFS_CONFIG_REPOSITORY`).
    public internal(set) var warnings: [String] = []

    public init() {}

    public init(_ parameters: [ConfigurationParameter], files: [String] = []) {
        for parameter in parameters { byName[parameter.name] = parameter }
        self.files = files
    }

    /// The value of `name`, or nil when no file named it.
    public subscript(name: String) -> String? { byName[name]?.value }

    /// The parameter record for `name`.
    public func parameter(_ name: String) -> ConfigurationParameter? { byName[name] }

    /// The file that set `name`.
    public func source(of name: String) -> String? { byName[name]?.source }

    /// All parameters sorted by name (the order of upstream's `parameters` output).
    public var all: [ConfigurationParameter] {
        byName.values.sorted { $0.name < $1.name }
    }

    public var isEmpty: Bool { byName.isEmpty }

    /// Sets `name`; a later call overrides an earlier one.
    public mutating func set(_ name: String, _ value: String, source: String) {
        byName[name] = ConfigurationParameter(name: name, value: value, source: source)
    }

    /// Replaces `@fqrn@` and `@org@` in every value; other `@x@` stay as they are.
    public func expandingTemplates(for repository: RepositoryName) -> ConfigurationParameters {
        var copy = self
        for (name, parameter) in byName where parameter.value.contains("@") {
            let value = parameter.value
                .replacing("@fqrn@", with: repository.fqrn)
                .replacing("@org@", with: repository.org)
            copy.byName[name] = ConfigurationParameter(name: name, value: value, source: parameter.source)
        }
        return copy
    }
}

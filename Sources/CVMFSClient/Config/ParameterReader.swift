/// Typed access to parameters; every failure names the key, the value and the file.
struct ParameterReader {
    let parameters: ConfigurationParameters

    init(_ parameters: ConfigurationParameters) { self.parameters = parameters }

    func source(_ key: String) -> String { parameters.source(of: key) ?? "(unset)" }

    /// The value, nil when unset or empty.
    func string(_ key: String) -> String? {
        guard let value = parameters[key], !value.isEmpty else { return nil }
        return value
    }

    func missing(_ key: String) -> ConfigurationError {
        .missingParameter(key: key, files: parameters.files)
    }

    func invalid(_ key: String, _ expected: String) -> ConfigurationError {
        .invalidValue(key: key, value: parameters[key] ?? "", file: source(key), expected: expected)
    }

    /// `yes`/`on`/`1`/`true` and `no`/`off`/`0`/`false`, case-insensitive; empty = default.
    func bool(_ key: String, default defaultValue: Bool) throws(ConfigurationError) -> Bool {
        guard let value = string(key) else { return defaultValue }
        switch value.lowercased() {
        case "yes", "on", "1", "true": return true
        case "no", "off", "0", "false": return false
        default: throw invalid(key, "yes/on/1/true or no/off/0/false")
        }
    }

    func int(_ key: String, default defaultValue: Int, minimum: Int) throws(ConfigurationError) -> Int {
        try optionalInt(key, minimum: minimum) ?? defaultValue
    }

    func optionalInt(_ key: String, minimum: Int) throws(ConfigurationError) -> Int? {
        guard let value = string(key) else { return nil }
        guard let number = Int(value), number >= minimum else {
            throw invalid(key, minimum == Int.min ? "an integer" : "an integer ≥ \(minimum)")
        }
        return number
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The variables visible to variant-symlink expansion (`$(VAR)` in symlink targets).
///
/// Upstream exports every parameter into the client's environment (overwriting inherited
/// values) and then sets `CVMFS_FQRN` and `CVMFS_ARCH` (`uname -m`), so the precedence is:
/// process environment < parameters < `CVMFS_FQRN`, `CVMFS_ARCH`.
public struct VariantEnvironment: Sendable {
    public let variables: [String: String]

    public init(configuration: ClientConfiguration,
                processEnvironment: [String: String] = ProcessInfo.processInfo.environment,
                architecture: String = VariantEnvironment.machine()) {
        self.init(parameters: configuration.parameters, fqrn: configuration.fqrn,
                  processEnvironment: processEnvironment, architecture: architecture)
    }

    public init(parameters: ConfigurationParameters, fqrn: String,
                processEnvironment: [String: String], architecture: String) {
        var variables = processEnvironment
        for parameter in parameters.all { variables[parameter.name] = parameter.value }
        variables["CVMFS_FQRN"] = fqrn
        variables["CVMFS_ARCH"] = architecture
        self.variables = variables
    }

    /// The value of `name`, or nil when it is not defined.
    public func value(of name: String) -> String? { variables[name] }

    /// A lookup closure for the symlink expander.
    public var lookup: @Sendable (String) -> String? {
        let variables = self.variables
        return { variables[$0] }
    }

    /// `uname -m` (`x86_64`, `aarch64`, …).
    public static func machine() -> String {
        var name = utsname()
        guard uname(&name) == 0 else { return "unknown" }
        return withUnsafeBytes(of: &name.machine) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}

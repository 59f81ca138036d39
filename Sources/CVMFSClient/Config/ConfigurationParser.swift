import Foundation
import CVMFSFormat

/// Evaluates configuration files the way upstream's `BashOptionsManager` does: as shell scripts.
///
/// One `/bin/sh` process reads the whole chain. Each file is sourced in a subshell whose working
/// directory is the file's directory and which inherits the values left by the files before it
/// (upstream runs a fresh shell per file with the earlier values in its environment; the subshell
/// gives the same result, including `readonly` not carrying over to the next file). After each
/// file, every variable named on a line `[readonly |export |eval ]NAME=…` (text after `#` dropped)
/// is read back and recorded with that file as its source; a name that is unset reads back empty,
/// as upstream's `echo $NAME` does. Values are read back verbatim (upstream's unquoted `echo`
/// would also fold whitespace). Names that are not shell identifiers are ignored.
public struct ConfigurationParser: Sendable {
    /// The shell that evaluates the files.
    public var shell: String
    /// The environment the shell starts with (upstream: the client's own environment).
    public var environment: [String: String]

    public init(shell: String = "/bin/sh", environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.shell = shell
        self.environment = environment
    }

    /// Evaluates the existing files of `chain` and applies the `@fqrn@`/`@org@` templates.
    ///
    /// In the standard chain `CVMFS_CONFIG_REPOSITORY` is protected after `default.d`: later
    /// changes are refused and noted in `warnings`, as upstream does.
    public func parse(_ chain: ConfigurationChain) throws(ConfigurationError) -> ConfigurationParameters {
        let existing = Set(chain.existingPaths)
        let files = chain.files.filter { existing.contains($0.path) }
        var environment = self.environment
        if let repository = chain.repository { environment["CVMFS_FQRN"] = repository.fqrn }

        var sources: [ScriptFile] = []
        for file in files {
            sources.append(ScriptFile(path: file.path, names: try Self.assignedNames(inFile: file.path)))
        }
        let records = try run(sources, environment: environment)

        var parameters = ConfigurationParameters()
        var protectedRepository: String?? = nil  // .some once protection started
        for (index, file) in files.enumerated() {
            switch file.role {
            case .defaultConf, .defaultDirectory, .explicit:
                break
            default:
                if protectedRepository == nil { protectedRepository = .some(parameters["CVMFS_CONFIG_REPOSITORY"]) }
            }
            for (name, value) in records[index] {
                if name == "CVMFS_CONFIG_REPOSITORY", case let .some(kept) = protectedRepository, value != (kept ?? "") {
                    parameters.warnings.append(
                        "\(file.path): attempt to change protected CVMFS_CONFIG_REPOSITORY from '\(kept ?? "")' to '\(value)' refused")
                    continue
                }
                parameters.set(name, value, source: file.path)
            }
        }
        parameters.files = files.map(\.path)
        if let repository = chain.repository {
            parameters = parameters.expandingTemplates(for: repository)
        }
        return parameters
    }

    // MARK: - Parameter names

    /// Names assigned on lines of the form `[readonly |export |eval ]NAME=…`, in file order, without duplicates.
    public static func assignedNames(in text: String) -> [String] {
        var names: [String] = []
        var seen = Set<String>()
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            guard let equals = line.firstIndex(of: "=") else { continue }
            var name = line[..<equals].trimmingBlanks()
            for prefix in ["readonly ", "export ", "eval "] where name.hasPrefix(prefix) {
                name = name.dropFirst(prefix.count).trimmingBlanks()
                break
            }
            let candidate = String(name)
            guard isShellIdentifier(candidate), !candidate.hasPrefix("__cvmfs_"), seen.insert(candidate).inserted else { continue }
            names.append(candidate)
        }
        return names
    }

    static func isShellIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return name.utf8.allSatisfy { byte in
            byte == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
    }

    static func assignedNames(inFile path: String) throws(ConfigurationError) -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .shellFailed(file: path, message: "cannot read the file")
        }
        return assignedNames(in: String(decoding: data, as: UTF8.self))
    }

    // MARK: - Shell

    struct ScriptFile {
        let path: String
        let names: [String]
    }

    static let fileMarker = "@@cvmfs-swift-file "

    /// Single-quotes `text` for the shell.
    static func quote(_ text: String) -> String {
        "'" + text.replacing("'", with: "'\\''") + "'"
    }

    /// The script that sources every file and prints `F<i>\0` then `V<name>\0<value>\0` per
    /// name after file `i`, or `X<i>\0` and exit 3 when file `i` stopped the shell.
    static func script(for files: [ScriptFile]) -> String {
        var s = """
        __cvmfs_quote() {
          __cvmfs_s=$1; __cvmfs_q=
          while :; do
            case $__cvmfs_s in
              *\\'*) __cvmfs_q="$__cvmfs_q${__cvmfs_s%%\\'*}'\\\\''"; __cvmfs_s=${__cvmfs_s#*\\'} ;;
              *) __cvmfs_q="'$__cvmfs_q$__cvmfs_s'"; break ;;
            esac
          done
        }

        """
        for (index, file) in files.enumerated() {
            let directory = (file.path as NSString).deletingLastPathComponent
            s += "printf '\\n\(fileMarker)\(index)\\n' >&2\n"
            s += "__cvmfs_ok=0\n"
            s += "__cvmfs_out=$(\n"
            s += "cd \(quote(directory.isEmpty ? "/" : directory)) || exit 97\n"
            s += ". \(quote(file.path)) >&2\n"
            for name in file.names {
                s += "__cvmfs_quote \"${\(name)-}\"; printf '%s=%s\\n' \(name) \"$__cvmfs_q\"\n"
            }
            s += "printf '__cvmfs_ok=1\\n'\n"
            s += ")\n"
            s += "eval \"$__cvmfs_out\"\n"
            s += "if [ \"$__cvmfs_ok\" != 1 ]; then printf 'X%s\\000' \(index); exit 3; fi\n"
            if !file.names.isEmpty { s += "export \(file.names.joined(separator: " "))\n" }
            s += "printf 'F%s\\000' \(index)\n"
            for name in file.names {
                s += "printf 'V%s\\000%s\\000' \(name) \"$\(name)\"\n"
            }
        }
        return s
    }

    /// Runs the shell once and returns, per file, the `(name, value)` pairs read back after it.
    func run(_ files: [ScriptFile], environment: [String: String]) throws(ConfigurationError) -> [[(String, String)]] {
        if files.isEmpty { return [] }
        let output: [UInt8]
        let errors: String
        let status: Int32
        (output, errors, status) = try Self.execute(shell: shell, script: Self.script(for: files), environment: environment)

        var records = Array(repeating: [(String, String)](), count: files.count)
        let fields = output.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        var current = -1
        var i = 0
        while i < fields.count {
            let field = fields[i]
            if field.hasPrefix("F"), let index = Int(field.dropFirst()), index < files.count {
                current = index
            } else if field.hasPrefix("X"), let index = Int(field.dropFirst()), index < files.count {
                throw .shellFailed(file: files[index].path, message: Self.message(in: errors, forFile: index))
            } else if field.hasPrefix("V"), current >= 0, i + 1 < fields.count {
                records[current].append((String(field.dropFirst()), fields[i + 1]))
                i += 1
            } else if !field.isEmpty || i != fields.count - 1 {
                throw .shellUnavailable(path: shell, message: "unexpected output from the configuration shell")
            }
            i += 1
        }
        if current != files.count - 1 || status != 0 {
            let failed = max(current + 1, 0)
            if failed < files.count {
                throw .shellFailed(file: files[failed].path, message: Self.message(in: errors, forFile: failed))
            }
            throw .shellUnavailable(path: shell, message: "exit status \(status)")
        }
        return records
    }

    /// The shell's error output while file `index` was evaluated.
    static func message(in errors: String, forFile index: Int) -> String {
        var text = Substring(errors)
        let marker = fileMarker + "\(index)\n"
        if let start = text.range(of: marker) { text = text[start.upperBound...] }
        if let end = text.range(of: "\n" + fileMarker) { text = text[..<end.lowerBound] }
        let trimmed = text.trimmingBlanks(includingNewlines: true)
        return trimmed.isEmpty ? "the shell stopped (exit, or assignment to a readonly variable)" : String(trimmed)
    }

    /// Runs `shell -c script` with stdin from /dev/null (`ChildProcess`, on every mount); stdout
    /// is returned, stderr goes through an unlinked temporary file.
    static func execute(shell: String, script: String, environment: [String: String]) throws(ConfigurationError) -> ([UInt8], String, Int32) {
        func failure(_ what: String) -> ConfigurationError {
            .shellUnavailable(path: shell, message: "\(what): \(String(cString: strerror(errno)))")
        }
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else { throw failure("pipe") }
        let errorFD = ChildProcess.unlinkedTemporaryFile()
        guard errorFD >= 0 else {
            close(pipeFDs[0]); close(pipeFDs[1])
            throw failure("temporary file")
        }
        defer { close(errorFD) }
        let (spawned, pid) = ChildProcess.spawn(shell, arguments: [shell, "-c", script, "cvmfs-config"], environment: environment,
                                                output: pipeFDs[1], errors: errorFD, closeInChild: [pipeFDs[0], pipeFDs[1]])
        close(pipeFDs[1])
        guard spawned == 0 else {
            close(pipeFDs[0])
            errno = spawned
            throw failure("cannot run")
        }
        let output = ChildProcess.readToEnd(pipeFDs[0])
        close(pipeFDs[0])
        let exitStatus = ChildProcess.waitForExit(pid)
        lseek(errorFD, 0, SEEK_SET)
        let errors = ChildProcess.readToEnd(errorFD)
        return (output, String(decoding: errors, as: UTF8.self), exitStatus)
    }
}

extension Substring {
    func trimmingBlanks(includingNewlines: Bool = false) -> Substring {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || (includingNewlines && ($0 == "\n" || $0 == "\r")) }
        guard let first = firstIndex(where: { !isBlank($0) }) else { return self[endIndex...] }
        let last = lastIndex(where: { !isBlank($0) })!
        return self[first...last]
    }
}

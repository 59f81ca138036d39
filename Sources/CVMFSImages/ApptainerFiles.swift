import CVMFSFormat
import Glibc

/// The Apptainer/Singularity files that DUCC puts into every flat image (docs/format/container-images.md
/// §3), so that `apptainer run|exec|shell /cvmfs/<repo>/<image>` behaves as for an image
/// Apptainer built itself: the image's ENV is exported, `run` starts ENTRYPOINT/CMD, and the
/// bind-mount targets a read-only root file system needs exist.
///
/// Only names that are missing are created. The image's content is never followed: a name
/// that exists as anything (also a symlink) is left as it is, and a parent that is not a real
/// directory is skipped. (DUCC also empties an existing /etc/hosts and /etc/resolv.conf; a
/// regular file there is already a valid bind target, so it is kept.) The modification times
/// of the image's own directories are restored afterwards.
enum ApptainerFiles {
    static let directories = [".singularity.d", ".singularity.d/actions", ".singularity.d/env", ".singularity.d/libs",
                              "dev", "proc", "root", "var", "var/tmp", "tmp", "etc", "sys", "home"]
    static let emptyFiles = ["etc/hosts", "etc/resolv.conf"]
    static let links = [("singularity", ".singularity.d/runscript"), (".run", ".singularity.d/actions/run"),
                        (".exec", ".singularity.d/actions/exec"), (".shell", ".singularity.d/actions/shell"),
                        (".test", ".singularity.d/actions/test"), ("environment", ".singularity.d/env/90-environment.sh")]

    static func add(root: String, config: ImageConfig.ContainerConfig?) throws(ImageError) {
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard rootFD >= 0 else { throw .io(path: root, reason: "open: \(errnoText())") }
        defer { close(rootFD) }
        let touched = imageDirectoryTimes(rootFD)
        for dir in directories where isRealDirectory(rootFD, FS.parent(dir)) {
            if mkdirat(rootFD, dir, 0o755) != 0 && errno != EEXIST {
                throw .io(path: root + "/" + dir, reason: "mkdir: \(errnoText())")
            }
        }
        for (path, content) in files(config: config) where isRealDirectory(rootFD, FS.parent(path)) {
            try createFile(path, content: content, rootFD: rootFD, root: root)
        }
        for (name, target) in links {
            if symlinkat(target, rootFD, name) != 0 && errno != EEXIST {
                throw .io(path: root + "/" + name, reason: "symlink: \(errnoText())")
            }
        }
        for (path, atime, mtime) in touched {
            var times = [atime, mtime]
            utimensat(rootFD, path, &times, AT_SYMLINK_NOFOLLOW)
        }
    }

    /// The image's directories we may add to, with their times, to restore at the end.
    private static func imageDirectoryTimes(_ rootFD: Int32) -> [(String, timespec, timespec)] {
        var touched: [(String, timespec, timespec)] = []
        for dir in ["", "etc", "var"] {
            var st = stat()
            let path = dir.isEmpty ? "." : dir
            if fstatat(rootFD, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
                touched.append((path, st.st_atim, st.st_mtim))
            }
        }
        return touched
    }

    /// Every file to add, with its content: the empty bind targets, then the scripts.
    private static func files(config: ImageConfig.ContainerConfig?) -> [(String, String)] {
        let actions = ".singularity.d/actions/"
        let env = ".singularity.d/env/"
        return emptyFiles.map { ($0, "") } + [
            (actions + "exec", script(sourcing: true, "exec \"$@\"")),
            (actions + "run", script(sourcing: true, """
                if [ -x /.singularity.d/runscript ]; then exec /.singularity.d/runscript "$@"; fi
                exec /bin/sh "$@"
                """)),
            (actions + "shell", script(sourcing: true, """
                if [ -n "${SINGULARITY_SHELL:-}" ] && [ -x "$SINGULARITY_SHELL" ]; then exec "$SINGULARITY_SHELL" "$@"; fi
                if [ -x /bin/bash ]; then
                    SHELL=/bin/bash PS1="Apptainer> "
                    export SHELL PS1
                    exec /bin/bash --norc "$@"
                fi
                SHELL=/bin/sh
                export SHELL
                exec /bin/sh "$@"
                """)),
            (actions + "start", script(sourcing: true, """
                kill -CONT 1
                if [ -x /.singularity.d/startscript ]; then exec /.singularity.d/startscript; fi
                """)),
            (actions + "test", script(sourcing: true, """
                if [ -x /.singularity.d/test ]; then exec /.singularity.d/test "$@"; fi
                exec /bin/sh -c true
                """)),
            (env + "01-base.sh", script(sourcing: false, "")),
            (env + "10-docker2singularity.sh", script(sourcing: false, environment(config?.Env ?? []))),
            (env + "90-environment.sh", script(sourcing: false, "# custom environment settings go here")),
            (env + "95-apps.sh", script(sourcing: false, "")),
            (env + "99-base.sh", script(sourcing: false, """
                LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/.singularity.d/libs"
                PS1="Apptainer> "
                export LD_LIBRARY_PATH PS1
                """)),
            (env + "99-runtimevars.sh", script(sourcing: false, """
                if [ -n "${SING_USER_DEFINED_PREPEND_PATH:-}" ]; then PATH="$SING_USER_DEFINED_PREPEND_PATH:$PATH"; fi
                if [ -n "${SING_USER_DEFINED_APPEND_PATH:-}" ]; then PATH="$PATH:$SING_USER_DEFINED_APPEND_PATH"; fi
                if [ -n "${SING_USER_DEFINED_PATH:-}" ]; then PATH="$SING_USER_DEFINED_PATH"; fi
                unset SING_USER_DEFINED_PREPEND_PATH SING_USER_DEFINED_APPEND_PATH SING_USER_DEFINED_PATH
                export PATH
                """)),
            (".singularity.d/runscript", script(sourcing: false, runscript(entrypoint: config?.Entrypoint ?? [], cmd: config?.Cmd ?? []))),
            (".singularity.d/startscript", script(sourcing: false, "")),
        ]
    }

    /// Creates `path` with `content` unless the name exists; a script is executable.
    private static func createFile(_ path: String, content: String, rootFD: Int32, root: String) throws(ImageError) {
        let fd = openat(rootFD, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, content.isEmpty ? 0o644 : 0o755)
        if fd < 0 {
            if errno == EEXIST { return }
            throw .io(path: root + "/" + path, reason: "create: \(errnoText())")
        }
        let bytes = Array(content.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, content.isEmpty ? 0o644 : 0o755)
        close(fd)
        guard written == bytes.count else { throw .io(path: root + "/" + path, reason: "write: \(errnoText())") }
    }

    private static func isRealDirectory(_ rootFD: Int32, _ path: String) -> Bool {
        if path == "." { return true }
        var st = stat()
        // Each component must be a real directory (no symlink is followed).
        var current = ""
        for part in path.split(separator: "/") {
            current += (current.isEmpty ? "" : "/") + part
            guard fstatat(rootFD, current, &st, AT_SYMLINK_NOFOLLOW) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return false }
        }
        return true
    }

    private static func script(sourcing: Bool, _ body: String) -> String {
        var text = "#!/bin/sh\n"
        if sourcing {
            text += "for f in /.singularity.d/env/*.sh; do\n    if [ -f \"$f\" ]; then . \"$f\"; fi\ndone\n"
        }
        if !body.isEmpty { text += body + "\n" }
        return text
    }

    /// A word for /bin/sh in single quotes.
    static func quoted(_ word: String) -> String {
        "'" + word.replacing("'", with: "'\\''") + "'"
    }

    /// The image's ENV: PATH is set outright, the rest only when not already set (as DUCC).
    static func environment(_ env: [String]) -> String {
        var lines: [String] = []
        for entry in env {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let name = parts[0]
            guard !name.isEmpty, name.allSatisfy({ $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }),
                  !(name.first?.isNumber ?? true) else { continue }
            let value = parts.count > 1 ? parts[1] : ""
            if name == "PATH" {
                lines.append("export PATH=\(quoted(value))")
            } else {
                lines.append("if [ -z \"${\(name)+set}\" ]; then export \(name)=\(quoted(value)); fi")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `apptainer run`: ENTRYPOINT followed by the arguments, or by CMD when there are none.
    static func runscript(entrypoint: [String], cmd: [String]) -> String {
        var lines = ["# the image's ENTRYPOINT and CMD; arguments to `apptainer run` replace CMD"]
        if entrypoint.isEmpty && cmd.isEmpty {
            lines.append("exec /bin/sh \"$@\"")
            return lines.joined(separator: "\n")
        }
        if !cmd.isEmpty {
            lines.append("if [ $# -eq 0 ]; then set -- \(cmd.map(quoted).joined(separator: " ")); fi")
        }
        lines.append("exec \(entrypoint.map(quoted).map { $0 + " " }.joined())\"$@\"")
        return lines.joined(separator: "\n")
    }
}

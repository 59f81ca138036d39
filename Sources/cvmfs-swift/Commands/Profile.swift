import ArgumentParser
import Glibc
import CVMFSClient

extension CVMFSSwift {
    struct Profile: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "profile",
            abstract: "Start-up profiles: what a workload reads when it starts (docs/profiles.md).",
            subcommands: [Record.self])
    }
}

extension CVMFSSwift.Profile {
    struct Record: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "record",
            abstract: "Record what is opened below DIR on a mounted repository, then write the profile.",
            discussion: """
                Records until --seconds have passed or SIGINT/SIGTERM arrives. Publish the result with \
                `cvmfs-swift publish ... --profile PATH=FILE`, or name it in a convert recipe's `profiles:`.
                """)

        @Argument(help: "A directory on a mounted cvmfs-swift repository (symlinks are followed).")
        var directory: String

        @Option(name: .shortAndLong, help: "Where to write the profile.")
        var output: String

        @Option(help: "Stop after this many seconds.")
        var seconds: Int = 60

        func run() throws {
            guard let resolved = realpath(directory, nil) else {
                throw CommandFailure("\(directory): \(String(cString: strerror(errno)))")
            }
            let path = String(cString: resolved)
            free(resolved)
            guard let mountpoint = Self.mountpoint(containing: path) else {
                throw CommandFailure("\(path) is not on a mounted CernVM-FS repository")
            }
            let mounted = MountedRepository(fqrn: "", mountpoint: mountpoint)
            guard let socket = mounted.attribute("talk_socket") else {
                throw CommandFailure("\(mountpoint) is not mounted by cvmfs-swift (no user.talk_socket)")
            }
            let inside = String(path.dropFirst(mountpoint == "/" ? 0 : mountpoint.count))
            guard let outputPath = Self.absolute(output) else { throw CommandFailure("cannot resolve \(output)") }

            var signals = sigset_t()
            sigemptyset(&signals)
            sigaddset(&signals, SIGINT)
            sigaddset(&signals, SIGTERM)
            pthread_sigmask(SIG_BLOCK, &signals, nil)
            try talk("profile start \(inside.isEmpty ? "/" : inside)", socket)
            var timeout = timespec(tv_sec: max(0, seconds), tv_nsec: 0)
            while sigtimedwait(&signals, nil, &timeout) < 0 && errno == EINTR {}
            let answer = try talk("profile stop \(outputPath)", socket)
            printError("recorded \(answer.dropFirst(3).split(separator: "\n").first ?? "") below \(path) into \(output)")
        }

        @discardableResult
        private func talk(_ command: String, _ socket: String) throws -> String {
            let answer: String
            do {
                answer = try TalkServer.send(command, to: socket)
            } catch {
                throw CommandFailure("\(socket): \(error)")
            }
            guard answer.hasPrefix("OK") else { throw CommandFailure("\(command): \(answer)") }
            return answer
        }

        /// The longest `cvmfs2` mount point in /proc/mounts that holds `path`.
        static func mountpoint(containing path: String) -> String? {
            guard let file = fopen("/proc/mounts", "r") else { return nil }
            defer { fclose(file) }
            var line: UnsafeMutablePointer<CChar>?
            var capacity = 0
            defer { free(line) }
            var best: String?
            while getline(&line, &capacity, file) > 0 {
                let fields = String(cString: line!).split(separator: " ")
                guard fields.count > 2, fields[0] == "cvmfs2" else { continue }
                let point = String(fields[1])
                let holds = point == path || point == "/" || path.hasPrefix(point + "/")
                if holds && point.count > (best?.count ?? -1) { best = point }
            }
            return best
        }

        /// The output path made absolute: the daemon writes it from its own working directory.
        static func absolute(_ path: String) -> String? {
            if path.hasPrefix("/") { return path }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
            guard getcwd(&buffer, buffer.count) != nil else { return nil }
            return String(cString: buffer) + "/" + path
        }
    }
}

import ArgumentParser
import CVMFSClient

extension CVMFSSwift {
    struct Talk: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "talk",
            abstract: "Send a command to a mounted repository's control socket (like cvmfs_talk).",
            discussion: """
                Commands: revision, remount [sync], cleanup MB, cache size, cache list [pinned|catalogs], \
                cache instance, host info, host probe, host switch, proxy info, proxy switch, \
                proxy set LIST, timeout info, parameters, internal affairs, open catalogs, pid, \
                version, mountpoint, reset error counters.
                """)

        @Option(name: .short, help: "Repository whose socket to use (found from its configuration).")
        var i: String?

        @Option(name: .short, help: "Path of the control socket, instead of -i.")
        var p: String?

        @Option(help: "Configuration directory (default: CVMFS_CONFIG_DIR or /etc/cvmfs).")
        var configDir: String?

        @Option(name: .customLong("config"), help: "Read only these configuration files (':'-separated), as mount -o config=.")
        var configFiles: String?

        @Argument(help: "REPO COMMAND... (or only COMMAND... with -i or -p).")
        var words: [String]

        func validate() throws {
            if i != nil && p != nil { throw ValidationError("give either -i REPO or -p SOCKET, not both") }
            let needed = (i == nil && p == nil) ? 2 : 1
            if words.count < needed { throw ValidationError("usage: cvmfs-swift talk REPO COMMAND... (or -i REPO / -p SOCKET COMMAND...)") }
        }

        func run() throws {
            let repository = i ?? (p == nil ? words[0] : nil)
            let command = (i == nil && p == nil) ? Array(words.dropFirst()) : words
            let socket: String
            if let p {
                socket = p
            } else {
                do {
                    let configuration = try ClientConfiguration.load(
                        repository: repository!, configDirectory: configDir,
                        explicitFiles: configFiles.map { $0.split(separator: ":").map(String.init) })
                    socket = MountSession.talkSocketPath(configuration)
                } catch {
                    throw CommandFailure("\(error)")
                }
            }
            do {
                print(try TalkServer.send(command.joined(separator: " "), to: socket), terminator: "")
            } catch {
                throw CommandFailure("\(error)")
            }
        }
    }
}

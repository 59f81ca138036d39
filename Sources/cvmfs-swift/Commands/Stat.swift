import ArgumentParser
import Glibc
import CVMFSClient

extension CVMFSSwift {
    struct Stat: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stat",
            abstract: "Show a mounted repository's state (like cvmfs_config stat).",
            discussion: "Reads the magic extended attributes of the mount root and probes the current host.")

        @Flag(name: .short, help: "Verbose: one labelled line per figure.")
        var v = false

        @Argument(help: "Repository (mounted under the mount directory) or its mount point.")
        var repository: String

        @Option(help: "Mount directory (default /cvmfs).")
        var mountDir: String = "/cvmfs"

        func run() throws {
            let mountpoint = repository.hasPrefix("/") ? repository : mountDir + "/" + repository
            let mounted = MountedRepository(fqrn: repository, mountpoint: mountpoint)
            guard mounted.isMounted, let pid = mounted.attribute("pid") else {
                throw CommandFailure("\(mountpoint) is not mounted by a CernVM-FS client")
            }
            func a(_ name: String) -> String { mounted.attribute(name) ?? "n/a" }
            let memory = Self.residentKiB(pid: pid)
            let statistics = statfsFigures(mountpoint)
            let host = a("host")
            let proxy = a("proxy")
            let online = Self.online(host: host, proxy: proxy) ? "1" : "0"
            if v {
                print("Version: \(a("version"))")
                print("PID: \(pid)")
                print("Uptime: \(a("uptime")) minutes")
                print("Memory Usage: \(memory)k")
                print("File Catalog Revision: \(a("revision")) (expires in \(a("expires")) minutes)")
                print("Root Hash: \(a("root_hash"))")
                print("No. Active File Catalogs: \(a("nclg"))")
                print("Cache Usage: \(statistics.used)k / \(statistics.max)k")
                print("File Descriptor Usage: \(a("usedfd")) / \(a("maxfd"))")
                print("No. Open Directories: \(a("useddirp"))")
                print("No. IO Errors: \(a("nioerr"))")
                print("Connection: \(host) through proxy \(proxy) (\(online == "1" ? "online" : "offline"))")
                print("Usage: \(a("nopen")) open() calls, hitrate \(a("hitrate"))%, \(a("ndiropen")) opendir() calls")
                print("Transfer Statistics: \(a("ndownload")) downloads, \(a("rx"))k read, avg. speed: \(a("speed"))k/s")
                print("Start-up Profiles: \(Self.profileLine(a("profiles")))")
            } else {
                print("VERSION PID UPTIME(M) MEM(K) REVISION EXPIRES(M) NOCATALOGS CACHEUSE(K) CACHEMAX(K) NOFDUSE NOFDMAX NOIOERR NOOPEN HITRATE(%) RX(K) SPEED(K/S) HOST PROXY ONLINE")
                print([a("version"), pid, a("uptime"), memory, a("revision"), a("expires"), a("nclg"),
                       String(statistics.used), String(statistics.max), a("usedfd"), a("maxfd"), a("nioerr"),
                       a("nopen"), a("hitrate"), a("rx"), a("speed"), host, proxy, online].joined(separator: " "))
            }
        }

        /// `user.profiles` (`off` or `key=value` pairs) as a sentence; KiB like the other lines.
        static func profileLine(_ attribute: String) -> String {
            guard attribute != "off" else { return "off (CVMFS_SWIFT_PROFILES=no)" }
            var figures: [Substring: Int64] = [:]
            for pair in attribute.split(separator: " ") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, let value = Int64(parts[1]) { figures[parts[0]] = value }
            }
            guard let runs = figures["runs"] else { return attribute }
            func f(_ key: Substring) -> Int64 { figures[key] ?? 0 }
            return "\(runs) run(s), \(f("fetched_objects")) objects (\(f("fetched_bytes") / 1024)k) fetched ahead, "
                + "\(f("hits")) read (\(f("hit_bytes") / 1024)k), \(f("unread_objects")) unread (\(f("unread_bytes") / 1024)k), "
                + "\(f("failed")) failed, \(f("stopped_by_quota")) stopped at the cache quota"
        }

        /// Cache use and quota in KiB, from statfs of the mount (docs/format/client-behaviour.md §9).
        private func statfsFigures(_ path: String) -> (used: UInt64, max: UInt64) {
            var s = statvfs()
            guard statvfs(path, &s) == 0 else { return (0, 0) }
            let block = UInt64(s.f_frsize)
            return ((UInt64(s.f_blocks) - UInt64(s.f_bfree)) * block / 1024, UInt64(s.f_blocks) * block / 1024)
        }

        static func residentKiB(pid: String) -> String {
            guard let file = fopen("/proc/\(pid)/status", "r") else { return "n/a" }
            defer { fclose(file) }
            var line: UnsafeMutablePointer<CChar>?
            var capacity = 0
            defer { free(line) }
            while getline(&line, &capacity, file) > 0 {
                let text = String(cString: line!)
                if text.hasPrefix("VmRSS:") {
                    return text.split(separator: " ").dropFirst().first.map(String.init) ?? "n/a"
                }
            }
            return "n/a"
        }

        /// Whether the current host answers for its manifest.
        static func online(host: String, proxy: String) -> Bool {
            guard host != "n/a", let downloader = try? Downloader(settings: DownloadSettings(hosts: [host], proxies: proxy == "n/a" ? "DIRECT" : proxy, maxRetries: 0)) else { return false }
            return (try? downloader.fetchToMemory(".cvmfspublished", limit: 1 << 20)) != nil
        }
    }
}

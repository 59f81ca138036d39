import Glibc
import CVMFSFormat

extension MountSession {
    /// The path of this mount's control socket (`CVMFS_TALK_SOCKET`, or
    /// `<workspace>/cvmfs_io.<fqrn>`).
    public static func talkSocketPath(_ configuration: ClientConfiguration) -> String {
        configuration.parameters["CVMFS_TALK_SOCKET"] ?? configuration.workspace + "/cvmfs_io." + configuration.fqrn
    }

    /// Answers one `cvmfs-swift talk` command (docs/format/client-behaviour.md §12).
    public func answer(_ command: String) -> String {
        let words = command.split(separator: " ").map(String.init)
        let reply: String?
        switch words.first {
        case "cache", "cleanup": reply = answerCache(words)
        case "host", "proxy", "timeout": reply = answerNetwork(words)
        case "profile": reply = answerProfile(words)
        default: reply = answerMount(words)
        }
        return reply ?? "unknown command"
    }

    /// The mount itself: revision, remount, identity, parameters, catalogs, counters.
    private func answerMount(_ words: [String]) -> String? {
        switch words {
        case ["revision"]:
            return String(mountedRevision)
        case ["remount"], ["remount", "sync"]:
            do {
                switch try checkForNewRevision() {
                case .upToDate: return "Catalog up to date"
                case .switched: return "New revision applied"
                }
            } catch {
                if case .catalog(let message) = error, message.contains("space") { return "Failed (no space)" }
                return "Failed: \(error)"
            }
        case ["reload"]: return reload()
        case ["pid"]: return String(getpid())
        case ["version"]: return Self.version
        case ["version", "patchlevel"]: return "0"
        case ["mountpoint"]: return mountpoint
        case ["max", "ttl", "info"]:
            return configuration.maxTTLMinutes > 0 ? "\(configuration.maxTTLMinutes) minutes" : "unset"
        case ["parameters"]:
            return configuration.parameters.all.map { "\($0.name)=\($0.value)    # from \($0.source)" }.joined(separator: "\n")
        case ["open", "catalogs"]: return openCatalogsTree()
        case ["internal", "affairs"]: return internalAffairs()
        case ["reset", "error", "counters"]:
            resetIOErrors()
            return "OK"
        default: return nil
        }
    }

    private func answerCache(_ words: [String]) -> String? {
        switch words {
        case ["cache", "size"]:
            let usage = cache.usage()
            return "Current cache size is \(usage.used >> 20)MB (\(usage.used) Bytes), pinned: \(usage.pinned >> 20)MB (\(usage.pinned) Bytes)"
        case ["cache", "instance"]:
            return "posix cache at \(cache.directory.path), \(cache.isManaged ? "quota \(cache.limit >> 20)MB" : "unmanaged")"
        case ["cache", "list"], ["cache", "list", "pinned"], ["cache", "list", "catalogs"]:
            let entries = cache.list().filter { entry in
                switch words.last {
                case "pinned": return entry.pinned
                case "catalogs": return entry.kind == .catalog
                default: return true
                }
            }
            return entries.map { "\($0.hash) \($0.size) \($0.description)" }.joined(separator: "\n")
        case ["cache", "limit", "get"]:
            return cache.isManaged ? String(cache.limit >> 20) : "unlimited"
        case _ where words.count == 2 && words[0] == "cleanup":
            guard let megabytes = Int64(words[1]), megabytes >= 0 else { return "usage: cleanup <MB>" }
            return cache.cleanup(toBytes: megabytes << 20) ? "OK" : "Not fully cleaned (there might be pinned chunks)"
        default: return nil
        }
    }

    /// Hosts, proxies and time-outs.
    private func answerNetwork(_ words: [String]) -> String? {
        switch words {
        case ["host", "info"]: return downloader.hostInfo()
        case ["host", "probe"]:
            return downloader.probeHosts().map { probe in
                "  \(probe.host) (\(probe.milliseconds.map { "\($0) ms" } ?? "host down: \(probe.error ?? "")"))"
            }.joined(separator: "\n") + "\nOK"
        case ["host", "switch"]:
            downloader.switchHost()
            return "OK"
        case ["proxy", "info"]: return downloader.proxyInfo()
        case ["proxy", "switch"], ["proxy", "group", "switch"], ["proxy", "rebalance"]:
            downloader.switchProxy()
            return "OK"
        case _ where words.count == 3 && words[1] == "set" && words[0] == "proxy":
            do {
                try downloader.setProxies(Self.discoverProxies(words[2], configuration))
                return "OK"
            } catch {
                return "Failed: \(error)"
            }
        case ["timeout", "info"]:
            return "Timeout with proxy: \(configuration.timeout)s\nTimeout without proxy: \(configuration.timeoutDirect)s"
        default: return nil
        }
    }

    /// Recording start-up profiles (docs/profiles.md).
    private func answerProfile(_ words: [String]) -> String? {
        switch words {
        case _ where words.count == 3 && words[1] == "start":
            var directory = Array(words[2].utf8)
            while directory.last == UInt8(ascii: "/") { directory.removeLast() }
            if !directory.isEmpty && directory.first != UInt8(ascii: "/") { directory.insert(UInt8(ascii: "/"), at: 0) }
            fileSystem.recorder.start(below: directory)
            return "OK"
        case _ where words.count == 3 && words[1] == "stop":
            guard let profile = fileSystem.recorder.stop() else { return "Failed: no recording runs" }
            if let problem = SmallFile.write(words[2], profile.serialized) { return "Failed: \(problem)" }
            return "OK \(profile.items.count) items"
        case ["profile", "info"]: return profileInfo()
        default: return nil
        }
    }

    /// `open catalogs`: the attached catalogs as a tree, 4 spaces per level.
    func openCatalogsTree() -> String {
        var lines: [String] = []
        func visit(_ catalog: MountedCatalog, depth: Int) {
            let indent = String(repeating: " ", count: depth * 4)
            lines.append("\(indent)-> \(catalog.mountpoint.isEmpty ? "/" : catalog.mountpoint) (\(catalog.hash), revision \(catalog.catalog.revision), inodes from \(catalog.inodeOffset + 1))")
            for child in catalog.children.withLock({ $0.values.sorted { $0.mountpoint < $1.mountpoint } }) {
                visit(child, depth: depth + 1)
            }
        }
        visit(fileSystem.tree.root, depth: 0)
        return lines.joined(separator: "\n")
    }

    /// `internal affairs`: the counters an administrator reads first.
    func internalAffairs() -> String {
        let d = downloader.statistics
        let usage = cache.usage()
        let state = revisionState.withLock { $0 }
        let fs = fileSystem
        return """
            Revision: \(state.manifest.revision) (root catalog \(state.manifest.rootCatalog)), switches: \(state.switches)
            Offline: \(state.offline ? "yes (\(state.lastError ?? ""))" : "no"), next check in \(Int(secondsUntilNextCheck)) s
            download.n_downloads: \(d.downloads)
            download.sz_transferred_bytes: \(d.bytes)
            download.n_failed_requests: \(d.failedRequests)
            download.n_failed_downloads: \(d.failedDownloads)
            download.n_retries: \(d.retries)
            download.n_host_failover: \(d.hostSwitches)
            download.n_proxy_failover: \(d.proxySwitches)
            download.speed_kib_s: \(Int(d.kibPerSecond))
            cache.used_bytes: \(usage.used)
            cache.pinned_bytes: \(usage.pinned)
            cache.limit_bytes: \(usage.limit)
            catalogs.loaded: \(fs.tree.attached.count)
            catalogs.open: \(fs.tree.census.open) (all revisions: older ones stay open while the kernel holds their inodes)
            inodes.max: \(fs.tree.inodeLimit)
            files.open: \(fs.openFileCount)
            io_errors: \(ioErrorCount)
            \(profileInfo())
            """
    }

    /// `profile info`: what start-up profiles fetched ahead and how much of it was read.
    func profileInfo() -> String {
        guard let profiles else { return "profiles: off (CVMFS_SWIFT_PROFILES=no)" }
        let inFlight = downloader.transfersInFlight
        return profileFigures(profiles.statistics).map { "profiles.\($0.name): \($0.value)\n" }.joined() + """
            download.in_flight: \(inFlight.demand) demand, \(inFlight.background) background (at most \(downloader.settings.maxTransfers))
            """
    }

    /// The `user.profiles` attribute: `off`, or the `profile info` figures as `name=value` pairs for `stat -v`.
    var profileSummary: String {
        guard let profiles else { return "off" }
        return profileFigures(profiles.statistics).map { "\($0.name)=\($0.value)" }.joined(separator: " ")
    }

    /// The figures both `profile info` and `user.profiles` show, by name.
    private func profileFigures(_ p: ProfileStatistics) -> [(name: String, value: Int64)] {
        [("runs", Int64(p.runs)), ("fetched_objects", Int64(p.objects)), ("fetched_bytes", p.bytes),
         ("hits", Int64(p.hits)), ("hit_bytes", p.hitBytes), ("unread_objects", Int64(p.wastedObjects)),
         ("unread_bytes", p.wastedBytes), ("failed", Int64(p.failed)), ("stopped_by_quota", Int64(p.stoppedByQuota))]
    }
}

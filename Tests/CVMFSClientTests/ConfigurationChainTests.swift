import Testing
@testable import CVMFSClient

@Suite("Configuration chain and shell evaluation")
struct ConfigurationChainTests {
    func parse(_ dir: TemporaryConfigDirectory, _ repo: String) throws -> ConfigurationParameters {
        let chain = ConfigurationChain(repository: try RepositoryName(validating: repo), directory: dir.path,
                                       environment: testEnvironment)
        return try ConfigurationParser(environment: testEnvironment).parse(chain)
    }

    @Test("files are listed in upstream order; default.d sorted")
    func order() throws {
        let dir = try TemporaryConfigDirectory()
        try dir.write("default.d/60-b.conf", "")
        try dir.write("default.d/10-a.conf", "")
        try dir.write("default.d/README", "")
        let chain = ConfigurationChain(repository: try RepositoryName(validating: "atlas.cern.ch"),
                                       directory: dir.path, environment: testEnvironment)
        let relative = chain.files.map { String($0.path.dropFirst(dir.path.count + 1)) }
        #expect(relative == ["default.conf", "default.d/10-a.conf", "default.d/60-b.conf", "default.local",
                             "domain.d/cern.ch.conf", "domain.d/cern.ch.local",
                             "config.d/atlas.cern.ch.conf", "config.d/atlas.cern.ch.local"])
    }

    @Test("the directory comes from the parameter, then CVMFS_CONFIG_DIR, then /etc/cvmfs")
    func directory() {
        #expect(ConfigurationChain.resolveDirectory("/x", environment: ["CVMFS_CONFIG_DIR": "/y"]) == "/x")
        #expect(ConfigurationChain.resolveDirectory(nil, environment: ["CVMFS_CONFIG_DIR": "/y"]) == "/y")
        #expect(ConfigurationChain.resolveDirectory(nil, environment: [:]) == "/etc/cvmfs")
    }

    @Test("later files override earlier ones and each value remembers its file")
    func overrides() throws {
        let dir = try TemporaryConfigDirectory()
        try dir.write("default.conf", "A=default\nB=default\nC=default\nD=default\nE=default\nF=default\n")
        try dir.write("default.d/50-x.conf", "B=defaultd\n")
        try dir.write("default.local", "C=defaultlocal\n")
        try dir.write("domain.d/example.org.conf", "D=domain # comment\n")
        try dir.write("domain.d/example.org.local", "export E=domainlocal\n")
        try dir.write("config.d/repo.example.org.conf", "readonly F=repo\n")
        try dir.write("config.d/repo.example.org.local", "F=repolocal\n")
        let p = try parse(dir, "repo.example.org")
        #expect(p["A"] == "default")
        #expect(p["B"] == "defaultd")
        #expect(p["C"] == "defaultlocal")
        #expect(p["D"] == "domain")
        #expect(p["E"] == "domainlocal")
        #expect(p["F"] == "repolocal")  // readonly does not carry over to the next file
        #expect(p.source(of: "B") == dir.path + "/default.d/50-x.conf")
        #expect(p.source(of: "F") == dir.path + "/config.d/repo.example.org.local")
        #expect(p.files.count == 7)
    }

    @Test("${VAR:=default}, conditionals, quotes and the file's directory as cwd")
    func shellSemantics() throws {
        let dir = try TemporaryConfigDirectory()
        try dir.write("default.conf", """
            CVMFS_USE_CDN=yes
            X=before
            """)
        try dir.write("domain.d/cern.ch.conf", """
            CVMFS_HTTP_PROXY="${CVMFS_HTTP_PROXY:=DIRECT}"
            if [ "$CVMFS_USE_CDN" = "yes" ]; then
              CVMFS_SERVER_URL="http://cdn/cvmfs/@fqrn@"
            else
              CVMFS_SERVER_URL="http://s1/cvmfs/@fqrn@"
            fi
            Q='it''s "quoted"  with  spaces'
            HERE=$(pwd)
            Y="$X-after"
            """)
        let p = try parse(dir, "atlas.cern.ch")
        #expect(p["CVMFS_HTTP_PROXY"] == "DIRECT")
        #expect(p["CVMFS_SERVER_URL"] == "http://cdn/cvmfs/atlas.cern.ch")
        #expect(p["Q"] == "its \"quoted\"  with  spaces")
        #expect(p["HERE"] == dir.path + "/domain.d")
        #expect(p["Y"] == "before-after")

        try dir.write("config.d/atlas.cern.ch.local", "CVMFS_HTTP_PROXY=http://squid:3128\n")
        try dir.write("default.local", "CVMFS_HTTP_PROXY=\"http://p1|http://p2;DIRECT\"\n")
        let q = try parse(dir, "atlas.cern.ch")
        #expect(q["CVMFS_HTTP_PROXY"] == "http://squid:3128")
    }

    @Test("${VAR:=default} keeps a value set by an earlier file")
    func defaultAssignmentKeepsEarlier() throws {
        let dir = try TemporaryConfigDirectory()
        try dir.write("default.local", "CVMFS_HTTP_PROXY=http://site:3128\n")
        try dir.write("config.d/cvmfs-config.cern.ch.conf", "CVMFS_HTTP_PROXY=\"${CVMFS_HTTP_PROXY:=DIRECT}\"\n")
        let p = try parse(dir, "cvmfs-config.cern.ch")
        #expect(p["CVMFS_HTTP_PROXY"] == "http://site:3128")
    }

    @Test("@fqrn@ and @org@ are replaced; other @x@ stay")
    func templates() throws {
        let dir = try TemporaryConfigDirectory()
        try dir.write("default.conf", "U=http://h/@org@/@fqrn@/@other@\nCVMFS_FQRN_SEEN=$CVMFS_FQRN\n")
        let p = try parse(dir, "atlas.cern.ch")
        #expect(p["U"] == "http://h/atlas/atlas.cern.ch/@other@")
        #expect(p["CVMFS_FQRN_SEEN"] == "atlas.cern.ch")
    }

    @Test("-o config= reads only the listed files, in order")
    func explicitFiles() throws {
        let dir = try TemporaryConfigDirectory()
        try dir.write("default.conf", "A=default\nB=default\n")
        let one = try dir.write("elsewhere/one.conf", "A=one\nB=one\n")
        let two = try dir.write("elsewhere/two.conf", "B=two\n")
        let files = ConfigurationChain.explicitFiles(fromOption: one + ":" + two)
        let chain = ConfigurationChain(repository: try RepositoryName(validating: "a.b"), explicitFiles: files,
                                       directory: dir.path, environment: testEnvironment)
        let p = try ConfigurationParser(environment: testEnvironment).parse(chain)
        #expect(p["A"] == "one")
        #expect(p["B"] == "two")
        #expect(p.files == [one, two])
    }

    @Test("a file the shell cannot evaluate is named in the error")
    func brokenFile() throws {
        let dir = try TemporaryConfigDirectory()
        try dir.write("default.conf", "A=1\n")
        let broken = try dir.write("domain.d/cern.ch.local", "if [ x = x ]; then\nB=2\n")
        let error = #expect(throws: ConfigurationError.self) { try parse(dir, "atlas.cern.ch") }
        guard case let .shellFailed(file, message) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(file == broken)
        #expect(!message.isEmpty)
        #expect(error!.description.contains(broken))
    }

    @Test("CVMFS_CONFIG_REPOSITORY is protected after default.d")
    func protectedConfigRepository() throws {
        let dir = try TemporaryConfigDirectory()
        try dir.write("default.d/50-cern.conf", "CVMFS_CONFIG_REPOSITORY=cvmfs-config.cern.ch\n")
        try dir.write("default.local", "CVMFS_CONFIG_REPOSITORY=other.cern.ch\n")
        let p = try parse(dir, "atlas.cern.ch")
        #expect(p["CVMFS_CONFIG_REPOSITORY"] == "cvmfs-config.cern.ch")
        #expect(p.warnings.count == 1)
    }

    @Test("assignment lines are recognised like upstream")
    func assignedNames() {
        let text = """
            # CVMFS_COMMENTED=1
            readonly   R=1
            export E=2
            eval V=3
            if [ "$X" = "" ]; then
            A=1 # B=2
            A=again
            1BAD=x
            : ${DEFAULTED:=x}
            """
        #expect(ConfigurationParser.assignedNames(in: text) == ["R", "E", "V", "A"])
    }
}

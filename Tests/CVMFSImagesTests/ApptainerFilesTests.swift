import Glibc
import Testing
@testable import CVMFSImages

@Suite("Apptainer files in flat images")
struct ApptainerFilesTests {
    @Test("created where missing, existing entries and directory times kept")
    func layout() throws {
        let root = temporaryDirectory() + "/rootfs"
        try FS.makeDirectories(root + "/etc")
        try FS.write(root + "/etc/hosts", Array("127.0.0.1 image\n".utf8))
        try FS.symlink(target: "/somewhere", at: root + "/home")
        var times = [timespec(tv_sec: 1_700_000_000, tv_nsec: 0), timespec(tv_sec: 1_700_000_000, tv_nsec: 0)]
        utimensat(AT_FDCWD, root + "/etc", &times, 0)
        let config = ImageConfig.ContainerConfig(Env: ["PATH=/opt/bin:/bin", "GREETING=it's $HOME"], Entrypoint: nil, Cmd: ["/bin/sh", "-c", "echo hi"])
        try ApptainerFiles.add(root: root, config: config)
        for dir in ["dev", "proc", "sys", "tmp", "var/tmp", "root", ".singularity.d/libs"] { #expect(FS.isDirectory(root + "/" + dir), "\(dir)") }
        #expect(readText(root + "/etc/hosts") == "127.0.0.1 image\n")
        #expect(readText(root + "/etc/resolv.conf") == "")
        #expect(FS.readLink(root + "/home") == "/somewhere")
        #expect(FS.readLink(root + "/singularity") == ".singularity.d/runscript")
        #expect(FS.readLink(root + "/.exec") == ".singularity.d/actions/exec")
        var st = stat()
        #expect(stat(root + "/.singularity.d/actions/exec", &st) == 0 && st.st_mode & 0o777 == 0o755)
        #expect(lstat(root + "/etc", &st) == 0 && st.st_mtim.tv_sec == 1_700_000_000)
        let env = readText(root + "/.singularity.d/env/10-docker2singularity.sh") ?? ""
        #expect(env.contains("export PATH='/opt/bin:/bin'"))
        #expect(env.contains("export GREETING='it'\\''s $HOME'"))
        let run = readText(root + "/.singularity.d/runscript") ?? ""
        #expect(run.contains("set -- '/bin/sh' '-c' 'echo hi'"))
        #expect(run.contains("exec \"$@\""))
    }

    @Test("a symlinked /etc or /.singularity.d is never followed")
    func symlinks() throws {
        let base = temporaryDirectory()
        let root = base + "/rootfs"
        try FS.makeDirectories(root)
        try FS.makeDirectories(base + "/outside")
        try FS.symlink(target: base + "/outside", at: root + "/etc")
        try FS.symlink(target: base + "/outside", at: root + "/.singularity.d")
        try ApptainerFiles.add(root: root, config: nil)
        #expect(FS.list(base + "/outside").isEmpty)
        #expect(FS.readLink(root + "/etc") == base + "/outside")
    }

    @Test("runscript: ENTRYPOINT with arguments or CMD")
    func runscript() {
        let both = ApptainerFiles.runscript(entrypoint: ["/entry", "a b"], cmd: ["--flag"])
        #expect(both.contains("if [ $# -eq 0 ]; then set -- '--flag'; fi"))
        #expect(both.contains("exec '/entry' 'a b' \"$@\""))
        #expect(ApptainerFiles.runscript(entrypoint: [], cmd: []).contains("exec /bin/sh \"$@\""))
    }
}

/// The `-o` options of `mount` (what `mount -t cvmfs` and autofs pass):
/// `config=FILE[:FILE...]`, `debug`, options that mean nothing to this
/// client, and the rest, which go to FUSE.
struct MountOptionList {
    /// `config=`: the only configuration files to read, in order.
    var configFiles: [String]?
    /// `debug`: libfuse logs every request.
    var debug = false
    /// Everything else, for the FUSE mount.
    var fuseOptions: [String] = []

    /// `arguments` are the `-o` values, each comma-separated; an option
    /// named in `ignored` (alone or as `name=value`) is dropped.
    init(_ arguments: [String], ignoring ignored: [String]) {
        for option in arguments.flatMap({ $0.split(separator: ",").map(String.init) }) {
            if option.hasPrefix("config=") {
                configFiles = option.dropFirst("config=".count).split(separator: ":").map(String.init)
            } else if option == "debug" {
                debug = true
            } else if !ignored.contains(where: { option == $0 || option.hasPrefix($0 + "=") }) {
                fuseOptions.append(option)
            }
        }
    }
}

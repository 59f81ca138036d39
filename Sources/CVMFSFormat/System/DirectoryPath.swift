import Glibc

public enum DirectoryPath {
    /// Creates `path` and every missing folder above it (`mkdir -p`), new
    /// ones with `mode`; returns what failed, naming the folder, or nil.
    public static func create(_ path: String, mode: mode_t = 0o755) -> String? {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, mode) != 0 && errno != EEXIST {
                return "cannot create \(current): \(errnoText())"
            }
        }
        return nil
    }
}

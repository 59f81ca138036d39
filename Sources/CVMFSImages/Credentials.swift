import Glibc

/// Registry credentials from the environment, as `cvmfs_ducc` reads them:
/// `DUCC_AUTH_REGISTRIES=R1,R2`, then `DUCC_<R>_IDENT` (registry host), `DUCC_<R>_USER`
/// and `DUCC_<R>_PASS` for each.
public struct Credentials: Sendable {
    public var user: String
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    public static func fromEnvironment(registry: String) -> Credentials? {
        guard let list = env("DUCC_AUTH_REGISTRIES") else { return nil }
        for name in list.split(separator: ",").map({ String($0).trimmingSpaces }) where !name.isEmpty {
            let key = name.uppercased()
            guard env("DUCC_\(key)_IDENT") == registry, let user = env("DUCC_\(key)_USER"),
                  let password = env("DUCC_\(key)_PASS") else { continue }
            return Credentials(user: user, password: password)
        }
        return nil
    }

    private static func env(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    var basicHeader: String {
        "Authorization: Basic " + Base64.encode(Array("\(user):\(password)".utf8))
    }
}

enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out = [UInt8]()
        var i = 0
        while i < bytes.count {
            let b0 = Int(bytes[i]), b1 = i + 1 < bytes.count ? Int(bytes[i + 1]) : 0, b2 = i + 2 < bytes.count ? Int(bytes[i + 2]) : 0
            out.append(table[b0 >> 2])
            out.append(table[((b0 & 3) << 4) | (b1 >> 4)])
            out.append(i + 1 < bytes.count ? table[((b1 & 15) << 2) | (b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? table[b2 & 63] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

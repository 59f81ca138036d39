import Glibc

/// One parser under fuzzing. `run` takes any bytes and must neither crash, hang nor leak;
/// it traps (through ``FuzzCheck/require(_:_:file:line:)``) when an invariant of the
/// parsed value does not hold.
struct Harness: Sendable {
    let name: String
    /// What the harness feeds and into which entry points (printed by `cvmfs-fuzz list`).
    let summary: String
    let run: @Sendable ([UInt8]) -> Void
}

enum Harnesses {
    static let all: [Harness] = [
        manifestHarness, whitelistHarness, letterHarness, certificateHarness, catalogHarness,
        objectHarness, configHarness, recipeHarness, imageHarness, tarHarness, cachedbHarness, profileHarness,
    ]

    static func named(_ name: String) -> Harness? { all.first { $0.name == name } }
}

enum FuzzCheck {
    /// Traps with `message` when `condition` is false: libFuzzer records the input as a crash.
    static func require(_ condition: Bool, _ message: @autoclosure () -> String,
                        file: StaticString = #fileID, line: UInt = #line) {
        if !condition { fatalError("invariant broken: \(message())", file: file, line: line) }
    }
}

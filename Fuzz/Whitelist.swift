import CVMFSFormat

/// `.cvmfswhitelist` payloads: `Whitelist(parsing:)`, the expiry check, and the fingerprint
/// lines: each parsed fingerprint, written the way the server writes it, reads back the same.
let whitelistHarness = Harness(
    name: "whitelist",
    summary: "Whitelist(parsing:), isValid(at:), fingerprint line round trip"
) { bytes in
    guard let list = try? Whitelist(parsing: bytes) else { return }
    _ = list.isValid(at: Fixture.now)
    FuzzCheck.require(WhitelistTimestamp(digits: list.expires.digits) == list.expires,
                      "expiry \(list.expires.digits) does not read back")
    for fingerprint in list.fingerprints {
        let line = Whitelist.fingerprintLine(fingerprint)
        FuzzCheck.require(Whitelist.parseFingerprint(line) == fingerprint, "fingerprint line '\(line)' does not read back")
    }
}

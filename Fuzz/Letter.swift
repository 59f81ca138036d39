import CVMFSFormat

/// Signed letters and the client's trust chain (`ManifestVerifier`, with the upstream
/// fixture's master key, whitelist and certificate). The first byte picks what the rest is:
/// - 0: a whole manifest letter, verified against the fixture whitelist and certificate;
/// - 1: a whole whitelist letter, verified with the fixture manifest and certificate;
/// - 2, 3: a manifest (2) or whitelist (3) payload, then after the first `\n--\n`-free
///   split the signature: the harness writes the correct hash line between them, so that
///   inputs get past the payload hash into the name, root path, timestamp and RSA checks;
/// - otherwise: `Letter(parsing:)` alone, as either document.
let letterHarness = Harness(
    name: "letter",
    summary: "Letter(parsing:) and ManifestVerifier.checkManifest/verify on the fixture's keys"
) { bytes in
    guard let mode = bytes.first else { return }
    let rest = Array(bytes.dropFirst())
    let verifier = LetterContext.verifier
    switch mode {
    case 0:
        verify(verifier, manifest: rest, whitelist: Fixture.whitelist)
    case 1:
        verify(verifier, manifest: Fixture.manifest, whitelist: rest)
    case 2, 3:
        // Payload up to the first 0xFF byte, signature after it.
        let cut = rest.firstIndex(of: 0xFF) ?? rest.endIndex
        var payload = Array(rest[..<cut])
        if payload.last != 0x0A { payload.append(0x0A) }
        let signature = cut < rest.endIndex ? Array(rest[(cut + 1)...]) : []
        let algorithm = HashAlgorithm.allCases[Int(payload.count % HashAlgorithm.allCases.count)]
        guard let letter = try? Letter.make(payload: payload, algorithm: algorithm, sign: { _ in signature }) else {
            FuzzCheck.require(false, "Letter.make refused a payload")
            return
        }
        if let parsed = try? Letter(parsing: letter, document: mode == 2 ? .manifest : .whitelist) {
            // The payload may itself hold "\n--\n": then the letter ends earlier, but never later.
            FuzzCheck.require(parsed.payload.count <= payload.count, "letter payload grew")
        }
        if mode == 2 {
            verify(verifier, manifest: letter, whitelist: Fixture.whitelist)
        } else {
            verify(verifier, manifest: Fixture.manifest, whitelist: letter)
        }
    default:
        for document in [SignedDocument.manifest, .whitelist] {
            guard let letter = try? Letter(parsing: rest, document: document) else { continue }
            FuzzCheck.require(letter.payload.last == 0x0A, "letter payload does not end in a newline")
            FuzzCheck.require(letter.payload.count + 3 + letter.hashLine.count + 1 + letter.signature.count == rest.count,
                              "letter parts do not add up to the input")
        }
    }
}

private func verify(_ verifier: ManifestVerifier, manifest: [UInt8], whitelist: [UInt8]) {
    _ = try? verifier.checkManifest(manifest)
    let verified = try? verifier.verify(manifest: manifest, whitelist: whitelist, certificate: Fixture.certificate, now: Fixture.now)
    if let verified, manifest != Fixture.manifest {
        // Only the fixture's own manifest carries a valid signature; anything else verifying
        // means a forgery got through (or the fuzzer found the signed bytes' equivalent).
        FuzzCheck.require(verified == (try? Manifest(parsing: Fixture.manifest)), "a manifest other than the signed one verified")
    }
}

private enum LetterContext {
    static let verifier: ManifestVerifier = {
        let key = try! RSAPublicKey(pem: Fixture.masterKey, source: "fixture master key")
        let verifier = ManifestVerifier(masterKeys: [key], fqrn: Fixture.fqrn)
        // The fixture must verify, or every other verdict means nothing.
        _ = try! verifier.verify(manifest: Fixture.manifest, whitelist: Fixture.whitelist,
                                 certificate: Fixture.certificate, now: Fixture.now)
        return verifier
    }()
}

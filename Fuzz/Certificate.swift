import CVMFSFormat

/// Certificates and public keys as PEM and DER (`Certificate(pem:)`, `Certificate(der:)`,
/// `RSAPublicKey(pem:)`). A parsed certificate's DER and PEM, when OpenSSL reads its own
/// encoding back, parse again to the same DER, and its public key and fingerprints can be taken.
let certificateHarness = Harness(
    name: "certificate",
    summary: "Certificate(pem:)/(der:), RSAPublicKey(pem:), DER/PEM round trips"
) { bytes in
    for certificate in [try? Certificate(pem: bytes), try? Certificate(der: bytes)] {
        guard let certificate else { continue }
        let der = certificate.der
        // OpenSSL keeps what it does not know as it read it but writes some of it back
        // otherwise: an algorithm's parameters (ASN1_ANY) of `20 00` (a constructed
        // universal 0, "EOC") come out as `00 00`, which d2i_X509 then refuses
        // (regressions/certificate/algorithm-parameters-constructed-eoc). So the DER of a
        // parsed certificate need not parse again; when it does, it must be a fixed point.
        if let again = try? Certificate(der: der) {
            FuzzCheck.require(again.der == der, "a certificate's DER does not parse to the same DER")
            FuzzCheck.require((try? Certificate(pem: certificate.pem()))?.der == der, "a certificate's PEM does not parse to the same DER")
        }
        for algorithm in HashAlgorithm.allCases { _ = certificate.fingerprint(algorithm: algorithm) }
        if let key = try? certificate.publicKey() { _ = key.modulusBytes }
    }
    // OpenSSL's PEM reader (the decoder's and the legacy one) looks for a "-----BEGIN " line
    // and refuses anything without one, but `PEM_read_bio_PUBKEY` first builds a decoder
    // context over every provider (about 80 % of this harness's time under ASan), so inputs
    // that cannot be PEM skip it: no outcome changes.
    if mayBePEM(bytes), let key = try? RSAPublicKey(pem: bytes) {
        let pem = key.pem()
        FuzzCheck.require((try? RSAPublicKey(pem: pem))?.pem() == pem, "a public key's PEM does not parse to the same PEM")
        _ = key.verifyRecover(signature: Array(bytes.prefix(key.modulusBytes)))
    }
}

/// Whether `bytes` hold "-----BEGIN " anywhere.
private func mayBePEM(_ bytes: [UInt8]) -> Bool {
    let begin = Array("-----BEGIN ".utf8)
    guard bytes.count >= begin.count else { return false }
    return bytes.withUnsafeBufferPointer { buffer in
        (0...(buffer.count - begin.count)).contains { start in
            buffer[start] == begin[0] && buffer[start..<(start + begin.count)].elementsEqual(begin)
        }
    }
}

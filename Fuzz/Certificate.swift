import CVMFSFormat

/// Certificates and public keys as PEM and DER (`Certificate(pem:)`, `Certificate(der:)`,
/// `RSAPublicKey(pem:)`). A parsed certificate's DER and PEM parse again to the same DER, and
/// its public key and fingerprints can be taken.
let certificateHarness = Harness(
    name: "certificate",
    summary: "Certificate(pem:)/(der:), RSAPublicKey(pem:), DER/PEM round trips"
) { bytes in
    for certificate in [try? Certificate(pem: bytes), try? Certificate(der: bytes)] {
        guard let certificate else { continue }
        let der = certificate.der
        FuzzCheck.require((try? Certificate(der: der))?.der == der, "a certificate's DER does not parse to the same DER")
        FuzzCheck.require((try? Certificate(pem: certificate.pem()))?.der == der, "a certificate's PEM does not parse to the same DER")
        for algorithm in HashAlgorithm.allCases { _ = certificate.fingerprint(algorithm: algorithm) }
        if let key = try? certificate.publicKey() { _ = key.modulusBytes }
    }
    if let key = try? RSAPublicKey(pem: bytes) {
        let pem = key.pem()
        FuzzCheck.require((try? RSAPublicKey(pem: pem))?.pem() == pem, "a public key's PEM does not parse to the same PEM")
        _ = key.verifyRecover(signature: Array(bytes.prefix(key.modulusBytes)))
    }
}

import Foundation
import JWTKit
import KoerierConfig
import KoerierSecurity

/// Checks the bearer JWT a FHIR client (ZorgDomein) sends: a configured issuer, signed with
/// that issuer's key in one of its allowed algorithms (never `none`, never an HMAC, so a
/// public key can never be used as a shared secret), for our audience, not expired, and
/// sent over a connection whose TLS client certificate is the issuer's own.
///
/// Tokens are not single-use: a bearer token may be sent again until it expires (OAuth
/// practice; ZorgDomein's token reuse is not documented), so a `jti` replay check could
/// refuse the real client. A copied token is useless instead because it is bound to the
/// issuer's client certificate, whose key the copier lacks.
public struct BearerCheck: Sendable {
    struct Issuer: Sendable {
        let name: String
        let audience: String
        /// A collection per allowed algorithm, each holding this issuer's key.
        let keys: [String: JWTKeyCollection]
        /// Subject and issuer of the certificate its TLS client presents (a renewed
        /// certificate from the same CA keeps both).
        let clientSubject: String
        let clientIssuer: String
    }

    let issuers: [String: Issuer]
    let leeway: TimeInterval

    /// Why a token was refused: a short rule and a sentence, never the token itself; 401
    /// for a token that proves nothing, 403 for a valid one on the wrong connection.
    public struct Refusal: Error, Sendable, Equatable {
        public let rule: String
        public let message: String
        public var status = 401
    }

    public static func load(_ settings: KoerierConfiguration.FHIRIntakeSettings) async throws -> BearerCheck {
        var issuers: [String: Issuer] = [:]
        for issuer in settings.issuers {
            guard let pem = FileManager.default.contents(atPath: issuer.key.path) else {
                throw ConfigError(file: issuer.key.path, line: nil, message: "cannot read the JWT issuer key of '\(issuer.issuer)'")
            }
            var keys: [String: JWTKeyCollection] = [:]
            for algorithm in issuer.algorithms {
                // One collection per algorithm, its key the default: the token's own `kid`
                // never chooses a key.
                let collection = JWTKeyCollection()
                keys[algorithm] = collection
                do {
                    switch algorithm {
                    case "ES256": await collection.add(ecdsa: try ES256PublicKey(pem: pem))
                    case "ES384": await collection.add(ecdsa: try ES384PublicKey(pem: pem))
                    case "RS256", "RS384", "RS512":
                        let digest: DigestAlgorithm = algorithm == "RS256" ? .sha256 : (algorithm == "RS384" ? .sha384 : .sha512)
                        await collection.add(rsa: try Insecure.RSA.PublicKey(pem: pem), digestAlgorithm: digest)
                    default:
                        throw ConfigError(file: issuer.key.path, line: nil, message: "JWT algorithm \(algorithm) is not supported")
                    }
                } catch let error as ConfigError {
                    throw error
                } catch {
                    throw ConfigError(
                        file: issuer.key.path, line: nil, message: "not a \(algorithm) public key (PEM) for '\(issuer.issuer)'")
                }
            }
            guard let data = FileManager.default.contents(atPath: issuer.clientCertificate.path),
                let client = Certificate.loadPEM(data).first
            else {
                throw ConfigError(
                    file: issuer.clientCertificate.path, line: nil,
                    message: "cannot read the TLS client certificate (PEM) of JWT issuer '\(issuer.issuer)'")
            }
            issuers[issuer.issuer] = Issuer(
                name: issuer.issuer, audience: issuer.audience, keys: keys, clientSubject: client.subject, clientIssuer: client.issuer)
        }
        return BearerCheck(issuers: issuers, leeway: TimeInterval(settings.leewaySeconds))
    }

    struct Claims: JWTPayload {
        let iss: IssuerClaim
        let aud: AudienceClaim
        let exp: ExpirationClaim
        let nbf: NotBeforeClaim?
        let iat: IssuedAtClaim?
        /// Checked by `BearerCheck` itself, with its leeway and its issuer's audience.
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// The issuer the token proves, or why it proves nothing. `clientCertificateDER`: the
    /// connection's TLS client certificate (its chain already verified by the listener).
    public func check(authorization: String?, clientCertificateDER: Data?, now: Date = Date()) async throws(Refusal) -> String {
        guard let authorization, authorization.count <= 8192 else {
            throw Refusal(rule: "jwt-missing", message: "an Authorization: Bearer token is required")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Refusal(rule: "jwt-missing", message: "an Authorization: Bearer token is required")
        }
        let token = String(parts[1]).trimmingCharacters(in: .whitespaces)
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3, let header = Self.json(segments[0]), let body = Self.json(segments[1]) else {
            throw Refusal(rule: "jwt-malformed", message: "the bearer token is not a signed JWT (three base64url parts)")
        }
        guard let algorithm = header["alg"] as? String else { throw Refusal(rule: "jwt-malformed", message: "the JWT header has no alg") }
        guard let name = body["iss"] as? String, let issuer = issuers[name] else {
            throw Refusal(rule: "jwt-issuer", message: "the JWT's issuer is not configured in serve.fhir.issuers")
        }
        guard let keys = issuer.keys[algorithm] else {
            throw Refusal(rule: "jwt-algorithm", message: "the JWT's algorithm is not one this issuer may use")
        }
        let claims: Claims
        do {
            let key = try await keys.getKey()
            let signingInput = Array(token.utf8.prefix(segments[0].utf8.count + 1 + segments[1].utf8.count))
            guard let signature = Self.base64URL(segments[2]), (try? key.verify(signature, signs: signingInput)) == true else {
                throw Refusal(rule: "jwt-signature", message: "the JWT's signature does not verify with the issuer's key")
            }
            claims = try DefaultJWTParser().parse([UInt8](token.utf8), as: Claims.self).payload
        } catch let refusal as Refusal {
            throw refusal
        } catch {
            throw Refusal(rule: "jwt-claims", message: "the JWT lacks iss, aud or exp, or they are malformed")
        }
        guard claims.iss.value == issuer.name else { throw Refusal(rule: "jwt-issuer", message: "the JWT's issuer does not match") }
        guard claims.aud.value.contains(issuer.audience) else {
            throw Refusal(rule: "jwt-audience", message: "the JWT is meant for another audience")
        }
        guard claims.exp.value.addingTimeInterval(leeway) > now else {
            throw Refusal(rule: "jwt-expired", message: "the JWT has expired")
        }
        if let notBefore = claims.nbf?.value, notBefore.addingTimeInterval(-leeway) > now {
            throw Refusal(rule: "jwt-not-yet-valid", message: "the JWT is not valid yet")
        }
        guard let der = clientCertificateDER, let client = Certificate.parsedOnce(der: der),
            client.subject == issuer.clientSubject, client.issuer == issuer.clientIssuer
        else {
            throw Refusal(
                rule: "jwt-client-binding", message: "the TLS client certificate is not the one configured for the JWT's issuer",
                status: 403)
        }
        return issuer.name
    }

    private static func json(_ segment: Substring) -> [String: Any]? {
        guard let data = base64URL(segment) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    private static func base64URL(_ segment: Substring) -> Data? {
        guard segment.count <= 8192 else { return nil }
        var text = segment.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        return Data(base64Encoded: text)
    }
}

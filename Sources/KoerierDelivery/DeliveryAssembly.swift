import Foundation
import KoerierConfig
import KoerierSecurity
import KoerierStore
import KoerierXML

/// Builds a delivery worker's parts from the configuration: directory, identity, trust,
/// transports and policy. Every missing piece is reported before anything is leased.
public enum DeliveryAssembly {
    public static func parts(configuration: KoerierConfiguration, store: any MessageStore, codec: MessageCodec) throws
        -> DeliveryWorker.Parts
    {
        guard let identity = configuration.identity else {
            throw DeliveryFailure("\(configuration.file.path): 'identity' (key, certificate, chain) is needed to deliver")
        }
        guard let anchors = configuration.trustAnchors else {
            throw DeliveryFailure("\(configuration.file.path): 'trust.anchors' is needed to check receipts")
        }
        let directory = try RecipientDirectory.load(file: configuration.recipientsFile)
        if configuration.delivery.ediAddress == nil,
            let entry = directory.recipients.values.first(where: { if case .medvri = $0.format { return true } else { return false } })
        {
            throw DeliveryFailure(
                "\(configuration.file.path): recipient '\(entry.id)' takes MEDVRI: 'delivery.edi_address' (this centre's EDI address) is needed"
            )
        }
        let signingIdentity = try SigningIdentity(keyFile: identity.key, certificateFile: identity.certificate, chainFile: identity.chain)
        let signing = MessageSigning(codec: codec, signer: Signer(identity: signingIdentity))
        let verifier = SignatureVerifier(
            trust: try TrustStore(anchorsFile: anchors, crlFile: configuration.crl),
            identities: IdentityPolicy(testMode: configuration.testMode))
        func read(_ url: URL) throws -> Data {
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw DeliveryFailure("\(url.path): cannot read the file")
            }
            return data
        }
        let mailSigner = try SMIMESigner(
            keyPEM: try read(identity.smime.key), certificatePEM: try read(identity.smime.certificate),
            chainPEM: try identity.smime.chain.map(read))
        let credentials = ClientCredentials(
            certificateChain: try clientChainFile(
                certificate: try read(identity.tls.certificate), chain: try identity.tls.chain.map(read), next: configuration.storePath),
            key: identity.tls.key)
        let timeouts = TransportTimeouts(
            connect: configuration.delivery.connectTimeoutSeconds, total: configuration.delivery.totalTimeoutSeconds)
        let receipts = ReceiptCheck(codec: codec, verifier: verifier)
        let channels = ChannelSet(
            https: HTTPSTransport(credentials: credentials, timeouts: timeouts),
            smtp: SMTPTransport(mailFrom: configuration.delivery.mailFrom, timeouts: timeouts), receipts: receipts,
            mailSigner: mailSigner, mailFrom: configuration.delivery.mailFrom)
        return DeliveryWorker.Parts(
            store: store, directory: directory, codec: codec, adapters: AdapterSet(signing: signing, formats: formatter(configuration)),
            channels: channels,
            receipts: receipts, policy: RetryPolicy(configuration.delivery))
    }

    /// What `enqueue` needs to prepare each recipient's copy: this gateway's signer, if it has one.
    public static func letterQueue(configuration: KoerierConfiguration, codec: MessageCodec) throws -> LetterQueue {
        guard let identity = configuration.identity else { return LetterQueue(adapters: nil) }
        let signingIdentity = try SigningIdentity(keyFile: identity.key, certificateFile: identity.certificate, chainFile: identity.chain)
        return LetterQueue(
            adapters: AdapterSet(
                signing: MessageSigning(codec: codec, signer: Signer(identity: signingIdentity)), formats: formatter(configuration)))
    }

    static func formatter(_ configuration: KoerierConfiguration) -> LetterFormatter {
        LetterFormatter(ediSender: configuration.delivery.ediAddress)
    }

    public static func worker(configuration: KoerierConfiguration, parts: DeliveryWorker.Parts, owner: String) -> DeliveryWorker {
        let delivery = configuration.delivery
        return DeliveryWorker(
            parts: parts, owner: owner,
            settings: DeliveryWorker.Settings(
                leaseDuration: TimeInterval(delivery.leaseSeconds), circuitFailures: delivery.circuitFailures,
                circuitMaximumBackoff: TimeInterval(delivery.circuitPauseSeconds),
                drainTimeout: TimeInterval(min(delivery.totalTimeoutSeconds, 30))))
    }

    /// This gateway's TLS certificate followed by its intermediates, as one PEM file.
    public static func clientChainFile(configuration: KoerierConfiguration) throws -> URL {
        guard let tls = configuration.identity?.tls, let certificate = FileManager.default.contents(atPath: tls.certificate.path)
        else {
            throw DeliveryFailure("\(configuration.file.path): cannot read the TLS certificate ('identity.tls' or 'identity')")
        }
        let chain = tls.chain.flatMap { FileManager.default.contents(atPath: $0.path) }
        return try clientChainFile(certificate: certificate, chain: chain, next: configuration.storePath)
    }

    /// libcurl reads the client certificate and its intermediates from one PEM file; it is
    /// written next to the store (certificates only, no key).
    static func clientChainFile(certificate: Data, chain: Data?, next store: URL) throws -> URL {
        let file = store.deletingLastPathComponent().appendingPathComponent("tls-client-chain.pem")
        var bundle = certificate
        if let chain {
            if bundle.last != 0x0a { bundle.append(0x0a) }
            bundle.append(chain)
        }
        if FileManager.default.contents(atPath: file.path) != bundle {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try bundle.write(to: file, options: .atomic)
        }
        return file
    }
}

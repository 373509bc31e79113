// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Koerier",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "koerier", targets: ["koerier"]),
        .executable(name: "koerier-bench", targets: ["koerier-bench"]),
        // libFuzzer harnesses, one static library each: `.ci/fuzz` builds them with
        // -sanitize=fuzzer,address and links each by hand, since SwiftPM's own `main`
        // would replace libFuzzer's. Nothing ships them.
        .library(name: "KoerierFuzzParse", type: .static, targets: ["KoerierFuzzParse"]),
        .library(name: "KoerierFuzzVerify", type: .static, targets: ["KoerierFuzzVerify"]),
        .library(name: "KoerierFuzzIntake", type: .static, targets: ["KoerierFuzzIntake"]),
        .library(name: "KoerierFuzzFHIR", type: .static, targets: ["KoerierFuzzFHIR"]),
        .library(name: "KoerierFuzzMEDVRI", type: .static, targets: ["KoerierFuzzMEDVRI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
    ],
    targets: [
        // Thin C module reaching libxml2 and libxmlsec1 (OpenSSL back end). One module for
        // both: xmlsec's headers include libxml2's, and two modules would each own the
        // libxml2 types. pkg-config passes xmlsec's defines to the Clang importer.
        .systemLibrary(
            name: "CXMLSec",
            pkgConfig: "xmlsec1-openssl",
            providers: [.apt(["libxml2-dev", "libxmlsec1-dev", "libssl-dev"])]
        ),
        // Thin C module reaching libcurl; shim.h wraps the variadic curl_easy_setopt.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // Message types and identifiers. Pure Swift, depends on nothing.
        .target(name: "KoerierModel"),
        // Hardened parsing, XSD validation, model <-> XML.
        .target(name: "KoerierXML", dependencies: ["KoerierModel", "CXMLSec"]),
        // XML Signature (libxmlsec1), certificate checks and trust (OpenSSL).
        .target(name: "KoerierSecurity", dependencies: ["KoerierModel", "KoerierXML", "CXMLSec"]),
        // The durable queues on SQLite (GRDB) or, for several daemons, PostgreSQL (postgres-nio);
        // payloads encrypted at rest (swift-crypto).
        .target(
            name: "KoerierStore",
            dependencies: [
                "KoerierModel",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Delivery: the recipient directory, one adapter per recipient type (what it may
        // see), HTTPS and SMTP transports on libcurl, retry policy, the worker.
        .target(
            name: "KoerierDelivery",
            dependencies: [
                "KoerierModel", "KoerierXML", "KoerierSecurity", "KoerierStore", "KoerierConfig", "KoerierEDIFACT", "KoerierFHIR",
                "CCurl", .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        // The letter workflow both the CLI and the daemon use: phase completion (the return
        // letter to the GP and the copies consent allows), intake processing, phase reports.
        .target(
            name: "KoerierWorkflow",
            dependencies: [
                "KoerierModel", "KoerierXML", "KoerierSecurity", "KoerierStore", "KoerierDelivery", "KoerierConfig", "KoerierFHIR",
            ]),
        // `koerier serve`: the inbound HTTPS listener (Hummingbird, mutual TLS).
        .target(
            name: "KoerierServer",
            dependencies: [
                "KoerierModel", "KoerierXML", "KoerierSecurity", "KoerierStore", "KoerierDelivery", "KoerierConfig", "KoerierWorkflow",
                "KoerierFHIR", "KoerierRender", .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // The YAML configuration every command and the daemon read.
        .target(name: "KoerierConfig", dependencies: [.product(name: "Yams", package: "Yams")]),
        // Human-readable letters (text / HTML) with Dutch labels.
        .target(name: "KoerierRender", dependencies: ["KoerierModel"]),
        // The Dutch medical EDIFACT dialect: a return letter as a MEDVRI interchange, and the
        // reader and checks that prove what we write. Pure Swift (no libxml2), beside KoerierXML.
        .target(name: "KoerierEDIFACT", dependencies: ["KoerierModel", "KoerierRender"]),
        // FHIR STU3 JSON: ZorgDomein-style referral Bundles in (mapped to the model), return
        // letters out as document Bundles, OperationOutcomes for refusals. Pure Swift.
        .target(
            name: "KoerierFHIR",
            dependencies: ["KoerierModel", "KoerierRender", .product(name: "Crypto", package: "swift-crypto")]),
        // What both executables share: --config, clear one-line failures, exit codes.
        .target(
            name: "KoerierCommandLine",
            dependencies: [
                "KoerierConfig", "KoerierModel", "KoerierXML", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // The one shipped binary: a thin CLI over the modules.
        .executableTarget(
            name: "koerier",
            dependencies: [
                "KoerierModel", "KoerierXML", "KoerierSecurity", "KoerierStore", "KoerierConfig", "KoerierRender",
                "KoerierDelivery", "KoerierWorkflow", "KoerierServer", "KoerierCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // jemalloc (Debian libjemalloc-dev) replaces glibc malloc for the whole process:
            // libxml2 allocates a node per element, and glibc's malloc/free were the largest
            // cost in parsing; a long-running daemon also fragments less with it.
            linkerSettings: [.linkedLibrary("jemalloc")]
        ),
        // The benchmarks and the peers they drive, outside the shipped binary.
        .executableTarget(
            name: "koerier-bench",
            dependencies: [
                "KoerierModel", "KoerierXML", "KoerierSecurity", "KoerierStore", "KoerierConfig", "KoerierDelivery",
                "KoerierWorkflow", "KoerierServer", "KoerierCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "JWTKit", package: "jwt-kit"), .product(name: "Logging", package: "swift-log"),
            ],
            linkerSettings: [.linkedLibrary("jemalloc")]
        ),
        // Helpers shared by the test targets: repository paths, the invalid-sample table,
        // a process runner, model fixtures. Never linked into the product.
        .target(name: "KoerierTestSupport", dependencies: ["KoerierModel"], path: "Tests/Support"),
        .target(name: "KoerierFuzzParse", dependencies: ["KoerierXML"], path: "Tests/Fuzz/Parse"),
        .target(name: "KoerierFuzzVerify", dependencies: ["KoerierXML", "KoerierSecurity"], path: "Tests/Fuzz/Verify"),
        .target(
            name: "KoerierFuzzIntake",
            dependencies: ["KoerierXML", "KoerierSecurity", "KoerierStore", "KoerierDelivery", "KoerierWorkflow", "KoerierServer"],
            path: "Tests/Fuzz/Intake"),
        .target(name: "KoerierFuzzFHIR", dependencies: ["KoerierFHIR", "KoerierModel"], path: "Tests/Fuzz/FHIR"),
        .target(name: "KoerierFuzzMEDVRI", dependencies: ["KoerierEDIFACT", "KoerierModel"], path: "Tests/Fuzz/MEDVRI"),
        .testTarget(name: "KoerierModelTests", dependencies: ["KoerierModel", "KoerierTestSupport"]),
        .testTarget(name: "KoerierEDIFACTTests", dependencies: ["KoerierEDIFACT", "KoerierModel", "KoerierTestSupport"]),
        .testTarget(name: "KoerierFHIRTests", dependencies: ["KoerierFHIR", "KoerierModel", "KoerierTestSupport"]),
        .testTarget(name: "KoerierXMLTests", dependencies: ["KoerierXML", "KoerierModel", "KoerierRender", "KoerierTestSupport"]),
        // Test-only producer that the crash test kills with SIGKILL.
        .executableTarget(name: "KoerierCrashProducer", dependencies: ["KoerierStore", "KoerierModel"], path: "Tests/CrashProducer"),
        .testTarget(
            name: "KoerierStoreTests", dependencies: ["KoerierStore", "KoerierModel", "KoerierTestSupport", "KoerierCrashProducer"]),
        .testTarget(name: "KoerierSecurityTests", dependencies: ["KoerierSecurity", "KoerierXML", "KoerierModel", "KoerierTestSupport"]),
        .testTarget(
            name: "KoerierDeliveryTests",
            dependencies: [
                "koerier", "KoerierDelivery", "KoerierServer", "KoerierWorkflow", "KoerierStore", "KoerierSecurity", "KoerierXML",
                "KoerierModel", "KoerierConfig", "KoerierEDIFACT", "KoerierFHIR",
                "KoerierTestSupport",
            ]),
        .testTarget(
            name: "KoerierCLITests",
            dependencies: [
                "koerier", "koerier-bench", "KoerierConfig", "KoerierXML", "KoerierSecurity", "KoerierStore", "KoerierModel",
                "KoerierTestSupport",
            ]),
    ]
)

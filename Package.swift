// swift-tools-version:6.1
import PackageDescription

// Layers point one way: a module may import the ones listed before it, never one after.
// C libraries stay behind their wrapper module (CPostgres → ReelDB, CCurl → ReelHTTP,
// CFFmpeg and CFreeType → ReelRender, CSystemd → ReelSystemd).
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "reeld",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "reeld", targets: ["reeld"]),
        .executable(name: "reelctl", targets: ["reelctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // C wrappers: module map + shim header, nothing else.
        .systemLibrary(name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(
            name: "CFFmpeg", pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavfilter-dev", "libswscale-dev", "libswresample-dev"])]
        ),
        // FreeType, to measure overlay text as libavfilter's drawtext lays it out; behind ReelRender too.
        .systemLibrary(name: "CFreeType", pkgConfig: "freetype2", providers: [.apt(["libfreetype-dev"])]),
        // fsetxattr, which Swift's Glibc module does not export (glibc itself, no library to link).
        .systemLibrary(name: "CXattr"),

        .target(name: "ReelCore", swiftSettings: strict),
        // The release number and the build's commit, for `reeld --version` and `reelctl --version`.
        .target(name: "ReelVersion", swiftSettings: strict),
        // The one bounded thread pool for work that blocks (libpq, libav, file hashing).
        .target(name: "ReelBlocking", swiftSettings: strict),
        .target(
            name: "ReelDB",
            dependencies: [
                "ReelCore", "ReelBlocking", "CPostgres", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // A throwaway PostgreSQL for the demo, the benchmarks and the tests; never production's.
        .target(name: "ReelLocalCluster", dependencies: ["ReelDB"], swiftSettings: strict),
        .target(
            name: "ReelQueue",
            dependencies: [
                "ReelCore", "ReelDB", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // libav: probe, synthesise, encode, mux, render. Before ReelProviders because the
        // offline `local` provider makes its media with it.
        .target(name: "ReelRender", dependencies: ["ReelCore", "ReelBlocking", "CFFmpeg", "CFreeType"], swiftSettings: strict),
        // libcurl: async requests and streamed downloads with limits, for the provider adapters.
        .target(
            name: "ReelHTTP",
            dependencies: [
                "ReelCore", "CCurl", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // A small HTTP/1.1 server on loopback sockets for ReelHTTP's tests and `reeld bench
        // providers` (which starts its own); under Tests/ because nothing in production serves through it.
        .target(name: "ReelLoopbackHTTP", path: "Tests/ReelLoopbackHTTP", swiftSettings: strict),
        .target(name: "ReelProviders", dependencies: ["ReelCore", "ReelBlocking", "ReelRender", "ReelHTTP", .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),
        .target(
            name: "ReelStorage",
            dependencies: ["ReelCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(
            name: "ReelIntake",
            dependencies: ["ReelCore", "CXattr", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(name: "ReelSystemd", dependencies: ["CSystemd", .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        // reeld.toml: types, loading, validation and reload rules; shared by reeld and reelctl.
        .target(
            name: "ReelConfig",
            dependencies: [
                "ReelCore", "ReelQueue", .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strict
        ),
        // The studio's tables and the handlers of each job kind: store, workflow engine, generation, render.
        .target(
            name: "ReelStudio",
            dependencies: [
                "ReelCore", "ReelBlocking", "ReelDB", "ReelQueue", "ReelProviders", "ReelRender", "ReelStorage",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Wiring only: a node's services (worker, intake, status, reload) built from the configuration.
        .target(
            name: "ReelDaemon",
            dependencies: [
                "ReelCore", "ReelBlocking", "ReelDB", "ReelQueue", "ReelHTTP", "ReelProviders", "ReelIntake", "ReelSystemd", "ReelConfig", "ReelStudio",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // `reeld demo` and `reeld bench`: they start throwaway databases and whole nodes.
        .target(
            name: "ReelBench",
            dependencies: [
                "ReelCore", "ReelDB", "ReelLocalCluster", "ReelQueue", "ReelRender", "ReelConfig", "ReelDaemon", "ReelHTTP", "ReelLoopbackHTTP",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // `reeld render`: a timeline file rendered in the process, no database, no daemon.
        .target(
            name: "ReelFileRender",
            dependencies: [
                "ReelCore", "ReelBlocking", "ReelRender",
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "reeld",
            dependencies: [
                "ReelDaemon", "ReelConfig", "ReelBench", "ReelFileRender", "ReelLocalCluster", "ReelDB", "ReelSystemd", "ReelVersion",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "reelctl",
            dependencies: ["ReelCore", "ReelDB", "ReelQueue", "ReelIntake", "ReelConfig", "ReelVersion", .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),

        // Test-only: the spool crash tests run the real spool path in this process and SIGKILL it
        // at each checkpoint (see its main.swift). Built with the tests, never installed.
        .executableTarget(
            name: "SpoolCrashDriver",
            dependencies: ["ReelDaemon", "ReelDB", "ReelIntake", "ReelQueue", .product(name: "Logging", package: "swift-log")],
            path: "Tests/SpoolCrashDriver",
            swiftSettings: strict
        ),
        // Local servers that speak each provider's documented wire format, for the adapters' tests
        // and the end-to-end tests that run whole nodes against them.
        .target(name: "ReelProviderFakes", dependencies: ["ReelCore", "ReelLoopbackHTTP", .product(name: "Crypto", package: "swift-crypto")], path: "Tests/ReelProviderFakes", swiftSettings: strict),
        .target(name: "ReelTestSupport", dependencies: ["ReelCore", "ReelDB", "ReelLocalCluster"], path: "Tests/ReelTestSupport", swiftSettings: strict),
        .testTarget(name: "ReelCoreTests", dependencies: ["ReelCore"], swiftSettings: strict),
        .testTarget(name: "ReelDBTests", dependencies: ["ReelDB", "ReelTestSupport", .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        .testTarget(name: "ReelQueueTests", dependencies: ["ReelQueue", "ReelTestSupport"], swiftSettings: strict),
        .testTarget(name: "ReelRenderTests", dependencies: ["ReelRender", "ReelBlocking"], swiftSettings: strict),
        .testTarget(name: "ReelFileRenderTests", dependencies: ["ReelFileRender"], swiftSettings: strict),
        .testTarget(name: "ReelBlockingTests", dependencies: ["ReelBlocking"], swiftSettings: strict),
        .testTarget(
            name: "ReelHTTPTests",
            dependencies: [
                "ReelHTTP", "ReelLoopbackHTTP", "ReelCore", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "ReelProvidersTests", dependencies: ["ReelProviders", "ReelRender", "ReelHTTP", "ReelLoopbackHTTP", "ReelProviderFakes"], swiftSettings: strict),
        .testTarget(name: "ReelIntakeTests", dependencies: ["ReelIntake", "ReelTestSupport"], swiftSettings: strict),
        .testTarget(name: "ReelConfigTests", dependencies: ["ReelConfig", "ReelCore", "ReelQueue"], swiftSettings: strict),
        .testTarget(
            name: "ReelStudioTests",
            dependencies: [
                "ReelStudio", "ReelCore", "ReelDB", "ReelRender", "ReelTestSupport", "ReelQueue", "ReelStorage", "ReelBlocking",
                "ReelProviders", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ReelDaemonTests",
            dependencies: [
                "ReelDaemon", "ReelCore", "ReelConfig", "ReelDB", "ReelLocalCluster", "ReelQueue", "ReelIntake", "ReelRender", "ReelSystemd", "ReelHTTP", "ReelBlocking",
                "ReelTestSupport", "ReelVersion", "ReelProviderFakes", "ReelLoopbackHTTP",
            ],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)

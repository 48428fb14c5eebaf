// swift-tools-version:6.0
// srgan-dist: data-parallel SRGAN training on CPU clusters.
//
// Layers of the package, lowest first (a target only imports targets above it in this list):
//   C edges      CBLAS, CMPI, CLZ4, CLibPNG, CLibJPEG, CZlib, CLibDeflate (system libraries found by pkg-config),
//                CPNGShim and CJPEGShim (libpng's and libjpeg's setjmp error handling, which Swift
//                cannot express), CKernels (hot kernels compiled once per vector ISA, chosen at
//                start-up)
//   SRCore       tensors, parameter memory, kernels, layers, losses, Adam
//   SRData       PNG decode/encode, JPEG decode, bicubic resize, shard files, packer, streaming reader
//   SRModels     generator, its global skip and output range (SuperResolver), discriminator, VGG19
//                features, safetensors model files
//   SRDistributed  Communicator: MPI and single-process
//   SRTrain      config, content losses, training step, trainer, validation, metrics logs
//   SRServe      serve's routes, upload checks and workers (Hummingbird)
//   srgan-dist   the command line (one file per subcommand)
//   srgan-fuzz   libFuzzer harnesses for the parsers of outside bytes
//   srgan-bench  srgan-dist next to PyTorch and a Python data pipeline (the project's benchmarks)
import PackageDescription

let package = Package(
    name: "srgan-dist",
    products: [
        .executable(name: "srgan-dist", targets: ["srgan-dist"]),
        .executable(name: "srgan-fuzz", targets: ["srgan-fuzz"]),
        .executable(name: "srgan-bench", targets: ["srgan-bench"]),
        .library(name: "SRCore", targets: ["SRCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        // C edges: module maps and static-inline shims only.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4",
                       providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CLibPNG", pkgConfig: "libpng16",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLibDeflate", pkgConfig: "libdeflate",
                       providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CLibJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg62-turbo-dev"])]),
        .target(name: "CPNGShim", dependencies: ["CLibPNG"]),
        .target(name: "CJPEGShim", dependencies: ["CLibJPEG"]),
        // srgan-dist's own hot kernels, one C source compiled per x86 vector ISA, chosen at start-up.
        .target(name: "CKernels"),

        // Numeric core.
        .target(name: "SRCore", dependencies: ["CBLAS", "CKernels"]),

        // Data: PNG, JPEG, MATLAB-style bicubic, shard format, packer, streaming reader.
        .target(name: "SRData", dependencies: ["SRCore", "CPNGShim", "CJPEGShim", "CLZ4", "CZlib", "CLibDeflate"]),

        // Networks, the generator's global skip (bicubic from SRData), model files (safetensors), VGG19 features.
        .target(name: "SRModels", dependencies: ["SRCore", "SRData"]),

        // Distributed: one communicator interface, MPI and single-process implementations.
        .target(name: "SRDistributed", dependencies: ["CMPI"]),

        // Training: config and presets, content losses, the step, the trainer, validation, logs.
        .target(name: "SRTrain", dependencies: ["SRCore", "SRModels", "SRData", "SRDistributed",
                                                .product(name: "Yams", package: "Yams")]),

        // serve's routes, upload checking and workers (a library, so the fuzzing harness drives them).
        .target(name: "SRServe", dependencies: ["SRTrain", "SRData", .product(name: "Hummingbird", package: "hummingbird")]),

        // The command line.
        .executableTarget(
            name: "srgan-dist",
            dependencies: [
                "SRCore",
                "SRModels",
                "SRTrain",
                "SRData",
                "SRDistributed",
                "SRServe",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]),

        // Fuzzing harnesses for every parser of outside bytes (docs/fuzzing.md, scripts/fuzz.sh).
        .executableTarget(name: "srgan-fuzz", dependencies: ["SRModels", "SRData", "SRTrain", "SRServe"]),
        // The comparison harness: srgan-dist's node benchmarks beside the peers (docs/benchmarks.md).
        .executableTarget(
            name: "srgan-bench",
            dependencies: ["SRCore", "SRData", "SRTrain", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        .testTarget(name: "SRCoreTests", dependencies: ["SRCore", "CKernels"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "SRModelsTests", dependencies: ["SRModels"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "SRDataTests", dependencies: ["SRData", "CPNGShim", "CJPEGShim", "CZlib"], exclude: ["Fixtures"]),
        .testTarget(name: "SRTrainTests", dependencies: ["SRTrain", "SRData"], exclude: ["Fixtures"]),
        .testTarget(name: "CEdgesTests", dependencies: ["CMPI", "CLZ4", "CPNGShim", "CBLAS"]),
        // Runs the release binary; depends on the executable so it is built first.
        .testTarget(name: "CLITests", dependencies: ["srgan-dist", "srgan-fuzz", "srgan-bench", "CPNGShim", "SRData"]),
    ],
    swiftLanguageModes: [.v5]
)

// The options every command that uses a trained generator shares (validate, upscale, serve).

import ArgumentParser
import Foundation
import SRCore
import SRTrain

struct ModelOptions: ParsableArguments {
    @Option(help: "A run folder (its newest complete checkpoint), a checkpoint folder, or a generator .safetensors file.")
    var checkpoint: String

    @Flag(help: "Use the EMA generator of the run or checkpoint.")
    var ema = false

    @Option(help: "BLAS threads for the generator (default: every core).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Sets the BLAS threads and loads the generator; damaged newer checkpoints are reported on stderr.
    func load() throws -> TrainedModel {
        BLASThreads.set(threads ?? ProcessInfo.processInfo.activeProcessorCount)
        return try TrainedModel.load(checkpoint, ema: ema, warn: { FileHandle.standardError.write(Data("\($0)\n".utf8)) })
    }
}

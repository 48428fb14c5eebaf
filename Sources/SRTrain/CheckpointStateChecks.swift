// A checkpoint's state.json is outside input like any other file: a hand edit, a bit flip with a
// COMPLETE rewritten to match, or another program's file. Every number is checked before the
// trainer uses it (docs/checkpoint-format.md lists the ranges).

import Foundation
import SRData

extension CheckpointState {
    /// The largest step or Adam step count a state may hold (68 years at a step a second).
    public static let largestStep = Int(Int32.max)
    /// The largest stream offset (items of all ranks): far beyond any real run, far from the
    /// integer limits arithmetic on it meets.
    public static let largestCount = 1 << 48

    /// The keys whose values are integers (for naming the one that is not).
    public static let integerKeys: Set<String> = ["format_version", "step", "generator_adam_steps", "discriminator_adam_steps", "stream_offset",
                                                  "rank_stream_offsets", "world_size", "batch", "accumulate", "patch_size",
                                                  "skipped_steps", "consecutive_skips"]

    /// The first field out of range, as "key: value (what it must be)"; nil when all are fine.
    public var problem: String? {
        let limit = Self.largestCount
        func count(_ key: String, _ value: Int, _ range: ClosedRange<Int>, _ what: String) -> String? {
            range.contains(value) ? nil : "\(key) is \(value) (\(what))"
        }
        func rate(_ key: String, _ value: Double?) -> String? {
            guard let value else { return nil }
            return value.isFinite && value >= 0 ? nil : "\(key) is \(value) (a finite learning rate >= 0)"
        }
        let checks: [String?] = [
            count("format_version", formatVersion, 1...Self.currentFormatVersion, "1 to \(Self.currentFormatVersion)"),
            count("step", step, 0...Self.largestStep, "0 to \(Self.largestStep)"),
            count("stream_offset", streamOffset, 0...limit, "0 to \(limit)"),
            count("world_size", worldSize, 1...65536, "1 to 65536 ranks"),
            rankStreamOffsets.count == worldSize ? nil
                : "rank_stream_offsets has \(rankStreamOffsets.count) entries for world_size \(worldSize) (one per rank)",
            rankStreamOffsets.first(where: { !(0...limit).contains($0) }).map { "rank_stream_offsets holds \($0) (0 to \(limit))" },
            count("batch", batch, 1...65536, "1 to 65536"),
            count("accumulate", accumulate, 1...65536, "1 to 65536"),
            count("patch_size", patchSize, 1...65536, "1 to 65536"),
            count("generator_adam_steps", generatorAdamSteps, 0...Self.largestStep, "0 to \(Self.largestStep)"),
            discriminatorAdamSteps.flatMap { count("discriminator_adam_steps", $0, 0...Self.largestStep, "0 to \(Self.largestStep)") },
            count("skipped_steps", skippedSteps, 0...max(step, 0), "0 to the step, \(step)"),
            count("consecutive_skips", consecutiveSkips, 0...max(skippedSteps, 0), "0 to skipped_steps, \(skippedSteps)"),
            rate("generator_lr", generatorLR),
            rate("discriminator_lr", discriminatorLR),
            validationPSNR.flatMap { $0.isFinite ? nil : "validation_psnr is \($0) (a finite number)" },
        ]
        return checks.compactMap { $0 }.first
    }
}

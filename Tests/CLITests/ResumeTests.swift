// Checkpoints, exact resume and faults, through the release binary: real ranks under mpirun,
// real signals (SIGTERM, SIGKILL, SIGSTOP), a real full file system (tmpfs), real files.

import Foundation
import XCTest

/// A srgan-dist (or mpirun) process running in the background, its output going to files.
final class Background {
    let process = Process()
    let outputPath: String
    let errorPath: String

    init(_ executable: String, _ arguments: [String], logs: String) throws {
        outputPath = logs + ".out"
        errorPath = logs + ".err"
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = childEnvironment
        process.standardOutput = FileHandle(forWritingAtPath: outputPath)
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        try process.run()
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    var error: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// Waits up to `seconds` for the process to end; true if it did.
    func waitForExit(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        return !process.isRunning
    }

    /// The srgan-dist processes mpirun started, by MPI rank.
    func ranks() -> [Int: Int32] {
        var found: [Int: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8),
                  status.contains("PPid:\t\(process.processIdentifier)\n"),
                  let environment = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { continue }
            for variable in environment.split(separator: 0) {
                let text = String(decoding: variable, as: UTF8.self)
                if text.hasPrefix("OMPI_COMM_WORLD_RANK="), let rank = Int(text.dropFirst(21)) { found[rank] = pid }
            }
        }
        return found
    }

    deinit { if process.isRunning { process.terminate() } }
}

/// Polls `condition` for up to `seconds`.
func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}

/// The raw bytes of every tensor of a safetensors file (of one dtype, if given), by name.
func tensorBytes(_ path: String, dtype: String? = nil) throws -> [String: Data] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
    var header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
    header["__metadata__"] = nil
    return header.compactMapValues { value in
        let entry = value as! [String: Any]
        if let dtype, entry["dtype"] as? String != dtype { return nil }
        let offsets = (entry["data_offsets"] as! [NSNumber]).map(\.intValue)
        return data.subdata(in: (8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1]))
    }
}

/// `srgan-dist ARGS` under `mpirun -n 2` in the background.
func mpirunInBackground(_ arguments: [String], logs: String) throws -> Background {
    try Background("/usr/bin/env", ["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", "2", "-x", "OPENBLAS_NUM_THREADS=1",
                                    srganDistBinary] + arguments, logs: logs)
}

/// The losses a run logged, per step (the speed column left out).
func loggedLosses(_ run: String) throws -> [Int: [String: Double]] {
    var losses: [Int: [String: Double]] = [:]
    for line in try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n") {
        let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        guard record["kind"] as? String == "train", let step = record["step"] as? Int else { continue }
        losses[step] = record.filter { $0.key.hasSuffix("loss") || $0.key.hasPrefix("d_") }.mapValues { ($0 as! NSNumber).doubleValue }
    }
    return losses
}

func checkpointFolder(_ run: String, _ step: Int) -> String { run + "/checkpoints/" + String(format: "step-%08d", step) }

final class ResumeTests: XCTestCase {
    static var work = ""

    override class func setUp() {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-resume-\(getpid())").path
        try? FileManager.default.removeItem(atPath: work)
        let pack = try! runSRGANDist(["pack", "--input", repository.appendingPathComponent("samples/photos").path,
                                      "--output", work + "/packed", "--patch-size", "48", "--stride", "96", "--val-images", "2"])
        precondition(pack.status == 0, pack.error)
    }

    override class func tearDown() { try? FileManager.default.removeItem(atPath: work) }

    /// The tiny GAN phase with EMA: every kind of state a checkpoint holds.
    var common: [String] {
        ["train", "--preset", "tiny", "--phase", "gan", "--data", Self.work + "/packed", "--val", Self.work + "/packed",
         "--batch", "2", "--seed", "11", "--ema", "0.9", "--log-every", "1", "--validate-every", "3", "--watchdog", "120"]
    }

    /// Same tensors, byte for byte, in the same files of two checkpoints.
    func assertSameState(_ a: String, _ b: String, files: [String] = ["generator", "generator_ema", "discriminator", "training"],
                         file: StaticString = #filePath, line: UInt = #line) throws {
        for name in files {
            let x = try tensorBytes("\(a)/\(name).safetensors"), y = try tensorBytes("\(b)/\(name).safetensors")
            XCTAssertFalse(x.isEmpty, name, file: file, line: line)
            XCTAssertEqual(Set(x.keys), Set(y.keys), name, file: file, line: line)
            for (key, bytes) in x where bytes != y[key] { XCTFail("\(name): \(key) differs between \(a) and \(b)", file: file, line: line) }
        }
    }

    func exactResume(ranks: Int, tag: String, extra: [String] = []) throws {
        let run = { (arguments: [String]) throws -> CommandResult in
            ranks == 1 ? try runSRGANDist(arguments) : try runUnderMPI(ranks: ranks, arguments)
        }
        let straight = Self.work + "/straight-\(tag)", split = Self.work + "/split-\(tag)"
        let whole = try run(common + extra + ["--steps", "6", "--checkpoint-every", "3", "--run", straight])
        XCTAssertEqual(whole.status, 0, whole.error)
        let first = try run(common + extra + ["--steps", "3", "--run", split])
        XCTAssertEqual(first.status, 0, first.error)
        let second = try run(["train", "--resume", "--run", split, "--steps", "6"])
        XCTAssertEqual(second.status, 0, second.error)
        XCTAssertTrue(second.output.contains("resuming from \(checkpointFolder(split, 3))"), second.output)
        try assertSameState(checkpointFolder(straight, 6), checkpointFolder(split, 6))
        let a = try loggedLosses(straight), b = try loggedLosses(split)
        XCTAssertEqual(a.keys.sorted(), Array(1...6))
        XCTAssertEqual(a, b)
        // Step, stream position and the optimizer's step count agree too.
        let state = { (run: String) throws -> [String: Any] in
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: checkpointFolder(run, 6) + "/state.json"))) as! [String: Any]
        }
        for key in ["step", "stream_offset", "rank_stream_offsets", "generator_adam_steps", "discriminator_adam_steps"] {
            XCTAssertEqual("\(try state(straight)[key]!)", "\(try state(split)[key]!)", key)
        }
    }

    func testExactResumeOnOneProcess() throws { try exactResume(ranks: 1, tag: "one") }

    /// A bf16 run (its products on AVX512-BF16) resumes exactly too, and resumes in fp32 and back
    /// (checkpoints are fp32 whatever the precision), each change noted.
    func testExactResumeInBF16AndResumingInTheOtherPrecision() throws {
        let probe = try runSRGANDist(["bench", "step", "--phase", "srresnet", "--network", "tiny", "--batch", "1", "--patch", "16",
                                      "--steps", "1", "--threads", "1", "--precision", "bf16"])
        if probe.status != 0 && probe.error.contains("bf16 products") {
            throw XCTSkip("this process cannot compute bf16 products: \(probe.error)")
        }
        XCTAssertEqual(probe.status, 0, probe.error)
        try exactResume(ranks: 1, tag: "bf16", extra: ["--precision", "bf16"])
        let split = Self.work + "/split-bf16"
        XCTAssertTrue(try String(contentsOfFile: split + "/config.yaml", encoding: .utf8).contains("precision: bf16"))
        let fp32 = try runSRGANDist(["train", "--resume", "--run", split, "--steps", "7", "--precision", "fp32"])
        XCTAssertEqual(fp32.status, 0, fp32.error)
        XCTAssertTrue(fp32.output.contains("precision bf16 -> fp32"), fp32.output)
        let back = try runSRGANDist(["train", "--resume", "--run", split, "--steps", "8", "--precision", "bf16"])
        XCTAssertEqual(back.status, 0, back.error)
        XCTAssertTrue(back.output.contains("precision fp32 -> bf16") && back.output.contains("products: bf16"), back.output)
        XCTAssertTrue(back.output.contains("gan step 8/8"), back.output)
        // bf16 is not fp32: the straight fp32 run's step-6 generator differs from the bf16 one's.
        let fp32Run = Self.work + "/straight-fp32-beside-bf16"
        let straight = try runSRGANDist(common + ["--steps", "6", "--checkpoint-every", "3", "--run", fp32Run])
        XCTAssertEqual(straight.status, 0, straight.error)
        let bf16G = try tensorBytes(checkpointFolder(Self.work + "/straight-bf16", 6) + "/generator.safetensors")
        let fp32G = try tensorBytes(checkpointFolder(fp32Run, 6) + "/generator.safetensors")
        XCTAssertNotEqual(bf16G, fp32G, "the bf16 run computed fp32's numbers")
    }

    func testExactResumeUnderMPIWithTwoRanks() throws {
        try exactResume(ranks: 2, tag: "two")
        // Another number of ranks: the stream is re-partitioned, documented as not bit-exact.
        let one = try runSRGANDist(["train", "--resume", "--run", Self.work + "/split-two", "--steps", "8"])
        XCTAssertEqual(one.status, 0, one.error)
        XCTAssertTrue(one.output.contains("the checkpoint was written by 2 rank(s), this run has 1"), one.output)
        XCTAssertTrue(one.output.contains("gan step 8/8"), one.output)
    }

    /// SIGTERM: a checkpoint at the step boundary, exit 75 (stopped with a checkpoint), and the
    /// resumed run equals a straight one.
    func testSIGTERMCheckpointsExitsStoppedAndResumesExactly() throws {
        let run = Self.work + "/sigterm"
        let job = try Background(srganDistBinary, common + ["--steps", "100000", "--checkpoint-every", "100000", "--run", run], logs: run)
        XCTAssertTrue(eventually(60) { job.output.contains("gan step 5/") }, job.output + job.error)
        kill(job.process.processIdentifier, SIGTERM)
        XCTAssertTrue(job.waitForExit(seconds: 60))
        XCTAssertEqual(job.process.terminationStatus, 75, job.error)
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/checkpoints/" +
            (try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints").first { $0.hasPrefix("step-") }!) + "/state.json"))) as! [String: Any]
        XCTAssertEqual(state["reason"] as? String, "signal")
        let stopped = state["step"] as! Int
        XCTAssertTrue(job.output.contains("stopped by a signal after step \(stopped)"), job.output)
        let resumed = try runSRGANDist(["train", "--resume", "--run", run, "--steps", "\(stopped + 2)"])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        let straight = try runSRGANDist(common + ["--steps", "\(stopped + 2)", "--run", Self.work + "/sigterm-straight"])
        XCTAssertEqual(straight.status, 0, straight.error)
        try assertSameState(checkpointFolder(run, stopped + 2), checkpointFolder(Self.work + "/sigterm-straight", stopped + 2))
    }

    /// Under mpirun, SIGTERM to every rank (what Slurm does) stops both at the same step; mpirun
    /// exits 75 like the ranks (stopped with a checkpoint).
    func testSIGTERMToEveryRankUnderMPIStopsAtTheSameStep() throws {
        let run = Self.work + "/sigterm-mpi"
        let job = try mpirunInBackground(common + ["--steps", "100000", "--checkpoint-every", "100000", "--run", run], logs: run)
        XCTAssertTrue(eventually(60) { job.output.contains("gan step 5/") }, job.output + job.error)
        let ranks = job.ranks()
        XCTAssertEqual(ranks.count, 2)
        kill(ranks[1]!, SIGTERM)  // one rank first: the other must stop at the same step all the same
        usleep(200_000)
        kill(ranks[0]!, SIGTERM)
        XCTAssertTrue(job.waitForExit(seconds: 60))
        XCTAssertEqual(job.process.terminationStatus, 75, job.error)
        XCTAssertTrue(job.output.contains("(signal) ->"), job.output)
        let listed = try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints").filter { $0.hasPrefix("step-") }
        XCTAssertEqual(listed.count, 1)
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(run)/checkpoints/\(listed[0])/state.json"))) as! [String: Any]
        let offsets = state["rank_stream_offsets"] as! [Int]
        XCTAssertEqual(offsets.count, 2)
        XCTAssertEqual(Set(offsets).count, 1, "both ranks stopped at the same step")
    }

    /// kill -9 of one rank ends the job promptly; resuming from the last complete checkpoint then
    /// gives the uninterrupted run's weights bit for bit.
    func testKillingOneRankEndsTheJobAndResumeIsExact() throws {
        let run = Self.work + "/killed"
        let job = try mpirunInBackground(common + ["--steps", "100000", "--checkpoint-every", "4", "--run", run], logs: run)
        XCTAssertTrue(eventually(90) { FileManager.default.fileExists(atPath: checkpointFolder(run, 4) + "/COMPLETE") }, job.output + job.error)
        let ranks = job.ranks()
        XCTAssertEqual(ranks.count, 2)
        let killed = Date()
        kill(ranks[1]!, SIGKILL)
        XCTAssertTrue(job.waitForExit(seconds: 30), "the job did not end within 30 s of a rank's death")
        XCTAssertNotEqual(job.process.terminationStatus, 0)
        print("job ended \(String(format: "%.1f", Date().timeIntervalSince(killed))) s after kill -9 of rank 1")
        let complete = try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints")
            .filter { $0.hasPrefix("step-") && FileManager.default.fileExists(atPath: "\(run)/checkpoints/\($0)/COMPLETE") }
        let last = complete.compactMap { Int($0.dropFirst(5)) }.max() ?? -1
        XCTAssertGreaterThanOrEqual(last, 4)
        let finish = try runUnderMPI(ranks: 2, ["train", "--resume", "--run", run, "--steps", "\(last + 3)"])
        XCTAssertEqual(finish.status, 0, finish.error)
        XCTAssertTrue(finish.output.contains("resuming from \(checkpointFolder(run, last)): step \(last)"), finish.output)
        let straight = try runUnderMPI(ranks: 2, common + ["--steps", "\(last + 3)", "--run", Self.work + "/killed-straight"])
        XCTAssertEqual(straight.status, 0, straight.error)
        try assertSameState(checkpointFolder(run, last + 3), checkpointFolder(Self.work + "/killed-straight", last + 3))
    }

    /// kill -9 in the middle of a checkpoint write: the next start ignores the partial folder.
    func testKillDuringCheckpointWriteResumesFromThePreviousOne() throws {
        let run = Self.work + "/torn"
        let job = try Background(srganDistBinary, common + ["--steps", "100", "--checkpoint-every", "3", "--test-checkpoint-pause", "6:60", "--run", run], logs: run)
        let partial = { (try? FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints"))?.first { $0.hasPrefix(".step-00000006.partial") } }
        XCTAssertTrue(eventually(60) { partial().map { FileManager.default.fileExists(atPath: "\(run)/checkpoints/\($0)/generator.safetensors") } ?? false },
                      job.output + job.error)
        kill(job.process.processIdentifier, SIGKILL)
        XCTAssertTrue(job.waitForExit(seconds: 10))
        XCTAssertFalse(FileManager.default.fileExists(atPath: checkpointFolder(run, 6)))
        let resumed = try runSRGANDist(["train", "--resume", "--run", run, "--steps", "7", "--checkpoint-every", "100"])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        XCTAssertTrue(resumed.output.contains("resuming from \(checkpointFolder(run, 3)): step 3"), resumed.output)
        XCTAssertNil(partial(), "the torn folder is cleaned up by the next checkpoint")
    }

    /// A NaN in one rank's generator gradient: the step is skipped on both ranks (both networks
    /// and both optimizers exactly as before it), the run goes on.
    func testNaNInOneRanksGradientSkipsTheStepEverywhere() throws {
        let run = Self.work + "/nan"
        let result = try runUnderMPI(ranks: 2, common + ["--steps", "3", "--checkpoint-every", "1", "--keep-checkpoints", "5",
                                                         "--test-inject-nan", "2@1", "--check-replicas", "--run", run])
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertTrue(result.output.contains("step 2: skipped, a loss or the generator gradient was not finite on rank 1"), result.output)
        // EMA aside (it is not updated either, but compare what the issue names): weights and Adam state.
        try assertSameState(checkpointFolder(run, 1), checkpointFolder(run, 2), files: ["generator", "discriminator", "training"])
        let after = try tensorBytes(checkpointFolder(run, 3) + "/generator.safetensors")
        let before = try tensorBytes(checkpointFolder(run, 2) + "/generator.safetensors")
        XCTAssertNotEqual(after["body.0.conv1.weight"], before["body.0.conv1.weight"], "training went on after the skip")
        // Too many in a row stop the run with a clear message and the last checkpoint intact.
        let stop = try runUnderMPI(ranks: 2, common + ["--steps", "3", "--checkpoint-every", "1", "--test-inject-nan", "2@0",
                                                       "--max-consecutive-skips", "0", "--run", Self.work + "/nan-stop"])
        XCTAssertNotEqual(stop.status, 0)
        let errors = stop.error.split(separator: "\n").filter { $0.hasPrefix("error:") }
        XCTAssertEqual(errors.count, 1, stop.error)
        XCTAssertTrue(errors.first?.contains("the last checkpoint (\(checkpointFolder(Self.work + "/nan-stop", 1))) is intact") ?? false, stop.error)
    }

    /// A rank that stops responding (SIGSTOP) is named by the watchdog and the job ends.
    func testWatchdogNamesARankThatStoppedResponding() throws {
        let run = Self.work + "/hung"
        let job = try mpirunInBackground(common + ["--steps", "100000", "--watchdog", "3", "--run", run], logs: run)
        XCTAssertTrue(eventually(60) { job.output.contains("gan step 5/") }, job.output + job.error)
        let ranks = job.ranks()
        XCTAssertEqual(ranks.count, 2)
        kill(ranks[1]!, SIGSTOP)
        XCTAssertTrue(job.waitForExit(seconds: 40), "the watchdog did not end the job")
        XCTAssertNotEqual(job.process.terminationStatus, 0)
        XCTAssertTrue(job.error.contains("error: rank 1 stopped responding"), job.error)
    }

    /// A full disk: the failed checkpoint is reported, the previous one stays whole and loadable.
    func testDiskFullLeavesThePreviousCheckpointIntact() throws {
        let mountPoint = Self.work + "/small-disk"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mount = try runProgram("/usr/bin/env", ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mountPoint])
        guard mount.status == 0 else { throw XCTSkip("cannot mount a tmpfs here (needs root): \(mount.error)") }
        defer { _ = try? runProgram("/usr/bin/env", ["umount", mountPoint]) }
        let run = mountPoint + "/run"
        // The tiny srresnet phase writes about 2.1 MB per checkpoint: the first fits, the second does not.
        let result = try runSRGANDist(["train", "--preset", "tiny", "--data", Self.work + "/packed", "--batch", "2", "--steps", "4",
                                       "--checkpoint-every", "2", "--run", run])
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertTrue(result.error.contains("warning: checkpoint at step 4 not written: "), result.error)
        XCTAssertTrue(result.error.contains("No space left on device"), result.error)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints"), ["step-00000002"])
        let resumed = try runSRGANDist(["train", "--resume", "--run", run, "--steps", "2"])
        XCTAssertTrue(resumed.output.contains("resuming from \(checkpointFolder(run, 2)): step 2"), resumed.output + resumed.error)
        // Told to, the run stops instead.
        let strict = try runSRGANDist(["train", "--preset", "tiny", "--data", Self.work + "/packed", "--batch", "2", "--steps", "4",
                                       "--checkpoint-every", "2", "--stop-on-checkpoint-error", "--run", mountPoint + "/strict"])
        XCTAssertNotEqual(strict.status, 0)
        XCTAssertTrue(strict.error.contains("could not be written"), strict.error)
    }

    /// A damaged newest checkpoint is named and the one before it used; incompatible settings are refused.
    func testCorruptCheckpointFallsBackAndIncompatibleSettingsAreRefused() throws {
        let run = Self.work + "/damaged"
        let first = try runSRGANDist(["train", "--preset", "tiny", "--data", Self.work + "/packed", "--batch", "2", "--steps", "4",
                                      "--checkpoint-every", "2", "--run", run])
        XCTAssertEqual(first.status, 0, first.error)
        let victim = checkpointFolder(run, 4) + "/training.safetensors"
        let handle = FileHandle(forUpdatingAtPath: victim)!
        handle.seek(toFileOffset: 5000)
        let byte = handle.readData(ofLength: 1)
        handle.seek(toFileOffset: 5000)
        handle.write(Data([byte[0] ^ 0xFF]))
        try handle.close()
        // Named explicitly, the damaged one is refused.
        let named = try runSRGANDist(["train", "--resume-from", checkpointFolder(run, 4), "--steps", "5"])
        XCTAssertNotEqual(named.status, 0)
        XCTAssertTrue(named.error.contains("the file is corrupted"), named.error)
        // Found by --resume: named, skipped, the one before it used.
        let resumed = try runSRGANDist(["train", "--resume", "--run", run, "--steps", "4", "--checkpoint-every", "100"])
        XCTAssertTrue(resumed.error.contains("\(victim): CRC-32"), resumed.error)
        XCTAssertTrue(resumed.output.contains("resuming from \(checkpointFolder(run, 2)): step 2"), resumed.output)
        // Different networks or patches than the checkpoint's: refused, saying what differs, config.yaml untouched.
        try "generator:\n  channels: 16\n".write(toFile: Self.work + "/c16.yaml", atomically: true, encoding: .utf8)
        let before = try String(contentsOfFile: run + "/config.yaml", encoding: .utf8)
        let wider = try runSRGANDist(["train", "--resume", "--run", run, "--config", Self.work + "/c16.yaml", "--steps", "8"])
        XCTAssertNotEqual(wider.status, 0)
        XCTAssertTrue(wider.error.contains("generator.channels 16 here vs 32 in the checkpoint"), wider.error)
        XCTAssertEqual(try String(contentsOfFile: run + "/config.yaml", encoding: .utf8), before)
        let fresh = try runSRGANDist(["train", "--preset", "tiny", "--data", Self.work + "/packed", "--run", run])
        XCTAssertTrue(fresh.error.contains("add --resume"), fresh.error)
        let none = try runSRGANDist(["train", "--resume", "--run", Self.work + "/no-such-run"])
        XCTAssertTrue(none.error.contains("no such checkpoint or run folder"), none.error)
        for result in [named, wider, fresh, none] {
            XCTAssertEqual(result.error.split(separator: "\n").filter { $0.hasPrefix("error:") || $0.hasPrefix("Error:") }.count, 1, result.error)
        }
    }
}

// train's exit status says how the run ended (issue 18, finding 4): 0 finished, 75 stopped by a
// signal with a checkpoint, 1 failed; the same through mpirun. A resume to a --steps below the
// step already reached is refused.

import Foundation
import XCTest

final class HardeningTrainTests: XCTestCase {
    var common: [String] {
        ["train", "--preset", "tiny", "--data", HardeningFixture.packed, "--batch", "2", "--log-every", "1",
         "--steps", "100000", "--checkpoint-every", "100000", "--watchdog", "120"]
    }

    func testExitStatusTellsFinishedFromStoppedFromFailed() throws {
        let run = HardeningFixture.work + "/exit-sigint"
        try? FileManager.default.removeItem(atPath: run)
        let job = try Background(srganDistBinary, common + ["--run", run], logs: run)
        XCTAssertTrue(eventually(60) { job.output.contains("step 3/") }, job.output + job.error)
        kill(job.process.processIdentifier, SIGINT)
        XCTAssertTrue(job.waitForExit(seconds: 60))
        XCTAssertEqual(job.process.terminationStatus, 75, job.output + job.error)
        XCTAssertTrue(job.output.contains("stopped by a signal after step"), job.output)
        // Finished: 0. Failed: 1.
        let finished = try runSRGANDist(["train", "--preset", "tiny", "--data", HardeningFixture.packed, "--steps", "1", "--batch", "2",
                                         "--run", HardeningFixture.work + "/exit-finished"])
        XCTAssertEqual(finished.status, 0, finished.error)
        let failed = try runSRGANDist(["train", "--preset", "tiny", "--data", HardeningFixture.work + "/nothing-here", "--steps", "1",
                                       "--run", HardeningFixture.work + "/exit-failed"])
        XCTAssertEqual(failed.status, 1, failed.error)
    }

    func testMPIRunExitStatusSaysStoppedToo() throws {
        let run = HardeningFixture.work + "/exit-mpi"
        try? FileManager.default.removeItem(atPath: run)
        let job = try mpirunInBackground(common + ["--run", run], logs: run)
        XCTAssertTrue(eventually(90) { job.output.contains("step 3/") }, job.output + job.error)
        kill(job.process.processIdentifier, SIGUSR2)  // the clean stop through mpirun
        XCTAssertTrue(job.waitForExit(seconds: 90))
        XCTAssertEqual(job.process.terminationStatus, 75, job.output + job.error)
        XCTAssertTrue(job.output.contains("(signal) ->"), job.output)
        let finished = try runUnderMPI(ranks: 2, ["train", "--resume", "--run", run, "--steps", "\(try stoppedStep(run) + 1)"])
        XCTAssertEqual(finished.status, 0, finished.error)
    }

    func stoppedStep(_ run: String) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints").compactMap { $0.hasPrefix("step-") ? Int($0.dropFirst(5)) : nil }.max()!
    }

    func testResumeToAStepBelowTheReachedOneIsRefused() throws {
        let run = try HardeningFixture.copy(HardeningFixture.run, as: "below")
        let result = try runSRGANDist(["train", "--resume", "--run", run, "--steps", "4"])
        let line = oneErrorLine(result)
        XCTAssertTrue(line.contains("\(checkpointFolder(run, 6)): the run is already at step 6, past the target --steps 4"), line)
        XCTAssertTrue(line.contains("HINT: resume with --steps above 6"), line)
        XCTAssertFalse(result.output.contains("done:"), result.output)
        XCTAssertEqual(result.status, 1)
    }
}

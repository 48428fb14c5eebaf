// Signals a training run answers at the next step boundary, the same step on every rank (the
// trainer all-reduces the requests once per step):
//   SIGTERM, SIGINT, SIGUSR2  stop: write a checkpoint and exit 75 (TrainExitStatus). A second
//                             SIGINT quits at once (exit 130).
//   SIGUSR1                   write a checkpoint now and go on.
// Under mpirun: mpirun forwards SIGUSR1 and SIGUSR2 to every rank at once, so `kill -USR2 <mpirun>`
// is the clean stop (mpirun exits 75, the ranks' status). On SIGTERM/SIGINT mpirun itself sends the ranks SIGCONT,
// waits odls_base_sigkill_timeout seconds (default 1), sends SIGTERM, waits as long again, then
// SIGKILL: give it time for a step and a checkpoint (mpirun --mca odls_base_sigkill_timeout 120);
// mpirun then exits 1 although every rank stopped cleanly. Slurm signals the ranks directly.

import Foundation

/// What `srgan-dist train` exits with, so a script can tell a finished run from a stopped one
/// (docs/training.md). Command-line mistakes exit 64 (ArgumentParser's usage error).
public enum TrainExitStatus {
    /// Every step done, the final models written.
    public static let finished: Int32 = 0
    /// An error (the message says which); nothing after the last checkpoint is kept.
    public static let failed: Int32 = 1
    /// Stopped by SIGTERM, SIGINT or SIGUSR2 after writing a checkpoint: `--resume` continues.
    public static let stoppedWithCheckpoint: Int32 = 75
    /// A second SIGINT: quit at once, without a checkpoint.
    public static let quitWithoutCheckpoint: Int32 = 130
}

public final class StopSignals: @unchecked Sendable {
    public static let shared = StopSignals()
    private let lock = NSLock()
    private var stopSignal: Int32 = 0
    private var checkpointRequested = false
    private var sources: [DispatchSourceSignal] = []
    public var rank = 0

    /// Starts listening (idempotent).
    public func install() {
        lock.lock()
        defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for number in [SIGTERM, SIGINT, SIGUSR1, SIGUSR2] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [unowned self] in self.received(number) }
            source.resume()
            sources.append(source)
        }
    }

    private func received(_ number: Int32) {
        lock.lock()
        defer { lock.unlock() }
        let name = [SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGUSR1: "SIGUSR1", SIGUSR2: "SIGUSR2"][number] ?? "signal \(number)"
        if number == SIGUSR1 {
            checkpointRequested = true
            return
        }
        if stopSignal == SIGINT && number == SIGINT {
            FileHandle.standardError.write(Data("rank \(rank): SIGINT again: quitting without a checkpoint\n".utf8))
            _exit(TrainExitStatus.quitWithoutCheckpoint)
        }
        if stopSignal == 0 && rank == 0 {
            FileHandle.standardError.write(Data("\(name) received: stopping after this step with a checkpoint (SIGINT again to quit at once)\n".utf8))
        }
        if stopSignal == 0 { stopSignal = number }
    }

    /// The requests received since the last call: (stop, checkpoint).
    public func take() -> (stop: Bool, checkpoint: Bool) {
        lock.lock()
        defer { lock.unlock() }
        let result = (stopSignal != 0, checkpointRequested)
        checkpointRequested = false
        return result
    }
}

/// An error another rank has already explained to the user: the command exits non-zero without
/// printing it again.
public struct AlreadyReported: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "stopped (reported by rank 0)" }
}

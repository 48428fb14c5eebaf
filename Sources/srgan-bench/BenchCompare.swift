// `srgan-bench compare` (= `srgan-bench`): srgan-dist and the PyTorch peer side by side in one run,
// the paper's networks, same batch, patch and thread count. Every workload is measured in its own
// fresh process (so peak memory is that workload's), srgan-dist first, then the peer in its
// default layout and with channels_last; the table compares against the faster of the two.
// Raw sgemm (through the project's gemm wrapper) is measured in this process first, so achieved
// GFLOP/s can be read as a fraction of it. --json: srgan-dist alone, one JSON object.
// --precision bf16: srgan-dist's bf16 products beside PyTorch's bf16 autocast, both layouts again;
// where this process cannot compute bf16, srgan-dist's side is one line saying why.

import ArgumentParser
import Foundation
import SRCore

extension ProductPrecision: ExpressibleByArgument {}

struct BenchCompare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "srgan-dist next to PyTorch on the CPU: training steps, inference, data-parallel, memory (the default).",
        discussion: """
            Workloads: \(BenchWorkload.allCases.map(\.rawValue).joined(separator: ", ")) (default: \
            \(BenchWorkload.defaults.map(\.rawValue).joined(separator: ","))). Data-parallel workloads run srgan-dist under \
            mpirun (--ranks ranks x 1 thread) and the peer as PyTorch DDP with gloo, --batch split over the ranks. \
            --precision bf16 compares srgan-dist's bf16 products with PyTorch under torch.autocast bf16. \
            Run from the repository root (the peer scripts are in bench/peers/). docs/benchmarks.md explains the output.
            """)

    @Option(help: "Threads for both tools (single-process workloads).")
    var threads = 2

    @Option(help: "Steps (images for inference) per process; the first is excluded from the median.")
    var steps = 3

    @Option(help: "Images per training step (split over the ranks in data-parallel workloads).")
    var batch = 16

    @Option(help: "HR patch side (a multiple of 16).")
    var patch = 96

    @Option(help: "LR image side for inference (the output is 4x that).")
    var inferInput = 128

    @Option(help: "Ranks of the data-parallel workloads (1 thread each).")
    var ranks = 2

    @Option(help: "Comma-separated workloads to run: \(BenchWorkload.allCases.map(\.rawValue).joined(separator: ", ")).")
    var workloads = BenchWorkload.defaults.map(\.rawValue).joined(separator: ",")

    @Option(help: "Products in fp32, or bf16: srgan-dist's bf16 products (needs AVX512-BF16) beside PyTorch's torch.autocast bf16.")
    var precision: ProductPrecision = .fp32

    @Flag(help: "Measure srgan-dist only.")
    var skipPeer = false

    @Option(help: "Python with torch installed, for the peer.")
    var peerPython = ".venv-peer/bin/python"

    @Option(help: "Folder of the peer scripts.")
    var peerDir = "bench/peers"

    @Option(help: "Side of the square matrices of the raw sgemm measurement.")
    var gemmSize = 2048

    @Flag(help: "Print one JSON object of srgan-dist's figures (no peer run).")
    var json = false

    @Option(help: "Rounds of every workload (srgan-dist, then the peer, per workload and round); with more than one, a last table gives each workload's ratio per round and their median (this VM's speed drifts by up to 30% within minutes).")
    var rounds = 1

    func validate() throws {
        guard let selected = BenchWorkload.list(workloads) else {
            throw ValidationError("--workloads '\(workloads)': expected a comma-separated list of \(BenchWorkload.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard threads >= 1, steps >= 1, batch >= 1, inferInput >= 1, ranks >= 1, gemmSize >= 64 else {
            throw ValidationError("--threads, --steps, --batch, --infer-input and --ranks must be >= 1, --gemm-size >= 64")
        }
        guard patch >= 16, patch % 16 == 0 else { throw ValidationError("--patch must be a positive multiple of 16") }
        guard rounds >= 1, rounds == 1 || !json else { throw ValidationError("--rounds must be >= 1, and 1 with --json (srgan-dist's figures alone)") }
        if selected.contains(where: \.isDataParallel) && batch % ranks != 0 {
            throw ValidationError("--batch \(batch) does not split evenly over --ranks \(ranks)")
        }
    }

    /// What one workload measured: srgan-dist's child's JSON, the peer's (one per layout), and
    /// what went wrong.
    struct Outcome {
        let workload: BenchWorkload
        var own: [String: Any]?
        var peers: [[String: Any]] = []
        var notes: [String] = []
    }

    func run() throws {
        try ChildProcess.checkSRGANDist()
        let sizes = BenchSizes(threads: threads, steps: steps, batch: batch, patch: patch, inferInput: inferInput, ranks: ranks)
        let selected = BenchWorkload.list(workloads)!
        progress("sgemm \(gemmSize)^3 at \(threads) thread(s)")
        let sgemm = BLASThreads.withThreads(threads) { SGEMMRate.measure(size: gemmSize, repeats: 3) }
        var sgemmOneThread: Double?
        if selected.contains(where: \.isDataParallel) {
            progress("sgemm \(gemmSize)^3 at 1 thread (the ranks' share)")
            sgemmOneThread = threads == 1 ? sgemm : BLASThreads.withThreads(1) { SGEMMRate.measure(size: gemmSize, repeats: 3) }
        }
        var peerNote: String?
        var torchVersion: String?
        if !json && !skipPeer {
            (torchVersion, peerNote) = checkPeer()
            if let peerNote { FileHandle.standardError.write(Data("bench: \(peerNote)\n".utf8)) }
        }
        // srgan-dist's children inherit this process's CPU and SRGAN_DIST_ISA, so they would refuse too.
        let ownRefusal = precision == .bf16 ? BF16Products.refusal.map { "srgan-dist not run in bf16: \($0)" } : nil
        if let ownRefusal { FileHandle.standardError.write(Data("bench: \(ownRefusal)\n".utf8)) }
        var reports: [BenchCompareReport] = []
        for round in 1...rounds {
            if rounds > 1 { progress("round \(round) of \(rounds)") }
            let outcomes = measure(selected, sizes, own: ownRefusal == nil, peer: torchVersion != nil)
            let report = BenchCompareReport(sizes: sizes, precision: precision, sgemm: sgemm, sgemmOneThread: sgemmOneThread,
                                            gemmSize: gemmSize, torchVersion: torchVersion, ownRefusal: ownRefusal, outcomes: outcomes)
            if json {
                print(report.json())
            } else {
                if rounds > 1 { print("round \(round) of \(rounds):") }
                report.printTable()
                if let peerNote { print(peerNote) }
            }
            reports.append(report)
        }
        if rounds > 1 { BenchCompareReport.printRounds(reports) }
        if reports.contains(where: { $0.outcomes.contains { $0.own == nil } }) { throw ExitCode(1) }
    }

    /// One round: each workload by srgan-dist in a child process (unless not `own`), then by the
    /// peer in both layouts.
    private func measure(_ selected: [BenchWorkload], _ sizes: BenchSizes, own: Bool, peer: Bool) -> [Outcome] {
        var outcomes: [Outcome] = []
        let bf16 = precision == .fp32 ? "" : " \(precision.rawValue)"
        for workload in selected {
            var outcome = Outcome(workload: workload)
            if own {
                progress("srgan-dist\(bf16): \(workload.title(sizes))")
                let (executable, arguments) = workload.ownCommand(sizes, precision: precision, executable: ChildProcess.srganDist)
                do { outcome.own = try ChildProcess.json(executable, arguments) } catch {
                    outcome.notes.append("srgan-dist \(workload.rawValue) failed: \(error)"
                                         + (workload.isDataParallel ? ". HINT: mpirun (Open MPI) must be on PATH; try the command above by hand" : ""))
                }
            }
            if peer {
                let arguments = workload.peerArguments(sizes, precision: precision, peerDirectory: peerDir)
                for layout in [[], ["--channels-last"]] {
                    progress("PyTorch\(bf16)\(layout.isEmpty ? "" : " channels_last"): \(workload.title(sizes))")
                    do { outcome.peers.append(try ChildProcess.json(peerPython, arguments + layout)) } catch {
                        outcome.notes.append("PyTorch \(workload.rawValue)\(layout.isEmpty ? "" : " channels_last") failed: \(error)")
                    }
                }
            }
            outcomes.append(outcome)
        }
        return outcomes
    }

    private func progress(_ text: String) {
        FileHandle.standardError.write(Data("bench: measuring \(text)\n".utf8))
    }

    /// (torch's version, nil) when the peer can run; (nil, a one-line reason with a hint) when not.
    private func checkPeer() -> (String?, String?) {
        let missing = BenchWorkload.peerScripts.filter { !FileManager.default.fileExists(atPath: "\(peerDir)/\($0)") }
        guard missing.isEmpty else {
            return (nil, "peer not run: \(missing.map { "\(peerDir)/\($0)" }.joined(separator: ", ")) not found. "
                    + "HINT: run from the repository root, or pass --peer-dir bench/peers of a checkout")
        }
        guard FileManager.default.isExecutableFile(atPath: peerPython) else {
            return (nil, "peer not run: \(peerPython) not found. HINT: from the repository root, "
                    + "python3 -m venv .venv-peer && .venv-peer/bin/pip install torch numpy (or pass --peer-python, or --skip-peer)")
        }
        guard let version = try? ChildProcess.lines(peerPython, ["-c", "import torch; print(torch.__version__)"], quiet: true).last else {
            return (nil, "peer not run: \(peerPython) cannot import torch. HINT: \(peerPython) -m pip install torch numpy")
        }
        return (version, nil)
    }
}

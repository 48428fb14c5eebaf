// `srgan-dist bench allreduce`: how long the communicator takes to sum a gradient-sized buffer
// across ranks, through the same call the trainer makes (Communicator.allReduceSum). Run it under
// mpirun exactly like training; on one process every all-reduce is free. The default sizes are
// the paper's networks: the generator's parameter count (what the SRResNet phase reduces each
// step) and generator + discriminator (the GAN phase; VGG19 is frozen and never reduced).
//
// Each repeat starts after a barrier; its time is the slowest rank's. Reported per size: the
// median and the minimum over repeats, the algorithm bandwidth (bytes / time) and the bus
// bandwidth of a ring all-reduce (2 (p-1)/p x bytes / time, what each link carries).

import ArgumentParser
import Foundation
import SRDistributed
import SRModels

struct BenchAllReduce: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Time the all-reduce of gradient-sized float buffers across the ranks of an mpirun job.",
        discussion: """
            Example: mpirun -n 2 srgan-dist bench allreduce --repeats 20. Without --floats: the paper's \
            generator (about 1.55M floats) and generator + discriminator (about 25M floats).
            """)

    @Option(help: "Buffer size in floats (repeat the option for several sizes; default: the paper's G, then G + D).")
    var floats: [Int] = []

    @Option(help: "Timed all-reduces per size (the median and the minimum are reported).")
    var repeats = 10

    @Option(help: "Untimed all-reduces per size before timing.")
    var warmup = 2

    @Flag(help: "Print one JSON object per size instead of the table.")
    var json = false

    func validate() throws {
        guard repeats >= 1, warmup >= 0 else { throw ValidationError("--repeats must be >= 1 and --warmup >= 0") }
        guard floats.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--floats must be >= 1") }
    }

    /// (floats, what they stand for)
    static func paperSizes() -> [(Int, String)] {
        let generator = Generator(GeneratorConfig(), seed: 1).parameters.count
        let discriminator = Discriminator(DiscriminatorConfig(), seed: 2).parameters.count
        return [(generator, "paper G (SRResNet phase)"), (generator + discriminator, "paper G + D (GAN phase)")]
    }

    func run() throws {
        setvbuf(stdout, nil, _IOLBF, 0)
        let comm = try Launch.communicator()
        comm.watchdogSeconds = 0  // no heartbeat messages inside the timed region
        let sizes = floats.isEmpty ? Self.paperSizes() : floats.map { ($0, "") }
        if comm.isRoot && !json {
            let date = ISO8601DateFormatter().string(from: Date())
            print("srgan-dist bench allreduce, \(date), \(comm.size) rank(s), \(repeats) repeats after \(warmup) warm-up")
            if comm.size == 1 { print("note: one process: nothing to reduce; run it under mpirun -n N") }
            print("| floats | MB | median ms | min ms | algbw GB/s | busbw GB/s | what |")
            print("|---:|---:|---:|---:|---:|---:|---|")
        }
        for (count, label) in sizes {
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
            defer { buffer.deallocate() }
            buffer.initialize(repeating: Float(comm.rank + 1) * 1e-3, count: count)
            for _ in 0..<warmup { try comm.allReduceSum(buffer, count: count) }
            var seconds: [Double] = []
            for _ in 0..<repeats {
                try comm.barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                try comm.allReduceSum(buffer, count: count)
                seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            // Every repeat lasts as long as its slowest rank.
            let perRank = try comm.gather(seconds)
            let slowest = (0..<repeats).map { index in perRank.map { $0[index] }.max()! }.sorted()
            let median = slowest[slowest.count / 2], fastest = slowest[0]
            let bytes = Double(count * MemoryLayout<Float>.stride)
            let ringFactor = comm.size > 1 ? 2 * Double(comm.size - 1) / Double(comm.size) : 0
            let algorithmBandwidth = comm.size > 1 ? bytes / median / 1e9 : 0, busBandwidth = algorithmBandwidth * ringFactor
            guard comm.isRoot else { continue }
            if json {
                let fields: [(String, String)] = [
                    ("tool", "\"srgan-dist\""), ("bench", "\"allreduce\""), ("ranks", "\(comm.size)"), ("floats", "\(count)"),
                    ("bytes", "\(Int(bytes))"), ("median_ms", String(format: "%.3f", median * 1e3)),
                    ("min_ms", String(format: "%.3f", fastest * 1e3)), ("algbw_gb_s", String(format: "%.4f", algorithmBandwidth)),
                    ("busbw_gb_s", String(format: "%.4f", busBandwidth)), ("repeats", "\(repeats)"),
                ]
                print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
            } else {
                print(String(format: "| %d | %.2f | %.2f | %.2f | %.3f | %.3f | %@ |", count, bytes / 1e6, median * 1e3,
                             fastest * 1e3, algorithmBandwidth, busBandwidth, label))
            }
        }
    }
}

// One communicator interface for data parallelism, with an MPI implementation (under mpirun)
// and a single-process one (plain `srgan-dist train`): the trainer runs the same code either way.

import Foundation

public struct CommunicationError: Error, CustomStringConvertible {
    public let rank: Int
    public let problem: String

    public var description: String {
        "rank \(rank): \(problem). HINT: another rank probably died; see its message above, fix it, and resume from the last checkpoint"
    }
}

public protocol Communicator: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// A collective (all-reduce, broadcast) waiting longer than this many seconds ends the job,
    /// naming the rank that stopped responding where it can; 0: wait forever. barrier() is exempt.
    var watchdogSeconds: Double { get set }
    /// Sums `count` floats across ranks, in place.
    func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws
    /// Sums `count` doubles across ranks, in place.
    func allReduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws
    /// Copies `bytes` bytes from `root` to every rank.
    func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int) throws
    /// Waits for every rank without burning a core and without any timeout (rank 0 may validate
    /// for as long as it takes).
    func barrier() throws
    /// Ends the whole job (all ranks) at once.
    func abort(code: Int32) -> Never
}

extension Communicator {
    public var isRoot: Bool { rank == 0 }

    /// Averages `count` floats across ranks, in place.
    public func allReduceAverage(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
        try allReduceSum(buffer, count: count)
        if size > 1 {
            let scale = 1 / Float(size)
            for i in 0..<count { buffer[i] *= scale }
        }
    }

    public func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int, root: Int = 0) throws {
        try broadcast(UnsafeMutableRawPointer(buffer), bytes: count * MemoryLayout<Float>.stride, root: root)
    }

    /// Every rank's `values` (the same count on each), rank 0's first: [rank][index].
    public func gather(_ values: [Double]) throws -> [[Double]] {
        var all = [Double](repeating: 0, count: size * values.count)
        for (i, value) in values.enumerated() { all[rank * values.count + i] = value }
        try all.withUnsafeMutableBufferPointer { try allReduceSum($0.baseAddress!, count: $0.count) }
        return (0..<size).map { Array(all[($0 * values.count)..<(($0 + 1) * values.count)]) }
    }

    /// Rank `root`'s string (or nil) on every rank.
    public func broadcast(string: String?, root: Int = 0) throws -> String? {
        var length: Int64 = rank == root ? Int64(string?.utf8.count ?? -1) : 0
        try withUnsafeMutableBytes(of: &length) { try broadcast($0.baseAddress!, bytes: 8, root: root) }
        guard length >= 0 else { return nil }
        var bytes = rank == root ? Array(string!.utf8) : [UInt8](repeating: 0, count: Int(length))
        if length > 0 { try bytes.withUnsafeMutableBytes { try broadcast($0.baseAddress!, bytes: Int(length), root: root) } }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The mean over ranks of a few scalars (losses and metrics shown to the user).
    public func average(_ values: [Double]) throws -> [Double] {
        var copy = values
        try copy.withUnsafeMutableBufferPointer { try allReduceSum($0.baseAddress!, count: $0.count) }
        return copy.map { $0 / Double(size) }
    }
}

/// One process, no MPI: every collective is the identity.
public final class SingleProcessCommunicator: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public var watchdogSeconds: Double = 0
    public func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {}
    public func allReduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws {}
    public func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int) throws {}
    public func barrier() throws {}
    public func abort(code: Int32) -> Never { exit(code) }
}

public enum Launch {
    /// True when this process was started by an MPI launcher (mpirun, srun with PMIx).
    public static var underMPI: Bool {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"].contains { environment[$0] != nil }
    }

    /// The MPI communicator under an MPI launcher, else the single-process one.
    public static func communicator() throws -> Communicator {
        underMPI ? try MPICommunicator() : SingleProcessCommunicator()
    }
}

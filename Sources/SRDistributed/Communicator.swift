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

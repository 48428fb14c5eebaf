// Which rank prints an error. Every rank meets the same setup errors, and rank 0 reports them; an
// error only some ranks have is reported by each of them, as a RankError that carries its rank,
// and the others stop with AnotherRankFailed (printed by rank 0 only).

import SRDistributed

/// An error of one rank (it prints it, whatever its rank).
public struct RankError: Error, CustomStringConvertible {
    public let rank: Int
    public let error: Error

    public init(rank: Int, _ error: Error) {
        self.rank = rank
        self.error = error
    }

    public var description: String { "rank \(rank): \(error)" }
}

/// This rank stops because `ranks` failed (they say why).
public struct AnotherRankFailed: Error, CustomStringConvertible {
    public let ranks: [Int]
    public var description: String {
        "stopping because rank \(ranks.map(String.init).joined(separator: ", ")) failed (see its message). HINT: fix the problem that rank reports"
    }
}

extension Communicator {
    /// Whether this rank should print `error`: rank 0 prints every error; another rank prints
    /// only its own RankError (or CommunicationError).
    public func reports(_ error: Error) -> Bool {
        isRoot || (error as? RankError)?.rank == rank || (error as? CommunicationError)?.rank == rank
    }

    /// Runs `body` on every rank; if it fails on any rank, every rank stops, so nobody waits
    /// forever at a collective: when all failed, with their (shared) error; otherwise the failing
    /// ranks with their error (as a RankError on ranks other than 0), the others with AnotherRankFailed.
    func together<T>(_ body: () throws -> T) throws -> T {
        let result: Result<T, Error> = Result { try body() }
        guard size > 1 else { return try result.get() }
        let flags = try gather([result.isFailure ? 1 : 0])
        let failed = flags.indices.filter { flags[$0][0] > 0 }
        if case .failure(let error) = result {
            // Rank 0 reports its own errors anyway: only another rank's need its number.
            throw failed.count == size || isRoot || error is RankError ? error : RankError(rank: rank, error)
        }
        if !failed.isEmpty { throw AnotherRankFailed(ranks: failed) }
        return try result.get()
    }
}

extension Result {
    var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}

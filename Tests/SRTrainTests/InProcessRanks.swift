// Several "ranks" as threads of one test process: a sum over them that every thread calls in the
// same order, as MPI_Allreduce would be (the real MPI path is tested under mpirun in CLITests).
// One rank computes at a time (the lock is a baton, given up only while waiting in a sum), so
// nothing in the kernels needs to be safe for two steps at once.

import Foundation

final class InProcessRanks: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var sums: [Double] = []
    private var arrived = 0
    private var generation = 0
    private var result: [Double] = []

    init(size: Int) { self.size = size }

    /// The element-wise sum of every rank's `values`, written back into each (called from `run`'s body).
    func allReduceSum(_ values: inout [Double]) {
        let mine = generation
        if arrived == 0 { sums = [Double](repeating: 0, count: values.count) }
        precondition(sums.count == values.count, "ranks reduced different counts")
        for i in values.indices { sums[i] += values[i] }
        arrived += 1
        if arrived == size {
            result = sums
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine { condition.wait() }
        }
        values = result
    }

    /// The same for floats (gradients), summed in double.
    func allReduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) {
        var copy = (0..<count).map { Double(values[$0]) }
        allReduceSum(&copy)
        for i in 0..<count { values[i] = Float(copy[i]) }
    }

    /// Runs `body(rank)` on `size` threads and waits for all of them.
    func run(_ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for rank in 0..<size {
            let thread = Thread { [condition] in
                condition.lock()
                body(rank)
                condition.unlock()
                group.leave()
            }
            thread.stackSize = 8 << 20
            group.enter()
            thread.start()
        }
        group.wait()
    }
}

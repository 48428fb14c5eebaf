// A copy of a network's batch-norm running statistics (and batch counts), put back later: the
// step's undo of a skipped update, the relativistic passes' recomputations, and validation and
// checkpoints on the statistics averaged over ranks all use this one.

import SRModels

struct StatisticsSnapshot {
    let network: Network
    private let values: [Float]
    private let tracked: [Int]

    init(_ network: Network) {
        self.network = network
        values = network.memory.withStatistics { Array($0) }
        tracked = network.batchNorms.map(\.numBatchesTracked)
    }

    func restore() {
        network.memory.withStatistics { statistics in _ = statistics.update(fromContentsOf: values) }
        for (bn, count) in zip(network.batchNorms, tracked) { bn.numBatchesTracked = count }
    }
}

// All the memory of one network in ONE allocation, with a named layout. For P parameters and S
// running statistics (batch norm's running_mean and running_var), in floats:
//
//   gradients     [ P ]                                                   trainable networks
//   live bank     [ values P | statistics S | exp_avg P | exp_avg_sq P ]  moments once trained
//   spare bank    [ values P | statistics S | exp_avg P | exp_avg_sq P ]  keepsPrevious only
//
// The names of the slices inside `values` and `statistics` are the two ParameterStores' layouts
// (PyTorch's state_dict names), and the stores point into this allocation once it is laid out.
// Because each bank is contiguous, what a run does with a network's state is one copy or one
// collective: the model (values and statistics) is one range to broadcast, hash for the replica
// check or save; with the moments it is the whole bank; the gradients are one range to
// all-reduce; a snapshot of the statistics is one copy of S floats.
//
// The spare bank serves the GAN step's undo: Adam writes D's update (values, moments, and a copy
// of the statistics) into the spare bank, then `flipBanks` makes it the live one; undoing the
// update flips back, without copying D's 3 x P floats each step (Adam.updateKeepingPrevious).
//
// Sections are added once, before training (`prepareForTraining`): that moves the allocation, so
// the stores' `generation` changes and tensor views made before stop the program if used.

public final class NetworkMemory {
    /// Which optional sections the allocation holds.
    public struct Sections: Equatable, Sendable {
        /// Adam's first and second moments in each bank.
        public var moments = false
        /// A second bank for an update that may be undone.
        public var spareBank = false
    }

    /// Offsets (in floats, from the start of the allocation) of one layout.
    public struct Layout: Equatable, Sendable {
        public let parameterCount: Int, statisticsCount: Int
        public let hasGradients: Bool
        public let sections: Sections
        /// values + statistics (+ both moments).
        public var bankCount: Int { parameterCount + statisticsCount + (sections.moments ? 2 * parameterCount : 0) }
        public func bankOffset(_ bank: Int) -> Int { (hasGradients ? parameterCount : 0) + bank * bankCount }
        public var totalCount: Int { bankOffset(sections.spareBank ? 2 : 1) }
    }

    /// The pieces of one bank.
    struct Bank {
        let values: UnsafeMutablePointer<Float>
        let statistics: UnsafeMutablePointer<Float>
        let firstMoment: UnsafeMutablePointer<Float>
        let secondMoment: UnsafeMutablePointer<Float>
    }

    /// Weak: each store keeps its memory alive (a tensor view of a store keeps the store alive),
    /// not the other way round.
    private weak var parameterStore: ParameterStore?
    private weak var statisticsStore: ParameterStore?
    public private(set) var layout: Layout
    private var base: UnsafeMutablePointer<Float>
    /// 0 or 1: which bank the stores read.
    private var live = 0

    /// Lays out `parameters` and `statistics` (a frozen store) in one allocation and moves their
    /// values there; neither store may register anything afterwards.
    public init(parameters: ParameterStore, statistics: ParameterStore = ParameterStore(trainable: false)) {
        precondition(!statistics.trainable, "running statistics take no gradient: give NetworkMemory a frozen statistics store")
        parameterStore = parameters
        statisticsStore = statistics
        layout = Layout(parameterCount: parameters.count, statisticsCount: statistics.count,
                        hasGradients: parameters.trainable, sections: Sections())
        base = Self.allocateZeroed(layout.totalCount)
        let bank = bank(0)
        parameters.copyValues(to: bank.values)
        statistics.copyValues(to: bank.statistics)
        place()
    }

    deinit { base.deallocate() }

    private static func allocateZeroed(_ count: Int) -> UnsafeMutablePointer<Float> {
        let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
        return pointer
    }

    /// Adds Adam's moments (zero) and, for `keepsPrevious`, the spare bank: the one move of the
    /// allocation after it was laid out. The gradients and the live bank's contents are kept.
    public func prepareForTraining(keepsPrevious: Bool) {
        let wanted = Sections(moments: true, spareBank: keepsPrevious || layout.sections.spareBank)
        guard wanted != layout.sections else { return }
        let old = layout, oldBase = base, oldBank = bank(live)
        layout = Layout(parameterCount: old.parameterCount, statisticsCount: old.statisticsCount,
                        hasGradients: old.hasGradients, sections: wanted)
        base = Self.allocateZeroed(layout.totalCount)
        live = 0
        let newBank = bank(0)
        if old.hasGradients { base.update(from: oldBase, count: old.parameterCount) }
        newBank.values.update(from: oldBank.values, count: old.parameterCount)
        newBank.statistics.update(from: oldBank.statistics, count: old.statisticsCount)
        if old.sections.moments {
            newBank.firstMoment.update(from: oldBank.firstMoment, count: old.parameterCount)
            newBank.secondMoment.update(from: oldBank.secondMoment, count: old.parameterCount)
        }
        oldBase.deallocate()
        place()
    }

    func bank(_ index: Int) -> Bank {
        let start = base + layout.bankOffset(index)
        let p = layout.parameterCount, s = layout.statisticsCount
        return Bank(values: start, statistics: start + p, firstMoment: start + p + s, secondMoment: start + 2 * p + s)
    }

    var liveBank: Bank { bank(live) }

    /// The bank that is not live (the spare bank must exist).
    var spareBank: Bank {
        precondition(layout.sections.spareBank, "this network keeps no previous state: prepareForTraining(keepsPrevious: true)")
        return bank(1 - live)
    }

    /// Makes the spare bank the live one (and the live one the spare).
    func flipBanks() {
        precondition(layout.sections.spareBank, "this network keeps no previous state")
        live = 1 - live
        place()
    }

    /// Points the stores at the live bank (and the gradients).
    private func place() {
        let bank = liveBank
        parameterStore?.place(values: bank.values, grads: layout.hasGradients ? base : nil, in: self)
        statisticsStore?.place(values: bank.statistics, grads: nil, in: self)
    }

    // MARK: scoped access (the pointers must not outlive the closure)

    /// The live model: values then statistics, P + S floats (broadcast, replica check, saving).
    public func withModel<Result>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> Result) rethrows -> Result {
        try withExtendedLifetime(self) {
            try body(UnsafeMutableBufferPointer(start: liveBank.values, count: layout.parameterCount + layout.statisticsCount))
        }
    }

    /// The whole live bank: the model, then both moments when the network is trained.
    public func withLiveBank<Result>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> Result) rethrows -> Result {
        try withExtendedLifetime(self) { try body(UnsafeMutableBufferPointer(start: liveBank.values, count: layout.bankCount)) }
    }

    /// The running statistics, S floats (a snapshot, the mean over ranks).
    public func withStatistics<Result>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> Result) rethrows -> Result {
        try withExtendedLifetime(self) { try body(UnsafeMutableBufferPointer(start: liveBank.statistics, count: layout.statisticsCount)) }
    }

    /// Adam's first and second moments, P floats each (trained networks only).
    public func withMoments<Result>(_ body: (_ firstMoment: UnsafeMutableBufferPointer<Float>,
                                             _ secondMoment: UnsafeMutableBufferPointer<Float>) throws -> Result) rethrows -> Result {
        precondition(layout.sections.moments, "this network has no optimizer moments: prepareForTraining first")
        let bank = liveBank, p = layout.parameterCount
        return try withExtendedLifetime(self) {
            try body(UnsafeMutableBufferPointer(start: bank.firstMoment, count: p), UnsafeMutableBufferPointer(start: bank.secondMoment, count: p))
        }
    }

    /// The gradients, P floats (trainable networks only).
    public func withGradients<Result>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> Result) rethrows -> Result {
        precondition(layout.hasGradients, "a frozen network has no gradients")
        return try withExtendedLifetime(self) { try body(UnsafeMutableBufferPointer(start: base, count: layout.parameterCount)) }
    }
}

// The table `--profile` prints: where the time of a step (or of a run, per step) went, per network
// and layer kind, from a LayerProfiler. Rank 0's rows in detail; under mpirun a last column holds
// each rank's total for the same row (every rank runs the same layers in the same order, so the
// rows line up), and one summary line per rank adds its rows up by network, all-reduce and loop. "other" is the step's wall time not inside any row: losses, Adam, residual adds,
// the copies between layers.

import Foundation
import SRCore
import SRDistributed

enum ProfileTable {
    /// Prints the table on rank 0; every rank must call it (it gathers each rank's totals).
    /// `perStep` divides every time (a run's profile shown per step); `stepSeconds` is the wall
    /// time being explained, already divided.
    static func show(_ profiler: LayerProfiler, stepSeconds: Double, comm: Communicator, title: String, perStep: Int = 1) throws {
        let entries = profiler.entries
        let divisor = Double(max(perStep, 1))
        let listed = entries.reduce(0) { $0 + $1.totalSeconds } / divisor
        let totals = entries.map { $0.totalSeconds / divisor } + [stepSeconds - listed, stepSeconds]
        let perRank = try comm.gather(totals)
        guard comm.isRoot else { return }
        let many = comm.size > 1
        let ms = { (seconds: Double) in String(format: "%.1f", seconds * 1e3) }
        let share = { (seconds: Double) in String(format: "%.1f%%", 100 * seconds / max(stepSeconds, 1e-12)) }
        let ranks = { (row: Int) in perRank.map { ms($0[row]) }.joined(separator: " / ") }
        print(title + (perStep > 1 ? ", mean of \(perStep) steps" : "") + (many ? ", \(comm.size) ranks" : ""))
        print("| network | layer | calls | forward ms | backward ms | total ms | of step |" + (many ? " total ms, rank 0 / 1 / ... |" : ""))
        print("|---|---|---:|---:|---:|---:|---:|" + (many ? "---|" : ""))
        for (row, entry) in entries.enumerated() {
            let calls = Double(entry.calls) / divisor
            let cells = [entry.scope, entry.label, calls == calls.rounded() ? String(format: "%.0f", calls) : String(format: "%.2f", calls),
                         ms(entry.forwardSeconds / divisor), entry.backwardSeconds > 0 ? ms(entry.backwardSeconds / divisor) : "",
                         ms(totals[row]), share(totals[row])] + (many ? [ranks(row)] : [])
            print("| " + cells.joined(separator: " | ") + " |")
        }
        let other = entries.count, step = entries.count + 1
        print("| | other (losses, optimizer, residual adds, copies) | | | | \(ms(totals[other])) | \(share(totals[other])) |" + (many ? " \(ranks(other)) |" : ""))
        print("| | step | | | | \(ms(stepSeconds)) | 100% |" + (many ? " \(ranks(step)) |" : ""))
        // Per network (and all-reduce, data, validation: the loop's own scopes), for each rank.
        for (rank, rows) in perRank.enumerated() where rank == 0 || many {
            var byScope: [(String, Double)] = []
            for (row, entry) in entries.enumerated() {
                let name = entry.scope.isEmpty ? entry.label : entry.scope
                if let i = byScope.firstIndex(where: { $0.0 == name }) { byScope[i].1 += rows[row] } else { byScope.append((name, rows[row])) }
            }
            print((many ? "rank \(rank) by network: " : "by network: ")
                  + byScope.map { "\($0.0) \(ms($0.1)) ms (\(String(format: "%.1f%%", 100 * $0.1 / max(rows[step], 1e-12))))" }
                      .joined(separator: ", ")
                  + ", other \(ms(rows[other])) ms, step \(ms(rows[step])) ms")
        }
    }
}

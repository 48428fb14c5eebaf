// What a run writes about itself: JSON lines in RUN_DIR/metrics.jsonl and TensorBoard scalars.

import Foundation
import SRModels

public final class MetricsLog {
    private let handle: FileHandle
    private let tensorBoard: TensorBoardWriter

    /// Appends to RUN_DIR/metrics.jsonl. `resumingAfter`: a resumed run drops the records of
    /// steps after its checkpoint (they are about to be made again), so the log reads as one run;
    /// TensorBoard is told the same with a session-start event.
    public init(runDirectory: String, resumingAfter resumeStep: Int? = nil) throws {
        let path = (runDirectory as NSString).appendingPathComponent("metrics.jsonl")
        if let resumeStep, let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let kept = text.split(separator: "\n").filter { line in
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let step = object["step"] as? Int else { return false }
                return step <= resumeStep
            }
            try AtomicFile.write(Data(kept.map { $0 + "\n" }.joined().utf8), to: path)
        }
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw ConfigurationError("\(path): cannot write", hint: "check that the run folder is writable")
        }
        handle.seekToEndOfFile()
        self.handle = handle
        tensorBoard = try TensorBoardWriter(directory: runDirectory)
        if let resumeStep { tensorBoard.sessionStart(step: resumeStep + 1) }
    }

    /// One record: `kind` ("train" or "validation"), the step, and named numbers.
    public func record(_ kind: String, step: Int, _ values: [(String, Double)]) {
        var fields = ["\"kind\": \"\(kind)\"", "\"step\": \(step)", "\"time\": \(String(format: "%.3f", Date().timeIntervalSince1970))"]
        for (name, value) in values {
            fields.append("\"\(name)\": " + (value.isFinite ? String(format: "%.6g", value) : "null"))
        }
        try? handle.write(contentsOf: Data(("{" + fields.joined(separator: ", ") + "}\n").utf8))
        tensorBoard.scalars(values.map { ("\(kind)/\($0.0)", $0.1) }, step: step)
    }

    public func flush() {
        try? handle.synchronize()
        tensorBoard.flush()
    }
}

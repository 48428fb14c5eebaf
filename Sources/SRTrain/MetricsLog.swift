// What a run writes about itself: JSON lines in RUN_DIR/metrics.jsonl and TensorBoard scalars.

import Foundation

public final class MetricsLog {
    private let handle: FileHandle
    private let tensorBoard: TensorBoardWriter

    public init(runDirectory: String) throws {
        let path = (runDirectory as NSString).appendingPathComponent("metrics.jsonl")
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw ConfigurationError("\(path): cannot write", hint: "check that the run folder is writable")
        }
        handle.seekToEndOfFile()
        self.handle = handle
        tensorBoard = try TensorBoardWriter(directory: runDirectory)
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

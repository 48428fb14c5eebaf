// Shared by the hardening tests (issue 18): a tiny trained run made once, and helpers to tamper
// with checkpoint files the way a hand edit would (COMPLETE rewritten to match).

import Foundation
import SRData
import XCTest

enum HardeningFixture {
    /// A packed dataset and a tiny run trained for 6 steps (checkpoint at 6), made once per test process.
    static let work: String = {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-hardening-\(getpid())").path
        try? FileManager.default.removeItem(atPath: work)
        let pack = try! runSRGANDist(["pack", "--input", repository.appendingPathComponent("samples/photos").path,
                                      "--output", work + "/packed", "--patch-size", "48", "--stride", "96", "--val-images", "2"])
        precondition(pack.status == 0, pack.error)
        let train = try! runSRGANDist(["train", "--preset", "tiny", "--data", work + "/packed", "--steps", "6", "--batch", "2",
                                       "--run", work + "/run"])
        precondition(train.status == 0, train.error)
        atexit { try? FileManager.default.removeItem(atPath: HardeningFixture.workIfMade ?? "") }
        workIfMade = work
        return work
    }()
    nonisolated(unsafe) static var workIfMade: String?

    static var run: String { work + "/run" }
    static var packed: String { work + "/packed" }

    /// A fresh copy of `source` under the work folder, named `name`.
    static func copy(_ source: String, as name: String) throws -> String {
        let target = work + "/" + name
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.copyItem(atPath: source, toPath: target)
        return target
    }
}

/// Rewrites a checkpoint's COMPLETE so its sizes and CRC-32s match the files as they are now.
func rewriteCompletionMarker(_ checkpoint: String) throws {
    let path = checkpoint + "/COMPLETE"
    var marker = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    var files = marker["files"] as! [String: Any]
    for name in files.keys {
        let data = try Data(contentsOf: URL(fileURLWithPath: checkpoint + "/" + name))
        let crc = data.withUnsafeBytes { CRC32.of($0) }
        files[name] = ["bytes": data.count, "crc32": crc]
    }
    marker["files"] = files
    try JSONSerialization.data(withJSONObject: marker, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
}

/// Replaces `"key": VALUE` (the first occurrence) in a JSON text file by `"key": replacement`.
func replaceJSONValue(_ path: String, key: String, with replacement: String) throws {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    guard let range = text.range(of: "\"\(key)\"\\s*:\\s*(-?[0-9.eE+-]+|\"[^\"]*\")", options: .regularExpression) else {
        throw NSError(domain: "no key \(key) in \(path)", code: 1)
    }
    try text.replacingCharacters(in: range, with: "\"\(key)\": \(replacement)").write(toFile: path, atomically: true, encoding: .utf8)
}

/// The one error line a refused command printed (XCTFail when there is not exactly one).
func oneErrorLine(_ result: CommandResult, file: StaticString = #filePath, line: UInt = #line) -> String {
    let errors = result.error.split(separator: "\n").filter { $0.hasPrefix("error:") || $0.hasPrefix("Error:") }
    XCTAssertNotEqual(result.status, 0, result.error, file: file, line: line)
    XCTAssertEqual(errors.count, 1, result.error, file: file, line: line)
    XCTAssertFalse(result.error.contains("Fatal error"), result.error, file: file, line: line)
    return errors.first.map(String.init) ?? ""
}

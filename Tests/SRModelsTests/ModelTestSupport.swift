import Foundation
import SRCore
import SRModels
import XCTest

func fixturePath(_ name: String) -> String {
    Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!.path
}

func temporaryDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("srmodels-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Relative agreement as the parity tests define it: ||a - b|| / ||b|| <= tolerance, and no element
/// off by more than tolerance x max|b| (so one wrong element cannot hide in a large norm).
func assertRelativeClose(_ actual: [Float], _ expected: [Float], _ tolerance: Double = 1e-4, _ what: String,
                         file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(what): count", file: file, line: line)
    guard actual.count == expected.count, !expected.isEmpty else { return }
    var difference = 0.0, norm = 0.0, largest = 0.0, worst = 0.0
    for i in 0..<expected.count {
        let d = Double(actual[i]) - Double(expected[i])
        difference += d * d
        norm += Double(expected[i]) * Double(expected[i])
        largest = max(largest, abs(Double(expected[i])))
        worst = max(worst, abs(d))
    }
    XCTAssertGreaterThan(norm, 0, "\(what): reference is all zeros, the comparison would prove nothing", file: file, line: line)
    let relative = (difference / max(norm, 1e-300)).squareRoot()
    XCTAssertLessThanOrEqual(relative, tolerance, "\(what): relative error \(relative)", file: file, line: line)
    XCTAssertLessThanOrEqual(worst, tolerance * largest, "\(what): worst element off by \(worst), max |ref| \(largest)",
                             file: file, line: line)
}

extension SafetensorsFile {
    func tensor(_ name: String) throws -> Tensor {
        Tensor(shape: entry(name)!.shape, values: try floats(name))
    }
}

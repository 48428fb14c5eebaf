// The one-line JSON results that srgan-dist's `bench step` and `bench infer` print and srgan-bench
// prints and reads.

import Foundation

/// One JSON object on one line, keys in the order given: what a benchmark child prints.
/// Values: strings, integers, doubles (3 decimals, null when not finite), arrays of doubles or integers.
public enum JSONLine {
    public static func format(_ fields: [(String, Any)]) -> String {
        "{" + fields.map { "\"\($0.0)\": \(value($0.1))" }.joined(separator: ", ") + "}"
    }

    private static func value(_ value: Any) -> String {
        switch value {
        case let text as String: return "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case let number as Int: return "\(number)"
        case let number as Double: return number.isFinite ? String(format: "%.3f", number) : "null"
        case let numbers as [Double]: return "[" + numbers.map { Self.value($0) }.joined(separator: ", ") + "]"
        case let numbers as [Int]: return "[" + numbers.map(String.init).joined(separator: ", ") + "]"
        default: return "\"\(value)\""
        }
    }
}

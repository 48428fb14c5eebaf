// JSON read from outside (manifests, pack journals, checkpoint state) fails to decode with
// Foundation's nested error dump; this turns it into the key and the reason, for one error line.

import Foundation

extension DecodingError {
    /// One line naming the key a JSON decode failed at and why (not Foundation's nested dump).
    public var keyAndReason: String {
        func path(_ context: Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "the top level" : keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch self {
        case .keyNotFound(let key, let context):
            return "key \(context.codingPath.isEmpty ? key.stringValue : path(context) + "." + key.stringValue) is missing"
        case .typeMismatch(let type, let context):
            return "\(path(context)): expected \(type) (\(context.debugDescription))"
        case .valueNotFound(let type, let context):
            return "\(path(context)): null where a \(type) belongs"
        case .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(self)"
        }
    }
}

/// Foundation's JSONDecoder reports a number that does not fit its Int field (7.5, 1e300) as
/// "not valid JSON" with no key; this finds the key.
public enum JSONIntegerFields {
    /// The first value under one of `keys` (at any depth, in arrays too) that is a number but not
    /// an integer an Int holds, as "PATH is VALUE (not an integer)"; nil if there is none.
    public static func firstNonInteger(in data: Data, keys: Set<String>) -> String? {
        guard let root = try? JSONSerialization.jsonObject(with: data) else { return nil }
        func walk(_ value: Any, path: String, counted: Bool) -> String? {
            if let object = value as? [String: Any] {
                for key in object.keys.sorted() {
                    if let found = walk(object[key]!, path: path.isEmpty ? key : path + "." + key, counted: keys.contains(key)) { return found }
                }
            } else if let array = value as? [Any] {
                for (i, item) in array.enumerated() {
                    if let found = walk(item, path: "\(path)[\(i)]", counted: counted) { return found }
                }
            } else if counted, let number = value as? NSNumber, !(value is Bool) {
                let double = number.doubleValue
                if double.rounded() != double || abs(double) >= 9.2e18 { return "\(path) is \(number) (not an integer)" }
            }
            return nil
        }
        return walk(root, path: "", counted: false)
    }
}

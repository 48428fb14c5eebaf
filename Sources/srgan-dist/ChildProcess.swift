// Running another program (the PyTorch peers, or srgan-dist itself in a fresh process) and reading
// what it prints: the benchmarks' one way to do it.

import ArgumentParser
import Foundation

enum ChildProcess {
    /// This executable's own path (to run `srgan-dist bench step` in a fresh process).
    static var ownExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Runs `executable arguments`, returns its standard output as lines; a non-zero exit throws.
    /// Its standard error goes to ours, or nowhere with `quiet`.
    static func lines(_ executable: String, _ arguments: [String], quiet: Bool = false) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        if quiet { process.standardError = FileHandle.nullDevice }
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Runs it and parses the JSON object on the last line it prints.
    static func json(_ executable: String, _ arguments: [String]) throws -> [String: Any] {
        guard let line = try lines(executable, arguments).last,
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else {
            throw ValidationError("\(executable) \(arguments.joined(separator: " ")) printed no JSON result")
        }
        return object
    }
}

/// One JSON object on one line, keys in the order given: what a benchmark child prints.
/// Values: strings, integers, doubles (3 decimals), arrays of doubles, or preformatted `JSONRaw`.
enum JSONLine {
    static func format(_ fields: [(String, Any)]) -> String {
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

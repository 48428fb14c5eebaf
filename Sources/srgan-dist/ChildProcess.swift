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
    static func lines(_ executable: String, _ arguments: [String]) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
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

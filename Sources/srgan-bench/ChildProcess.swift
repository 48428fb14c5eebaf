// Running another program (the PyTorch peers, or srgan-dist in a fresh process) and reading what it
// prints: the harness's one way to do it.

import ArgumentParser
import Foundation

enum ChildProcess {
    /// The srgan-dist built beside this program (`swift build` puts both in one folder), whose
    /// `bench step` and `bench infer` every workload runs in a fresh process.
    static var srganDist: String {
        let own = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: own).deletingLastPathComponent().appendingPathComponent("srgan-dist").path
    }

    /// Throws one line with a hint when srgan-dist is not beside this program.
    static func checkSRGANDist() throws {
        guard FileManager.default.isExecutableFile(atPath: srganDist) else {
            throw HarnessError(description: "\(srganDist) not found: srgan-bench runs the srgan-dist built beside it. "
                               + "HINT: swift build -c release (builds both into .build/release)")
        }
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

/// A failure of the harness itself, printed as one line (no usage text: the command line was fine).
struct HarnessError: Error, CustomStringConvertible {
    let description: String
}

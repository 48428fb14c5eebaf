// srgan-fuzz: coverage-guided fuzzing harnesses for every parser that takes outside bytes
// (docs/fuzzing.md). One program, one harness per target:
//
//   srgan-fuzz TARGET [libFuzzer options] [CORPUS...]   built by scripts/fuzz.sh with
//                                                        --sanitize=fuzzer,address: libFuzzer runs
//   srgan-fuzz TARGET [-v] FILE_OR_FOLDER...             any other build: replays the files once
//                                                        (the seed corpora in the test suite, a
//                                                        crash file when fixing it); -v prints
//                                                        each input's outcome
//   srgan-fuzz --list                                    the targets
//   srgan-fuzz --make-seeds FOLDER                       the seeds of srgan-dist's own formats
//                                                        (replay build)
//
// A harness feeds the bytes through the same code a user's file takes and returns; a finding is
// a crash, a sanitizer report, or a property the harness checks failing (it traps with a line
// naming the property).

import Foundation

/// The harness chosen by the first argument.
nonisolated(unsafe) var chosenTarget: FuzzTarget!

/// Takes the target's name out of the command line and prepares the scratch folder; exits with
/// one line for a missing or unknown name. Returns the remaining arguments.
func chooseTarget(_ arguments: [String]) -> [String] {
    if arguments.count == 2, arguments[1] == "--list" {
        for target in FuzzTarget.all { print("\(target.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(target.summary)") }
        exit(0)
    }
    guard arguments.count >= 2, !arguments[1].hasPrefix("-") else {
        FileHandle.standardError.write(Data("error: no fuzzing target named. HINT: srgan-fuzz TARGET ...; srgan-fuzz --list names them\n".utf8))
        exit(2)
    }
    guard let target = FuzzTarget.all.first(where: { $0.name == arguments[1] }) else {
        FileHandle.standardError.write(Data("error: no fuzzing target '\(arguments[1])'. HINT: srgan-fuzz --list names them\n".utf8))
        exit(2)
    }
    chosenTarget = target
    Scratch.prepare()
    atexit { Scratch.remove() }
    var rest = arguments
    rest.remove(at: 1)
    return rest
}

#if SRGAN_FUZZ
// The fuzzing build (scripts/fuzz.sh: --sanitize=fuzzer, -DSRGAN_FUZZ): libFuzzer's main runs,
// calling these two. The target's name is removed from argv before libFuzzer reads its options.
nonisolated(unsafe) var fuzzArguments: [UnsafeMutablePointer<CChar>?] = []

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> Int32 {
    let arguments = (0..<Int(argc.pointee)).map { String(cString: argv.pointee[$0]!) }
    let rest = chooseTarget(arguments)
    fuzzArguments = rest.map { strdup($0) } + [nil]
    argc.pointee = Int32(rest.count)
    fuzzArguments.withUnsafeMutableBufferPointer { argv.pointee = $0.baseAddress! }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    _ = chosenTarget.run(UnsafeBufferPointer(start: data, count: size))
    return 0
}
#else
// Any other build: replay files.
@main
enum FuzzMain {
    static func main() {
        let arguments = CommandLine.arguments
        if arguments.count == 3, arguments[1] == "--make-seeds" {
            Scratch.prepare()
            defer { Scratch.remove() }
            do { try SeedCorpus.make(in: arguments[2]) } catch {
                FileHandle.standardError.write(Data("error: \(arguments[2]): cannot write the seeds (\(error)). HINT: pass a writable folder\n".utf8))
                exit(1)
            }
            exit(0)
        }
        let rest = chooseTarget(arguments)
        exit(replay(Array(rest.dropFirst())))
    }

    /// Without libFuzzer: every file named, or in a folder named, run once.
    static func replay(_ paths: [String]) -> Int32 {
        let verbose = paths.contains("-v")
        var files: [String] = []
        for path in paths where !path.hasPrefix("-") {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("error: \(path): no such file or folder. HINT: pass corpus files or folders\n".utf8))
                return 2
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        var accepted = 0
        for file in files {
            guard let bytes = FileManager.default.contents(atPath: file) else { continue }
            let outcome = [UInt8](bytes).withUnsafeBufferPointer { chosenTarget.run($0) }
            if outcome == nil { accepted += 1 }
            if verbose { print("\(file): \(outcome.map { "refused: \($0)" } ?? "accepted")") }
        }
        print("srgan-fuzz \(chosenTarget.name): \(files.count) inputs replayed (\(accepted) accepted, \(files.count - accepted) refused), no finding")
        return 0
    }
}
#endif

/// One harness: a name, what it covers, and the function libFuzzer calls.
struct FuzzTarget {
    let name: String
    let summary: String
    /// nil when the input was accepted, else what refused it (one line).
    let run: (UnsafeBufferPointer<UInt8>) -> String?

    static let all: [FuzzTarget] = [
        FileTargets.safetensors, FileTargets.shard, FileTargets.dataset, FileTargets.checkpoint,
        FileTargets.png, FileTargets.jpeg, ConfigTarget.yaml, ServeTarget.upload,
    ]
}

/// A property every harness checks on the errors it catches: one line that names its subject,
/// not an internal error dump (Foundation's "Error Domain=... Code=..." text).
/// Returns the error's text for the replay's report.
func refused(_ error: Error, _ harness: String) -> String {
    let text = String(describing: error)
    if text.isEmpty || text.contains("Error Domain=") || text.contains("NSCocoaErrorDomain") {
        fatalError("\(harness): an error a user would see is not one clear line: \(text)")
    }
    return text.split(separator: "\n").first.map(String.init) ?? text
}

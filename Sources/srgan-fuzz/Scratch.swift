// A private folder per fuzzing process for the files the harnesses write (the parsers read
// files, as a user's run does). In /dev/shm when it exists, so writes stay in memory.

import Foundation

enum Scratch {
    nonisolated(unsafe) static var folder = ""

    static func prepare() {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        folder = (base as NSString).appendingPathComponent("srgan-fuzz-\(getpid())")
        try? FileManager.default.removeItem(atPath: folder)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            FileHandle.standardError.write(Data("error: \(folder): cannot create the scratch folder (\(error)). HINT: set TMPDIR to a writable folder\n".utf8))
            exit(1)
        }
    }

    static func remove() { try? FileManager.default.removeItem(atPath: folder) }

    static func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }

    /// Writes `bytes` to `name` in the scratch folder and returns its path.
    @discardableResult
    static func write(_ bytes: UnsafeBufferPointer<UInt8>, to name: String) -> String {
        let file = path(name)
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot write the scratch file \(file)")
        var done = 0
        while done < bytes.count {
            let wrote = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
            precondition(wrote > 0, "cannot write the scratch file \(file)")
            done += wrote
        }
        close(fd)
        return file
    }

    /// A sub-folder of the scratch folder, emptied.
    static func emptyFolder(_ name: String) -> String {
        let folder = path(name)
        try? FileManager.default.removeItem(atPath: folder)
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }
}

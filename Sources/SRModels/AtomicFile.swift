// Writes that never leave a half-written file under the final name: write to a temporary file in
// the same folder, fsync it, rename it over the target, fsync the folder.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum AtomicFile {
    /// Writes all of `data` to `fd` (retrying short writes and EINTR); 0, or the errno that stopped it.
    public static func writeFully(_ data: Data, to fd: Int32) -> Int32 {
        data.withUnsafeBytes { raw -> Int32 in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return 0
        }
    }

    public static func write(_ data: Data, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            throw ModelFileError(file: path, problem: "cannot create \(temporary): \(String(cString: strerror(errno)))",
                                 hint: "check that the folder exists and is writable")
        }
        let code = writeFully(data, to: fd)
        var failure: String? = code == 0 ? nil : String(cString: strerror(code))
        if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if failure == nil && rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw ModelFileError(file: path, problem: "write failed: \(failure)",
                                 hint: "free disk space or choose another folder; the previous file, if any, is intact")
        }
        let directoryFD = open(directory.isEmpty ? "." : directory, O_RDONLY)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }
}

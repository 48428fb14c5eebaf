// The temporary files a pack holds at this moment: the shard being written (NAME.srs.tmp-PID),
// the journal and the manifest between their write and their rename (NAME.json.tmp). On SIGINT or
// SIGTERM `pack` removes them before it exits (finished shards and the journal stay, for
// --resume); a later pack removes temporaries a killed one (SIGKILL, power loss) left behind.

import Foundation

public final class PackTemporaries: @unchecked Sendable {
    public static let shared = PackTemporaries()
    private let lock = NSLock()
    private var paths = Set<String>()

    func add(_ path: String) {
        lock.lock()
        paths.insert(path)
        lock.unlock()
    }

    func remove(_ path: String) {
        lock.lock()
        paths.remove(path)
        lock.unlock()
    }

    /// Unlinks every temporary and exits with `status`, holding the lock so no new one appears.
    public func removeAllAndExit(_ status: Int32, saying message: (Int) -> String) -> Never {
        lock.lock()
        for path in paths { unlink(path) }
        FileHandle.standardError.write(Data(message(paths.count).utf8))
        _exit(status)
    }

    /// Whether `name` (in a pack's output folder) is a temporary a pack makes: a shard's
    /// `shard-*.srs.tmp-PID`, or the journal's or manifest's `*.json.tmp`.
    static func isPackTemporary(_ name: String) -> (Bool, pid: Int32?) {
        if name.hasPrefix("shard-"), let range = name.range(of: "." + ShardFormat.fileExtension + ".tmp-") {
            guard let pid = Int32(name[range.upperBound...]) else { return (false, nil) }
            return (true, pid)
        }
        let json = name == Manifest.fileName + ".tmp" || (name.hasPrefix("pack-journal-r") && name.hasSuffix(".json.tmp"))
        return (json, nil)
    }

    /// Removes the pack temporaries in `folder` that `owned` accepts and no running process is
    /// writing; returns their names.
    static func removeLeftovers(in folder: String, owned: (String) -> Bool) -> [String] {
        var removed: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where owned(name) {
            let (temporary, pid) = isPackTemporary(name)
            guard temporary else { continue }
            if let pid, pid != getpid(), kill(pid, 0) == 0 { continue }  // a pack writing it right now
            if unlink((folder as NSString).appendingPathComponent(name)) == 0 { removed.append(name) }
        }
        return removed.sorted()
    }
}

// TensorBoard event files, written directly: a TFRecord stream (u64 length, masked CRC-32C of the
// length, the record, masked CRC-32C of the record) of Event protocol buffers:
//   Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5;
//           SessionLog session_log = 7; }   SessionLog { SessionStatus status = 1; }  (START = 1)
//   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
// `tensorboard --logdir RUN_DIR` reads them (scripts/check_tensorboard.py checks it).

import Foundation

public final class TensorBoardWriter {
    public let path: String
    private let handle: FileHandle

    public init(directory: String) throws {
        let host = ProcessInfo.processInfo.hostName
        var candidate = (directory as NSString).appendingPathComponent("events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host)")
        var suffix = 1
        while FileManager.default.fileExists(atPath: candidate) {  // a resumed run in the same second
            candidate = (directory as NSString).appendingPathComponent("events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host).\(suffix)")
            suffix += 1
        }
        path = candidate
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ConfigurationError("\(path): cannot create the TensorBoard event file", hint: "check that the run folder is writable")
        }
        self.handle = handle
        var event: [UInt8] = []
        Self.field(1, double: Date().timeIntervalSince1970, into: &event)
        Self.field(3, bytes: Array("brain.Event:2".utf8), into: &event)
        write(event)
    }

    deinit { try? handle.close() }

    /// Scalars at `step`, one Event holding one Value per tag.
    public func scalars(_ values: [(String, Double)], step: Int) {
        var summary: [UInt8] = []
        for (tag, value) in values where value.isFinite {
            var entry: [UInt8] = []
            Self.field(1, bytes: Array(tag.utf8), into: &entry)
            entry.append(0x15)  // field 2, wire type 5 (32-bit)
            withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { entry.append(contentsOf: $0) }
            Self.field(1, bytes: entry, into: &summary)
        }
        var event: [UInt8] = []
        Self.field(1, double: Date().timeIntervalSince1970, into: &event)
        event.append(0x10)  // field 2, varint
        Self.varint(UInt64(step), into: &event)
        Self.field(5, bytes: summary, into: &event)
        write(event)
    }

    /// A session (re)start at `step`: TensorBoard drops what earlier files logged from `step` on.
    public func sessionStart(step: Int) {
        var event: [UInt8] = []
        Self.field(1, double: Date().timeIntervalSince1970, into: &event)
        event.append(0x10)  // field 2, varint
        Self.varint(UInt64(step), into: &event)
        Self.field(7, bytes: [0x08, 0x01], into: &event)  // SessionLog { status: START }
        write(event)
    }

    public func flush() { try? handle.synchronize() }

    private func write(_ record: [UInt8]) {
        var bytes: [UInt8] = []
        let length = UInt64(record.count)
        var lengthBytes: [UInt8] = []
        withUnsafeBytes(of: length.littleEndian) { lengthBytes.append(contentsOf: $0) }
        bytes += lengthBytes
        withUnsafeBytes(of: CRC32C.masked(lengthBytes).littleEndian) { bytes.append(contentsOf: $0) }
        bytes += record
        withUnsafeBytes(of: CRC32C.masked(record).littleEndian) { bytes.append(contentsOf: $0) }
        try? handle.write(contentsOf: Data(bytes))
    }

    static func varint(_ value: UInt64, into out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func field(_ number: UInt64, bytes: [UInt8], into out: inout [UInt8]) {
        varint(number << 3 | 2, into: &out)
        varint(UInt64(bytes.count), into: &out)
        out += bytes
    }

    static func field(_ number: UInt64, double: Double, into out: inout [UInt8]) {
        varint(number << 3 | 1, into: &out)
        withUnsafeBytes(of: double.bitPattern.littleEndian) { out.append(contentsOf: $0) }
    }
}

/// CRC-32C (Castagnoli), with TFRecord's mask.
enum CRC32C {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    static func masked(_ bytes: [UInt8]) -> UInt32 {
        let crc = checksum(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}

// The safetensors format (used by PyTorch, timm and Hugging Face):
//   [u64 little-endian N] [N bytes of JSON header] [byte buffer]
// The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
// relative to the byte buffer) and may hold "__metadata__" (string -> string). Every header is
// validated before any tensor is read: length, JSON, dtypes, shapes, offsets in bounds, and the
// tensors tiling the buffer without overlaps or holes (as the reference implementation demands).

import Foundation

public enum SafetensorsDType: String, Sendable, CaseIterable {
    case F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL

    public var byteSize: Int {
        switch self {
        case .F64, .I64: return 8
        case .F32, .I32: return 4
        case .F16, .BF16, .I16: return 2
        case .I8, .U8, .BOOL: return 1
        }
    }
}

public struct SafetensorsEntry: Equatable, Sendable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    public let begin: Int
    public let end: Int
    public var count: Int { shape.reduce(1, *) }
}

public final class SafetensorsFile {
    /// Headers larger than this are refused (the reference implementation's limit is 100 MB).
    public static let maxHeaderBytes = 100_000_000

    public let path: String
    public let entries: [SafetensorsEntry]   // in buffer order
    public let metadata: [String: String]
    private let data: Data
    private let bufferStart: Int
    private let byName: [String: Int]

    public init(path: String) throws {
        self.path = path
        func fail(_ problem: String, _ hint: String = "the file is damaged or not safetensors; write or convert it again") -> ModelFileError {
            ModelFileError(file: path, problem: problem, hint: hint)
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw fail("file not found", "check the path")
        }
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw fail("cannot read: \(error.localizedDescription)", "check the file's permissions")
        }
        if data.starts(with: Data("version https://git-lfs".utf8)) {
            throw fail("this is a git-lfs pointer, not the weights", "run 'git lfs pull' or download the real file")
        }
        guard data.count >= 8 else { throw fail("file is \(data.count) bytes, shorter than the 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | (UInt64($1.element) << (8 * UInt64($1.offset))) }
        guard headerLength <= UInt64(Self.maxHeaderBytes) else {
            throw fail("header length \(headerLength) is beyond the \(Self.maxHeaderBytes)-byte limit")
        }
        guard 8 + Int(headerLength) <= data.count else {
            throw fail("header length \(headerLength) at offset 0 runs past the end of the \(data.count)-byte file (truncated?)")
        }
        bufferStart = 8 + Int(headerLength)
        let headerBytes = data.subdata(in: 8..<bufferStart)
        guard headerBytes.first == UInt8(ascii: "{"),
              let json = try? JSONSerialization.jsonObject(with: headerBytes),
              let header = json as? [String: Any]
        else {
            throw fail("header (bytes 8..<\(bufferStart)) is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [SafetensorsEntry] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let dictionary = value as? [String: Any] else { throw fail("__metadata__ is not an object") }
                for (key, item) in dictionary {
                    guard let text = item as? String else { throw fail("__metadata__.\(key) is not a string") }
                    metadata[key] = text
                }
                continue
            }
            guard let info = value as? [String: Any] else { throw fail("tensor '\(name)': entry is not an object") }
            guard let dtypeName = info["dtype"] as? String else { throw fail("tensor '\(name)': no dtype") }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                throw fail("tensor '\(name)': unknown dtype \(dtypeName)")
            }
            guard let shapeValues = info["shape"] as? [Any], let shape = Self.integers(shapeValues), shape.allSatisfy({ $0 >= 0 }) else {
                throw fail("tensor '\(name)': shape is not a list of non-negative integers")
            }
            guard let offsetValues = info["data_offsets"] as? [Any], let offsets = Self.integers(offsetValues),
                  offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1]
            else {
                throw fail("tensor '\(name)': data_offsets is not [begin, end] with 0 <= begin <= end")
            }
            let (elements, overflow) = shape.reduce((1, false)) { partial, dim in
                let product = partial.0.multipliedReportingOverflow(by: dim)
                return (product.partialValue, partial.1 || product.overflow)
            }
            guard !overflow, elements.multipliedReportingOverflow(by: dtype.byteSize).overflow == false,
                  offsets[1] - offsets[0] == elements * dtype.byteSize
            else {
                let needs = overflow ? "more than 2^63" : "\(elements.multipliedReportingOverflow(by: dtype.byteSize).partialValue)"
                throw fail("tensor '\(name)': \(dtype) shape \(shape) needs \(needs) bytes but data_offsets span \(offsets[1] - offsets[0])")
            }
            guard bufferStart + offsets[1] <= data.count else {
                throw fail("tensor '\(name)': data ends at file offset \(bufferStart + offsets[1]), past the end of the \(data.count)-byte file (truncated?)")
            }
            entries.append(SafetensorsEntry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1]))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var position = 0
        for entry in entries {
            if entry.begin < position {
                throw fail("tensor '\(entry.name)' (bytes \(entry.begin)..<\(entry.end)) overlaps the tensor before it")
            }
            if entry.begin > position {
                throw fail("buffer bytes \(position)..<\(entry.begin) belong to no tensor")
            }
            position = entry.end
        }
        if bufferStart + position != data.count {
            throw fail("\(data.count - bufferStart - position) bytes after the last tensor belong to no tensor")
        }
        self.entries = entries
        self.metadata = metadata
        byName = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
    }

    private static func integers(_ values: [Any]) -> [Int]? {
        var result: [Int] = []
        for value in values {
            guard let number = value as? NSNumber, number.doubleValue.rounded() == number.doubleValue,
                  abs(number.doubleValue) < 9e15 else { return nil }
            result.append(number.intValue)
        }
        return result
    }

    public func entry(_ name: String) -> SafetensorsEntry? { byName[name].map { entries[$0] } }

    /// The tensor's values as float32 (F32 read as is; F16, BF16, F64 and integers converted).
    public func floats(_ name: String) throws -> [Float] {
        guard let entry = entry(name) else {
            throw ModelFileError(file: path, problem: "no tensor named '\(name)'", hint: "check that the file holds the expected network")
        }
        let start = bufferStart + entry.begin
        return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [Float] in
            let base = raw.baseAddress! + start
            return (0..<entry.count).map { i in
                switch entry.dtype {
                case .F32: return Float(bitPattern: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
                case .F16: return Float(Float16(bitPattern: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian))
                case .BF16: return Float(bitPattern: UInt32(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16)
                case .F64: return Float(Double(bitPattern: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian))
                case .I64: return Float(Int64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                case .I32: return Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                case .I16: return Float(Int16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
                case .I8: return Float(base.loadUnaligned(fromByteOffset: i, as: Int8.self))
                case .U8, .BOOL: return Float(base.loadUnaligned(fromByteOffset: i, as: UInt8.self))
                }
            }
        }
    }

    /// An integer tensor's values (I64, I32, I16, I8, U8).
    public func integers(_ name: String) throws -> [Int64] {
        guard let entry = entry(name), [.I64, .I32, .I16, .I8, .U8].contains(entry.dtype) else {
            throw ModelFileError(file: path, problem: "no integer tensor named '\(name)'", hint: "check that the file holds the expected network")
        }
        // Exact for the counters stored here (< 2^24); anything a Float cannot hold as an integer is refused.
        return try floats(name).map { value in
            guard value.isFinite, abs(value) <= 16_777_216 else {
                throw ModelFileError(file: path, problem: "tensor '\(name)' holds \(value), not a counter (0 to 2^24)",
                                     hint: "the file is damaged or was edited; write or convert it again")
            }
            return Int64(value)
        }
    }
}

/// Builds a safetensors file: tensors are laid out in the order they are added, the header keeps
/// that order and is padded with spaces to a multiple of 8 bytes (so the buffer is aligned).
/// The same tensors added in the same order always give the same bytes.
public struct SafetensorsWriter {
    private var header: [String] = []
    private var buffer = Data()
    private var names = Set<String>()
    public var metadata: [String: String] = [:]

    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    public mutating func add(_ name: String, floats: UnsafeBufferPointer<Float>, shape: [Int]) {
        precondition(shape.reduce(1, *) == floats.count, "\(name): \(floats.count) values for shape \(shape)")
        var bytes = Data(capacity: floats.count * 4)
        for value in floats { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        append(name, .F32, shape, bytes)
    }

    public mutating func add(_ name: String, floats: [Float], shape: [Int]) {
        floats.withUnsafeBufferPointer { add(name, floats: $0, shape: shape) }
    }

    public mutating func add(_ name: String, int64s: [Int64], shape: [Int]) {
        precondition(shape.reduce(1, *) == int64s.count, "\(name): \(int64s.count) values for shape \(shape)")
        var bytes = Data(capacity: int64s.count * 8)
        for value in int64s { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        append(name, .I64, shape, bytes)
    }

    private mutating func append(_ name: String, _ dtype: SafetensorsDType, _ shape: [Int], _ bytes: Data) {
        precondition(!names.contains(name) && name != "__metadata__", "tensor \(name) added twice")
        names.insert(name)
        let begin = buffer.count
        buffer.append(bytes)
        let shapeText = shape.map(String.init).joined(separator: ",")
        header.append("\(Self.quoted(name)):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(shapeText)],\"data_offsets\":[\(begin),\(buffer.count)]}")
    }

    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    public func bytes() -> Data {
        var fields: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(Self.quoted($0)):\(Self.quoted(metadata[$0]!))" }
            fields.append("\"__metadata__\":{\(items.joined(separator: ","))}")
        }
        var json = Data(("{" + (fields + header).joined(separator: ",") + "}").utf8)
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var file = Data(capacity: 8 + json.count + buffer.count)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(buffer)
        return file
    }

    /// Writes atomically (temporary file, fsync, rename).
    public func write(to path: String) throws { try AtomicFile.write(bytes(), to: path) }
}

// A PNG written a band of rows at a time (libpng's row writer, through the C shim), so an image
// never has to be whole in memory: `upscale` streams its result by tile rows. Rows come in as
// planar floats in [0,1] and are rounded and clamped to 8 or 16 bits (gray: Rec. 601 luma) the
// one way every planar PNG of the project is written. The file is written under a temporary
// name and renamed into place by `finish`; a writer dropped unfinished removes it.

import CPNGShim
import Foundation

public final class PNGRowWriter {
    public let path: String
    public let width: Int, height: Int, bitDepth: Int, gray: Bool
    public private(set) var rowsWritten = 0
    private let temporary: String
    private var writer: OpaquePointer?
    private var samples: [UInt16] = []

    public init(path: String, width: Int, height: Int, bitDepth: Int, gray: Bool) throws {
        self.path = path
        self.width = width
        self.height = height
        self.bitDepth = bitDepth == 16 ? 16 : 8
        self.gray = gray
        temporary = "\(path).tmp-\(getpid())"
        var message = [CChar](repeating: 0, count: 512)
        guard width > 0, height > 0, width <= Int(UInt32.max), height <= Int(UInt32.max),
              let writer = srpng_row_writer_open(temporary, UInt32(width), UInt32(height), Int32(self.bitDepth), gray ? 0 : 2, &message, message.count)
        else {
            throw DataError(path, "cannot write PNG: \(String(cString: message))", hint: "check that the folder exists and has space")
        }
        self.writer = writer
    }

    deinit {
        if let writer {
            srpng_row_writer_close(writer, nil, 0)
            unlink(temporary)
        }
    }

    /// Appends `rows` rows: `values` holds (3, rows, width) planar floats.
    public func append(_ values: UnsafeBufferPointer<Float>, rows: Int) throws {
        precondition(values.count >= 3 * rows * width && rowsWritten + rows <= height, "band of \(rows) rows does not fit")
        let plane = rows * width, channels = gray ? 1 : 3
        let maximum: Float = bitDepth == 16 ? 65535 : 255
        if samples.count < channels * plane { samples = [UInt16](repeating: 0, count: channels * plane) }
        for i in 0..<plane {
            if gray {
                let y = 0.299 * values[i] + 0.587 * values[plane + i] + 0.114 * values[2 * plane + i]
                samples[i] = UInt16(min(max((y * maximum).rounded(), 0), maximum))
            } else {
                for c in 0..<3 { samples[3 * i + c] = UInt16(min(max((values[c * plane + i] * maximum).rounded(), 0), maximum)) }
            }
        }
        var message = [CChar](repeating: 0, count: 512)
        let status: Int32 = bitDepth == 16
            ? samples.withUnsafeBytes { srpng_row_writer_write(writer, $0.baseAddress, UInt32(rows), &message, message.count) }
            : samples.prefix(channels * plane).map { UInt8($0) }.withUnsafeBytes {
                srpng_row_writer_write(writer, $0.baseAddress, UInt32(rows), &message, message.count)
            }
        guard status == 0 else {
            throw DataError(path, "cannot write PNG rows \(rowsWritten)..<\(rowsWritten + rows): \(String(cString: message))",
                            hint: "check that the folder has space")
        }
        rowsWritten += rows
    }

    /// Ends the file (every row must have been appended) and renames it into place.
    public func finish() throws {
        guard let writer else { return }
        self.writer = nil
        var message = [CChar](repeating: 0, count: 512)
        guard srpng_row_writer_close(writer, &message, message.count) == 0 else {
            unlink(temporary)
            throw DataError(path, "cannot write PNG: \(String(cString: message))", hint: "check that the folder exists and has space")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw DataError(path, "cannot rename the finished PNG into place: \(String(cString: strerror(errno)))",
                            hint: "check that --output names a file in a writable folder")
        }
    }
}

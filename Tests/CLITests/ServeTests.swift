// `srgan-dist serve` as a user meets it: the release binary serving a tiny trained model on a
// loopback port, spoken to over HTTP (good and bad uploads, 20 at once) and through its page in a
// real headless Chromium (scripts/browser_test.py, with Debian's chromium, chromium-driver and
// python3-selenium).

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

final class ServeTests: XCTestCase {
    static var work = ""
    static var server: ServerProcess?
    static var setupError: String?
    /// The test image: small, so 20 uploads at once stay quick on 2 cores.
    static let inputWidth = 40, inputHeight = 30

    override class func setUp() {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-serve-\(getpid())").path
        try? FileManager.default.removeItem(atPath: work)
        do {
            let pack = try runSRGANDist(["pack", "--input", repository.appendingPathComponent("samples/photos").path,
                                         "--output", work + "/packed", "--patch-size", "48", "--stride", "96", "--val-images", "2"])
            guard pack.status == 0 else { setupError = "pack failed: \(pack.error)"; return }
            let train = try runSRGANDist(["train", "--preset", "tiny", "--data", work + "/packed", "--steps", "2", "--run", work + "/run"])
            guard train.status == 0 else { setupError = "train failed: \(train.error)"; return }
            // Small limits, so that the refusals are cheap to provoke: 1 MB, 0.01 megapixels (100x100).
            // --test-hold-file: the generator waits while that file exists (see the busy test).
            server = try ServerProcess(["--checkpoint", work + "/run", "--threads", "1",
                                        "--max-upload-mb", "1", "--max-megapixels", "0.01", "--test-hold-file", work + "/hold"])
        } catch {
            setupError = "\(error)"
        }
    }

    override class func tearDown() {
        server?.stop()
        try? FileManager.default.removeItem(atPath: work)
    }

    func running() throws -> ServerProcess {
        if let problem = Self.setupError { XCTFail(problem) }
        return try XCTUnwrap(Self.server, "the server did not start")
    }

    func testPageHealthAndAGoodUpload() async throws {
        let server = try running()
        let page = try await server.request("GET", "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.contentType.hasPrefix("text/html"), page.contentType)
        for id in ["file", "go", "bicubic", "model", "download", "error", "zoom"] {
            XCTAssertTrue(page.text.contains("id=\"\(id)\""), "the page has no #\(id)")
        }
        XCTAssertTrue(page.text.contains("PNG or JPEG images, up to 1 MB and 0.01 megapixels"), page.text)

        let health = try await server.request("GET", "/health")
        XCTAssertEqual(health.status, 200)
        let state = try XCTUnwrap(try JSONSerialization.jsonObject(with: health.body) as? [String: Any])
        XCTAssertEqual(state["status"] as? String, "ok")
        XCTAssertEqual(state["scale"] as? Int, 4)

        let input = TestPNG.encode(width: Self.inputWidth, height: Self.inputHeight)
        let response = try await server.request("POST", "/upscale", body: input)
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.contentType, "application/json")
        let result = try UpscaleAnswer(response.body)
        XCTAssertEqual([result.inputWidth, result.inputHeight], [Self.inputWidth, Self.inputHeight])
        XCTAssertEqual([result.outputWidth, result.outputHeight], [4 * Self.inputWidth, 4 * Self.inputHeight])
        for (name, png) in [("bicubic", result.bicubic), ("model", result.model)] {
            let header = try XCTUnwrap(TestPNG.header(png), "\(name) is not a PNG")
            XCTAssertEqual(header.width, 4 * Self.inputWidth, name)
            XCTAssertEqual(header.height, 4 * Self.inputHeight, name)
            XCTAssertEqual(header.colorType, 2, "\(name): an RGB input gives an RGB result")
        }
        XCTAssertNotEqual(result.bicubic, result.model, "the model's result equals bicubic byte for byte")
        // A gray input gives gray results.
        let gray = try await server.request("POST", "/upscale", body: TestPNG.encode(width: 9, height: 7, gray: true))
        XCTAssertEqual(gray.status, 200, gray.text)
        let grayResult = try UpscaleAnswer(gray.body)
        XCTAssertEqual(TestPNG.header(grayResult.model)?.colorType, 0)
        XCTAssertEqual(TestPNG.header(grayResult.model)?.width, 36)
    }

    func testBadUploadsGetA4xxAndAMessage() async throws {
        let server = try running()
        let good = TestPNG.encode(width: Self.inputWidth, height: Self.inputHeight)
        var damagedPixels = good
        damagedPixels.removeLast(40)  // IDAT cut short, IEND gone
        var damagedHeader = good
        damagedHeader[29] ^= 0xFF  // IHDR's CRC no longer matches
        let jpeg = Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10]) + Data("JFIF".utf8) + Data(repeating: 7, count: 200)  // a damaged JPEG
        let gif = Data("GIF89a".utf8) + Data(repeating: 7, count: 200)
        let tooManyBytes = Data(TestPNG.signature) + Data(repeating: 0, count: 1_100_000)
        let tooManyPixels = TestPNG.encode(width: 101, height: 100)  // 10,100 pixels > 10,000
        let cases: [(String, Data, Int, String)] = [
            ("empty", Data(), 400, "The upload is empty"),
            ("GIF", gif, 415, "not a PNG or JPEG file (it looks like a GIF): only PNG and JPEG images are supported"),
            ("damaged JPEG", jpeg, 422, "The image file is damaged"),
            ("text", Data("hello".utf8), 415, "not a PNG or JPEG file"),
            ("cut short", damagedPixels, 422, "The image file is damaged"),
            ("bad header CRC", damagedHeader, 422, "The image file is damaged"),
            ("signature only", Data(TestPNG.signature), 422, "The image file is damaged"),
            ("too many bytes", tooManyBytes, 413, "larger than 1 MB"),
            ("too many pixels", tooManyPixels, 413, "101x100, 0.0101 megapixels, above the limit of 0.01 megapixels"),
            // What curl -F file=@photo.png sends: told how to send the file instead (issue 18, finding 7).
            ("multipart", Data("--------------------------d74496d66958873e\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.png\"\r\nContent-Type: image/png\r\n\r\n".utf8) + good + Data("\r\n--------------------------d74496d66958873e--\r\n".utf8),
             415, "multipart form upload (what curl -F or an HTML form sends), not an image file: POST /upscale takes the PNG or JPEG file's own bytes as the whole request body, e.g. curl --data-binary @photo.png"),
        ]
        for (name, body, status, message) in cases {
            let response = try await server.request("POST", "/upscale", body: body)
            XCTAssertEqual(response.status, status, "\(name): \(response.text)")
            XCTAssertTrue(response.contentType.hasPrefix("text/plain"), "\(name): \(response.contentType)")
            XCTAssertTrue(response.text.contains(message), "\(name): \(response.text)")
            XCTAssertEqual(response.text.split(separator: "\n").count, 1, "\(name): one line, not a trace: \(response.text)")
        }
        // A body sent without Content-Length (chunked) is cut off at the limit all the same.
        let chunked = try await server.request("POST", "/upscale", body: tooManyBytes, chunked: true)
        XCTAssertEqual(chunked.status, 413, chunked.text)
        // The server is still well, and still upscales.
        let after = try await server.request("POST", "/upscale", body: good)
        XCTAssertEqual(after.status, 200, after.text)
        XCTAssertTrue(server.standardError.contains("Fatal error") == false, server.standardError)
    }

    func testTwentyConcurrentUploadsAllSucceed() async throws {
        let server = try running()
        // Twenty different images (sizes 24x18 .. 43x37), all sent at once, with page and health
        // requests among them: every one answered, each with its own result.
        let uploads = (0..<20).map { TestPNG.encode(width: 24 + $0, height: 18 + $0, seed: $0) }
        let answers = try await withThrowingTaskGroup(of: (Int, Reply).self) { group in
            for (index, body) in uploads.enumerated() {
                group.addTask { (index, try await server.request("POST", "/upscale", body: body)) }
                if index % 5 == 0 {
                    group.addTask { (-1, try await server.request("GET", index % 10 == 0 ? "/health" : "/")) }
                }
            }
            var answers: [Int: Reply] = [:]
            for try await (index, reply) in group {
                if index < 0 { XCTAssertEqual(reply.status, 200, "a page or health request during the uploads failed") }
                else { answers[index] = reply }
            }
            return answers
        }
        XCTAssertEqual(answers.count, 20)
        let waits = answers.values.compactMap { reply in
            ((try? JSONSerialization.jsonObject(with: reply.body)) as? [String: Any]).flatMap { ($0["timings"] as? [String: Any])?["queueMs"] as? Double }
        }
        print(String(format: "20 concurrent uploads: %d waited for the generator, %.0f ms at most", waits.filter { $0 > 1 }.count, waits.max() ?? 0))
        for index in 0..<20 {
            let reply = try XCTUnwrap(answers[index])
            XCTAssertEqual(reply.status, 200, "upload \(index): \(reply.text)")
            guard reply.status == 200 else { continue }
            let result = try UpscaleAnswer(reply.body)
            XCTAssertEqual(TestPNG.header(result.model)?.width, 4 * (24 + index), "upload \(index)")
            XCTAssertEqual(TestPNG.header(result.model)?.height, 4 * (18 + index), "upload \(index)")
            XCTAssertEqual(TestPNG.header(result.bicubic)?.width, 4 * (24 + index), "upload \(index)")
        }
        let health = try await server.request("GET", "/health")
        let state = try XCTUnwrap(try JSONSerialization.jsonObject(with: health.body) as? [String: Any])
        XCTAssertEqual(state["busy"] as? Int, 0)
        XCTAssertEqual(state["waiting"] as? Int, 0)
    }

    func testPageAndRefusalsAreAnsweredWhileTheGeneratorIsBusy() async throws {
        let server = try running()
        func health() async throws -> [String: Any] {
            let reply = try await server.request("GET", "/health")
            XCTAssertEqual(reply.status, 200)
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])
        }
        func waitFor(_ key: String, _ value: Int) async throws -> Bool {
            for _ in 0..<3000 {
                if try await health()[key] as? Int == value { return true }
                try await Task.sleep(nanoseconds: 20_000_000)
            }
            return false
        }
        // Hold the generator on the first upload; queue a second one behind it.
        let hold = Self.work + "/hold"
        XCTAssertTrue(FileManager.default.createFile(atPath: hold, contents: nil))
        defer { try? FileManager.default.removeItem(atPath: hold) }
        let first = Task { try await server.request("POST", "/upscale", body: TestPNG.encode(width: 20, height: 16)) }
        let held = try await waitFor("busy", 1)
        XCTAssertTrue(held, "the first upload never reached the generator")
        let second = Task { try await server.request("POST", "/upscale", body: TestPNG.encode(width: 12, height: 10)) }
        let queued = try await waitFor("waiting", 1)
        XCTAssertTrue(queued, "the second upload never queued")
        // Meanwhile: the page, health and refusals are answered.
        let page = try await server.request("GET", "/")
        XCTAssertEqual(page.status, 200)
        let refused = try await server.request("POST", "/upscale", body: Data("GIF89a".utf8))
        XCTAssertEqual(refused.status, 415, refused.text)
        XCTAssertTrue(refused.text.contains("it looks like a GIF"), refused.text)
        let tooLarge = try await server.request("POST", "/upscale", body: TestPNG.encode(width: 200, height: 200))
        XCTAssertEqual(tooLarge.status, 413, tooLarge.text)
        let state = try await health()
        XCTAssertEqual(state["busy"] as? Int, 1)
        XCTAssertEqual(state["waiting"] as? Int, 1)
        // Released: both finish, in order, with their own sizes.
        try FileManager.default.removeItem(atPath: hold)
        let results = try await [first.value, second.value]
        XCTAssertEqual(results.map(\.status), [200, 200], results.map(\.text).joined(separator: "\n"))
        XCTAssertEqual(try UpscaleAnswer(results[0].body).outputWidth, 80)
        XCTAssertEqual(try UpscaleAnswer(results[1].body).outputWidth, 48)
        let idle = try await waitFor("busy", 0)
        XCTAssertTrue(idle)
    }

    /// A real headless Chromium: choose a file, upload, see both results, zoom, scroll, download;
    /// then a file that is not a PNG and one above the upload limit show the server's message.
    func testInAHeadlessBrowser() throws {
        let server = try running()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") else {
            throw XCTSkip("Chromium is not installed (Debian: apt-get install chromium chromium-driver python3-selenium)")
        }
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"),
                      "chromium is installed but chromedriver is not: apt-get install chromium-driver")
        let python = try XCTUnwrap(["/usr/bin/python3", "/usr/local/bin/python3"].first { candidate in
            FileManager.default.isExecutableFile(atPath: candidate) && (try? runProgram(candidate, ["-c", "import selenium"]))?.status == 0
        }, "no python3 with selenium: apt-get install python3-selenium (it goes to Debian's /usr/bin/python3)")
        let folder = Self.work + "/browser"
        try FileManager.default.createDirectory(atPath: folder + "/downloads", withIntermediateDirectories: true)
        try TestPNG.encode(width: Self.inputWidth, height: Self.inputHeight).write(to: URL(fileURLWithPath: folder + "/photo.png"))
        try (Data("GIF89a".utf8) + Data([1, 2, 3, 4])).write(to: URL(fileURLWithPath: folder + "/photo.gif"))  // JPEGs are accepted now
        try (Data(TestPNG.signature) + Data(repeating: 0, count: 1_200_000)).write(to: URL(fileURLWithPath: folder + "/large.png"))
        var arguments = [repository.appendingPathComponent("scripts/browser_test.py").path,
                         "--url", "http://127.0.0.1:\(server.port)/", "--image", folder + "/photo.png",
                         "--width", "\(Self.inputWidth)", "--height", "\(Self.inputHeight)", "--scale", "4",
                         "--downloads", folder + "/downloads", "--bad-file", folder + "/photo.gif", "--large-file", folder + "/large.png"]
        if let screenshot = ProcessInfo.processInfo.environment["SERVE_TEST_SCREENSHOT"] { arguments += ["--screenshot", screenshot] }
        let result = try runProgram(python, arguments)
        XCTAssertEqual(result.status, 0, result.output + result.error)
        XCTAssertTrue(result.output.contains("browser test passed"), result.output + result.error)
        let downloaded = try Data(contentsOf: URL(fileURLWithPath: folder + "/downloads/photo-x4.png"))
        XCTAssertEqual(TestPNG.header(downloaded)?.width, 4 * Self.inputWidth)
        XCTAssertEqual(TestPNG.header(downloaded)?.height, 4 * Self.inputHeight)
    }

    func testBadCheckpointOrBusyPortIsOneErrorLineAndSIGTERMStopsCleanly() throws {
        let missing = try runSRGANDist(["serve", "--checkpoint", Self.work + "/no-such-run", "--port", "0"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.error.hasPrefix("error: \(Self.work)/no-such-run: no such checkpoint"), missing.error)
        XCTAssertTrue(missing.error.contains("HINT:"), missing.error)
        XCTAssertEqual(missing.error.split(separator: "\n").count, 1, missing.error)

        let server = try running()
        let busy = try runSRGANDist(["serve", "--checkpoint", Self.work + "/run", "--port", "\(server.port)", "--threads", "1"])
        XCTAssertEqual(busy.status, 1)
        let line = try XCTUnwrap(busy.error.split(separator: "\n").last.map(String.init))
        XCTAssertTrue(line.hasPrefix("error: 127.0.0.1:\(server.port): cannot listen"), busy.error)
        XCTAssertTrue(line.contains("HINT:"), busy.error)

        // SIGTERM: a clean stop, exit 0, its scratch folder removed.
        let second = try ServerProcess(["--checkpoint", Self.work + "/run", "--threads", "1"])
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("srgan-dist-serve-\(second.process.processIdentifier)").path
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch), scratch)
        second.stop()
        XCTAssertEqual(second.process.terminationStatus, 0, second.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch), scratch)

        let badOption = try runSRGANDist(["serve", "--checkpoint", Self.work + "/run", "--max-upload-mb", "0"])
        XCTAssertNotEqual(badOption.status, 0)
        XCTAssertTrue(badOption.error.contains("--max-upload-mb must be positive"), badOption.error)
    }
}

/// What one HTTP request got back.
struct Reply: Sendable {
    let status: Int
    let contentType: String
    let body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// The JSON of POST /upscale, with the two PNGs decoded from base64.
struct UpscaleAnswer {
    let inputWidth, inputHeight, outputWidth, outputHeight: Int
    let bicubic, model: Data

    init(_ json: Data) throws {
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        func int(_ key: String) throws -> Int { try XCTUnwrap(object[key] as? Int, "no \(key) in the answer") }
        func png(_ key: String) throws -> Data {
            try XCTUnwrap((object[key] as? String).flatMap { Data(base64Encoded: $0) }, "no base64 \(key) in the answer")
        }
        inputWidth = try int("inputWidth")
        inputHeight = try int("inputHeight")
        outputWidth = try int("outputWidth")
        outputHeight = try int("outputHeight")
        bicubic = try png("bicubic")
        model = try png("model")
        XCTAssertNotNil(object["timings"] as? [String: Any])
    }
}

/// `srgan-dist serve ... --port 0` as a child process: the port it chose, read from what it prints.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    let session: URLSession
    private let printed = LockedText(), printedErrors = LockedText()

    var standardError: String { printedErrors.text }

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: srganDistBinary)
        process.arguments = ["serve", "--port", "0"] + arguments
        process.environment = childEnvironment
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 32
        configuration.timeoutIntervalForRequest = 120
        session = URLSession(configuration: configuration)
        for (pipe, text) in [(output, printed), (errors, printedErrors)] {
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                if data.isEmpty { handle.readabilityHandler = nil } else { text.append(data) }  // empty: end of file
            }
        }
        try process.run()
        // The server prints "listening on http://127.0.0.1:PORT/" once it accepts connections.
        var found: Int?
        let deadline = Date().addingTimeInterval(60)
        while found == nil && process.isRunning && Date() < deadline {
            let text = printed.text
            if let range = text.range(of: "listening on http://127.0.0.1:") {
                found = Int(text[range.upperBound...].prefix { $0.isNumber })
            } else {
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        guard let found else {
            if process.isRunning { process.terminate() }
            throw ServeTestError("the server printed no port within 60 s: \(printed.text) \(printedErrors.text)")
        }
        port = found
    }

    func request(_ method: String, _ path: String, body: Data? = nil, chunked: Bool = false) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if let body {
            request.setValue("image/png", forHTTPHeaderField: "Content-Type")
            if chunked { request.httpBodyStream = InputStream(data: body) } else { request.httpBody = body }
        }
        let (data, response) = try await session.data(for: request)
        let http = try XCTUnwrap(response as? HTTPURLResponse)
        return Reply(status: http.statusCode, contentType: http.value(forHTTPHeaderField: "Content-Type") ?? "", body: data)
    }

    /// SIGTERM (the server shuts down gracefully), SIGKILL if it is still there after 20 s.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// Text a child process prints, appended from a reading thread.
final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var value = ""
    var text: String { lock.withLock { value } }
    func append(_ data: Data) { lock.withLock { value += String(decoding: data, as: UTF8.self) } }
}

struct ServeTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// PNG files made in memory (stored deflate blocks, no compression) and read back far enough to
/// know their size and colour type.
enum TestPNG {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// An 8-bit RGB (or gray) image: gradients and a ring, varied by `seed`.
    static func encode(width: Int, height: Int, gray: Bool = false, seed: Int = 0) -> Data {
        var raw: [UInt8] = []
        for y in 0..<height {
            raw.append(0)  // filter: none
            for x in 0..<width {
                let dx = Double(x) - Double(width) / 2, dy = Double(y) - Double(height) / 2
                let ring = abs((dx * dx + dy * dy).squareRoot() - Double(min(width, height)) / 3) < 2 ? 255 : 0
                let values = [(x * 255 / max(width - 1, 1) + seed * 11) % 256, y * 255 / max(height - 1, 1), ring]
                if gray { raw.append(UInt8((values[0] + values[1] + values[2]) / 3)) } else { raw += values.map { UInt8($0) } }
            }
        }
        var header = [UInt8]()
        header += bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, gray ? 0 : 2, 0, 0, 0]
        var file = signature
        file += chunk("IHDR", header) + chunk("IDAT", zlibStored(raw)) + chunk("IEND", [])
        return Data(file)
    }

    /// (width, height, colour type) from the IHDR chunk, or nil when `data` is not a PNG.
    static func header(_ data: Data) -> (width: Int, height: Int, colorType: Int)? {
        let bytes = [UInt8](data.prefix(26))
        guard bytes.count == 26, Array(bytes[0..<8]) == signature, Array(bytes[12..<16]) == Array("IHDR".utf8) else { return nil }
        let number = { (at: Int) in bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (number(16), number(20), Int(bytes[25]))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }

    static func chunk(_ type: String, _ payload: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + payload
        return bigEndian(UInt32(payload.count)) + typed + bigEndian(crc32(typed))
    }

    /// zlib stream of stored (uncompressed) deflate blocks.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let count = min(65535, data.count - offset)
            let last = offset + count == data.count
            out += [last ? 1 : 0, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            out += data[offset..<(offset + count)]
            offset += count
        } while offset < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return out + bigEndian(b << 16 | a)
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

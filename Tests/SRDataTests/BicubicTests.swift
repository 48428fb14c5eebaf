import Foundation
import SRData
import XCTest

final class BicubicTests: XCTestCase {
    func testMatchesMATLABImresizeFixture() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: dataFixtures + "/bicubic.json"))
        let cases = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 5)
        for item in cases {
            let channels = item["channels"] as! Int, height = item["height"] as! Int, width = item["width"] as! Int
            let scale = (item["scale"] as! NSNumber).doubleValue
            let input = (item["input"] as! [NSNumber]).map(\.floatValue)
            let expected = (item["output"] as! [NSNumber]).map(\.floatValue)
            let resizer = BicubicResizer(inHeight: height, inWidth: width, scale: scale)
            XCTAssertEqual(resizer.outHeight, item["out_height"] as! Int)
            XCTAssertEqual(resizer.outWidth, item["out_width"] as! Int)
            let output = resizer.resize(input, channels: channels)
            XCTAssertEqual(output.count, expected.count)
            let worst = zip(output, expected).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 2e-6, "scale \(scale) \(height)x\(width): worst difference \(worst)")
        }
    }

    func testConstantStaysConstantAndWeightsSumToOne() {
        let resizer = BicubicResizer(inHeight: 96, inWidth: 96, scale: 0.25)
        XCTAssertEqual(resizer.outHeight, 24)
        let output = resizer.resize([Float](repeating: 0.37, count: 3 * 96 * 96), channels: 3)
        XCTAssertTrue(output.allSatisfy { abs($0 - 0.37) < 1e-6 })
        let taps = ResizeTaps(inLength: 96, outLength: 24, scale: 0.25)
        XCTAssertEqual(taps.taps, 18)  // ceil(4 / 0.25) + 2
        for row in 0..<24 {
            XCTAssertEqual(taps.weights[(row * 18)..<((row + 1) * 18)].reduce(0, +), 1, accuracy: 1e-6)
        }
    }
}

// Plain-loop references for the Winograd tile transforms and layout copies of Sources/CKernels,
// written from the matrices themselves (not the factored column formulas the fast kernels use),
// with the same arguments as the C kernels. Tests compare every ISA path against these; each
// returns, beside the result, the elementwise bound |B^T| |d| |B| (resp. |A^T| |M| |A|, |A| |dY| |A^T|)
// that a floating-point error bound scales with.

/// B^T (6x6), A^T (4x6) of F(4x4, 3x3).
public let winogradInputMatrix: [[Float]] = [
    [4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1],
]
public let winogradOutputMatrix: [[Float]] = [
    [1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1],
]

/// left (r x k) . x (k x k') . right^T (r' x k'), in double, and the same with absolute values.
private func sandwich(_ left: [[Float]], _ x: [[Double]], _ right: [[Float]]) -> (value: [[Double]], magnitude: [[Double]]) {
    let rows = left.count, columns = right.count
    var value = Array(repeating: Array(repeating: 0.0, count: columns), count: rows), magnitude = value
    for i in 0..<rows {
        for j in 0..<columns {
            for a in 0..<x.count {
                for b in 0..<x[a].count {
                    let term = Double(left[i][a]) * x[a][b] * Double(right[j][b])
                    value[i][j] += term
                    magnitude[i][j] += abs(term)
                }
            }
        }
    }
    return (value, magnitude)
}

/// d: 6x6 channel vectors at d + r * rowStride + k * channels -> V[6i + k] at v + (6i + k) * plane;
/// bound gets |B^T| |d| |B| in the same places.
public func winogradInputTileReference(_ d: UnsafePointer<Float>, rowStride: Int, channels: Int,
                                       v: UnsafeMutablePointer<Float>, bound: UnsafeMutablePointer<Float>, plane: Int) {
    for c in 0..<channels {
        let tile = (0..<6).map { r in (0..<6).map { k in Double(d[r * rowStride + k * channels + c]) } }
        let (value, magnitude) = sandwich(winogradInputMatrix, tile, winogradInputMatrix)
        for i in 0..<6 {
            for k in 0..<6 {
                v[(6 * i + k) * plane + c] = Float(value[i][k])
                bound[(6 * i + k) * plane + c] = Float(magnitude[i][k])
            }
        }
    }
}

/// M[6i + k] at m + (6i + k) * plane -> Y = A^T M A at y + p * rowStride + q * channels.
public func winogradOutputTileReference(_ m: UnsafePointer<Float>, plane: Int, channels: Int,
                                        y: UnsafeMutablePointer<Float>, bound: UnsafeMutablePointer<Float>, rowStride: Int) {
    for c in 0..<channels {
        let tile = (0..<6).map { i in (0..<6).map { k in Double(m[(6 * i + k) * plane + c]) } }
        let (value, magnitude) = sandwich(winogradOutputMatrix, tile, winogradOutputMatrix)
        for p in 0..<4 {
            for q in 0..<4 {
                y[p * rowStride + q * channels + c] = Float(value[p][q])
                bound[p * rowStride + q * channels + c] = Float(magnitude[p][q])
            }
        }
    }
}

/// dY at y + p * rowStride + q * channels -> dM = A dY A^T at dm + (6i + k) * plane.
public func winogradOutputGradTileReference(_ y: UnsafePointer<Float>, rowStride: Int, channels: Int,
                                            dm: UnsafeMutablePointer<Float>, bound: UnsafeMutablePointer<Float>, plane: Int) {
    let a = (0..<6).map { i in (0..<4).map { p in winogradOutputMatrix[p][i] } }  // A (6x4)
    for c in 0..<channels {
        let tile = (0..<4).map { p in (0..<4).map { q in Double(y[p * rowStride + q * channels + c]) } }
        let (value, magnitude) = sandwich(a, tile, a)
        for i in 0..<6 {
            for k in 0..<6 {
                dm[(6 * i + k) * plane + c] = Float(value[i][k])
                bound[(6 * i + k) * plane + c] = Float(magnitude[i][k])
            }
        }
    }
}

// Winograd F(4x4, 3x3) for 3x3 stride-1 "same" convolutions (Lavin & Gray 2016): the bulk of the
// generator, discriminator and VGG19. Each 4x4 output tile comes from a 6x6 input tile:
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A
// so 36 element-wise products replace 144 multiply-adds per tile and channel pair; summed over
// input channels, the products are 36 sgemms per chunk of tiles:
//   M[xi] (OC, T) = U[xi] (OC, C) x V[xi] (C, T),   xi = 0..<36, T = tiles in the chunk
// 4x fewer multiply-adds than im2col; the transforms are O(C*T + OC*T) and run on both cores.
//
// Backward:
//   input gradient: a 3x3 "same" convolution of the output gradient with the kernel rotated by
//     180 degrees and its channels swapped, by the same forward path;
//   weight gradient: the adjoint of the forward in the weights, exactly:
//     dU[xi] (OC, C) = dM[xi] (OC, T) x V[xi]^T (T, C),  dM = A dY A^T per tile,  dg = G^T dU G.
// Tiles that run past the image read zeros and their outputs are dropped (and their gradients
// are zero), so any H, W work. The batch is processed in chunks of whole images that keep the
// transformed tiles within a few MB.

import Foundation

/// Whether `convForward`/`convBackward` take the Winograd path for this geometry.
func usesWinograd(_ g: ConvGeometry) -> Bool {
    g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1 && g.padding == 1
        && g.inChannels >= 8 && g.outChannels >= 8 && !Winograd.disabled
}

public enum Winograd {
    /// Turns the Winograd path off (benchmarks and tests compare it with im2col).
    nonisolated(unsafe) public static var disabled = false
    static let tile = 6, outputTile = 4, points = 36
    /// Tiles per chunk, about: enough columns for an efficient sgemm, small enough for cache
    /// (tests lower it to cover chunking).
    nonisolated(unsafe) public static var chunkTiles = 1152
}

/// Tile counts of one geometry.
private struct TileGrid {
    let g: ConvGeometry
    var tilesY: Int { (g.outHeight + 3) / 4 }
    var tilesX: Int { (g.outWidth + 3) / 4 }
    var perImage: Int { tilesY * tilesX }
    /// Whole images per chunk.
    var imagesPerChunk: Int { max(1, min(g.batch, Winograd.chunkTiles / perImage)) }
}

/// Runs body(i) for i in 0..<count, on both cores when BLAS may use more than one thread.
@inline(__always)
func parallelRange(_ count: Int, _ body: (Int) -> Void) {
    if count > 1 && BLASThreads.current > 1 {
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    } else {
        for i in 0..<count { body(i) }
    }
}

// MARK: transforms of one channel

/// d (H, W) of one channel -> V[xi][t] for the tiles of this image, V stride `pointStride` per xi.
/// scratch: 6 * (4*tilesX + 2) + 6 * (4*tilesX + 2) floats.
private func inputTransform(_ plane: UnsafePointer<Float>, height: Int, width: Int, tilesY: Int, tilesX: Int,
                            into v: UnsafeMutablePointer<Float>, pointStride: Int,
                            scratch: UnsafeMutablePointer<Float>) {
    let paddedWidth = 4 * tilesX + 2
    let rows = scratch, columnPass = scratch + 6 * paddedWidth
    for ty in 0..<tilesY {
        // rows[r] = input row 4ty - 1 + r, zero outside the image (column x at index x + 1)
        for r in 0..<6 {
            let row = rows + r * paddedWidth
            let y = 4 * ty - 1 + r
            row.update(repeating: 0, count: paddedWidth)
            if y >= 0 && y < height { (row + 1).update(from: plane + y * width, count: width) }
        }
        // columnPass[i] = (B^T d)[i] along the 6 rows, for every column
        let d0 = rows, d1 = rows + paddedWidth, d2 = rows + 2 * paddedWidth
        let d3 = rows + 3 * paddedWidth, d4 = rows + 4 * paddedWidth, d5 = rows + 5 * paddedWidth
        let c0 = columnPass, c1 = c0 + paddedWidth, c2 = c1 + paddedWidth
        let c3 = c2 + paddedWidth, c4 = c3 + paddedWidth, c5 = c4 + paddedWidth
        for x in 0..<paddedWidth {
            c0[x] = 4 * d0[x] - 5 * d2[x] + d4[x]
            c1[x] = -4 * (d1[x] + d2[x]) + d3[x] + d4[x]
            c2[x] = 4 * (d1[x] - d2[x]) - d3[x] + d4[x]
            c3[x] = 2 * (d3[x] - d1[x]) - d2[x] + d4[x]
            c4[x] = 2 * (d1[x] - d3[x]) - d2[x] + d4[x]
            c5[x] = 4 * d1[x] - 5 * d3[x] + d5[x]
        }
        // V[6i + j] = (B^T d B)[i][j]: the same 1-D transform along each tile's 6 columns
        for i in 0..<6 {
            let source = columnPass + i * paddedWidth
            let target = v + 6 * i * pointStride + ty * tilesX
            for tx in 0..<tilesX {
                let s = source + 4 * tx
                target[tx] = 4 * s[0] - 5 * s[2] + s[4]
                target[pointStride + tx] = -4 * (s[1] + s[2]) + s[3] + s[4]
                target[2 * pointStride + tx] = 4 * (s[1] - s[2]) - s[3] + s[4]
                target[3 * pointStride + tx] = 2 * (s[3] - s[1]) - s[2] + s[4]
                target[4 * pointStride + tx] = 2 * (s[1] - s[3]) - s[2] + s[4]
                target[5 * pointStride + tx] = 4 * s[1] - 5 * s[3] + s[5]
            }
        }
    }
}

/// M[xi][t] of one output channel -> y (H, W) = A^T M A per tile (+ bias); scratch 6 * 4*tilesX floats.
private func outputTransform(_ m: UnsafePointer<Float>, pointStride: Int, tilesY: Int, tilesX: Int,
                             into plane: UnsafeMutablePointer<Float>, height: Int, width: Int, bias: Float,
                             scratch: UnsafeMutablePointer<Float>) {
    let wideWidth = 4 * tilesX
    for ty in 0..<tilesY {
        // scratch[i][4tx + q] = (M A)[i][q]
        for i in 0..<6 {
            let source = m + 6 * i * pointStride + ty * tilesX
            let row = scratch + i * wideWidth
            for tx in 0..<tilesX {
                let s0 = source[tx], s1 = source[pointStride + tx], s2 = source[2 * pointStride + tx]
                let s3 = source[3 * pointStride + tx], s4 = source[4 * pointStride + tx], s5 = source[5 * pointStride + tx]
                let r = row + 4 * tx
                r[0] = s0 + s1 + s2 + s3 + s4
                r[1] = s1 - s2 + 2 * (s3 - s4)
                r[2] = s1 + s2 + 4 * (s3 + s4)
                r[3] = s1 - s2 + 8 * (s3 - s4) + s5
            }
        }
        // output rows 4ty + p = (A^T (M A))[p], clipped to the image
        let m0 = scratch, m1 = m0 + wideWidth, m2 = m1 + wideWidth
        let m3 = m2 + wideWidth, m4 = m3 + wideWidth, m5 = m4 + wideWidth
        let y0 = 4 * ty
        if y0 < height { let o = plane + y0 * width; for x in 0..<width { o[x] = m0[x] + m1[x] + m2[x] + m3[x] + m4[x] + bias } }
        if y0 + 1 < height { let o = plane + (y0 + 1) * width; for x in 0..<width { o[x] = m1[x] - m2[x] + 2 * (m3[x] - m4[x]) + bias } }
        if y0 + 2 < height { let o = plane + (y0 + 2) * width; for x in 0..<width { o[x] = m1[x] + m2[x] + 4 * (m3[x] + m4[x]) + bias } }
        if y0 + 3 < height { let o = plane + (y0 + 3) * width; for x in 0..<width { o[x] = m1[x] - m2[x] + 8 * (m3[x] - m4[x]) + m5[x] + bias } }
    }
}

/// dy (H, W) of one output channel -> dM[xi][t] = (A dY A^T)[i][j] per tile (the adjoint of
/// `outputTransform`); scratch 4 * 4*tilesX + 6 * 4*tilesX floats.
private func outputGradTransform(_ plane: UnsafePointer<Float>, height: Int, width: Int, tilesY: Int, tilesX: Int,
                                 into dm: UnsafeMutablePointer<Float>, pointStride: Int,
                                 scratch: UnsafeMutablePointer<Float>) {
    let wideWidth = 4 * tilesX
    let rows = scratch, columnPass = scratch + 4 * wideWidth
    for ty in 0..<tilesY {
        for p in 0..<4 {
            let row = rows + p * wideWidth
            let y = 4 * ty + p
            row.update(repeating: 0, count: wideWidth)
            if y < height { row.update(from: plane + y * width, count: width) }
        }
        let g0 = rows, g1 = rows + wideWidth, g2 = rows + 2 * wideWidth, g3 = rows + 3 * wideWidth
        let c0 = columnPass, c1 = c0 + wideWidth, c2 = c1 + wideWidth
        let c3 = c2 + wideWidth, c4 = c3 + wideWidth, c5 = c4 + wideWidth
        for x in 0..<wideWidth {
            c0[x] = g0[x]
            c1[x] = g0[x] + g1[x] + g2[x] + g3[x]
            c2[x] = g0[x] - g1[x] + g2[x] - g3[x]
            c3[x] = g0[x] + 2 * g1[x] + 4 * g2[x] + 8 * g3[x]
            c4[x] = g0[x] - 2 * g1[x] + 4 * g2[x] - 8 * g3[x]
            c5[x] = g3[x]
        }
        for i in 0..<6 {
            let source = columnPass + i * wideWidth
            let target = dm + 6 * i * pointStride + ty * tilesX
            for tx in 0..<tilesX {
                let s = source + 4 * tx
                target[tx] = s[0]
                target[pointStride + tx] = s[0] + s[1] + s[2] + s[3]
                target[2 * pointStride + tx] = s[0] - s[1] + s[2] - s[3]
                target[3 * pointStride + tx] = s[0] + 2 * s[1] + 4 * s[2] + 8 * s[3]
                target[4 * pointStride + tx] = s[0] - 2 * s[1] + 4 * s[2] - 8 * s[3]
                target[5 * pointStride + tx] = s[3]
            }
        }
    }
}

// MARK: weight transforms, on planes of all (OC, C) pairs at once (vectorised)

/// G (6, 3), the kernel transform of F(4x4, 3x3).
private let kernelTransform: [[Float]] = [
    [1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1],
]

/// out[p] = sum of coefficient x plane[p] over the nonzero terms, p in range.
@inline(__always)
private func combine(_ out: UnsafeMutablePointer<Float>, _ terms: [(Float, UnsafePointer<Float>)], _ range: Range<Int>) {
    let nonzero = terms.filter { $0.0 != 0 }
    guard let first = nonzero.first else { for p in range { out[p] = 0 }; return }
    let (a, x) = first
    for p in range { out[p] = a * x[p] }
    for (b, y) in nonzero.dropFirst() { for p in range { out[p] += b * y[p] } }
}

/// Splits 0..<count into one range per core (one range when BLAS runs on one thread).
private func parallelChunks(_ count: Int, _ body: (Range<Int>) -> Void) {
    let parts = count >= 4096 ? max(1, BLASThreads.current) : 1
    parallelRange(parts) { part in body((part * count / parts)..<((part + 1) * count / parts)) }
}

/// weight (OC, C, 3, 3) -> U (36, OC, C): U[xi][oc][c] = (G g G^T)[xi]; or with `flipped`
/// U (36, C, OC) of the kernels rotated by 180 degrees (the input-gradient convolution).
func winogradWeightTransform(_ weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int,
                             flipped: Bool) -> UnsafeMutablePointer<Float> {
    let pairs = outChannels * inChannels
    let u = UnsafeMutablePointer<Float>.allocate(capacity: 36 * pairs)
    // taps (9, pairs) then half (18, pairs) = G along kh
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 27 * pairs)
    defer { scratch.deallocate() }
    let taps = scratch, half = scratch + 9 * pairs
    parallelChunks(pairs) { range in
        for p in range {
            let (oc, c) = flipped ? (p % outChannels, p / outChannels) : (p / inChannels, p % inChannels)
            let k = weight + (oc * inChannels + c) * 9
            for t in 0..<9 { taps[t * pairs + p] = k[flipped ? 8 - t : t] }
        }
        for i in 0..<6 {
            for kw in 0..<3 {
                combine(half + (3 * i + kw) * pairs, (0..<3).map { (kernelTransform[i][$0], UnsafePointer(taps + (3 * $0 + kw) * pairs)) }, range)
            }
        }
        for i in 0..<6 {
            for j in 0..<6 {
                combine(u + (6 * i + j) * pairs, (0..<3).map { (kernelTransform[j][$0], UnsafePointer(half + (3 * i + $0) * pairs)) }, range)
            }
        }
    }
    return u
}

/// weightGrad (OC, C, 3, 3) += G^T dU[xi] G for dU (36, OC, C).
private func addWeightGradient(_ du: UnsafePointer<Float>, into weightGrad: UnsafeMutablePointer<Float>,
                               outChannels: Int, inChannels: Int) {
    let pairs = outChannels * inChannels
    // reduced (18, pairs) = dU G along j; taps (9, pairs) = G^T along i
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 27 * pairs)
    defer { scratch.deallocate() }
    let reduced = scratch, taps = scratch + 18 * pairs
    parallelChunks(pairs) { range in
        for i in 0..<6 {
            for kw in 0..<3 {
                combine(reduced + (3 * i + kw) * pairs, (0..<6).map { (kernelTransform[$0][kw], du + (6 * i + $0) * pairs) }, range)
            }
        }
        for kh in 0..<3 {
            for kw in 0..<3 {
                combine(taps + (3 * kh + kw) * pairs, (0..<6).map { (kernelTransform[$0][kh], UnsafePointer(reduced + (3 * $0 + kw) * pairs)) }, range)
            }
        }
        for p in range {
            let target = weightGrad + p * 9
            for t in 0..<9 { target[t] += taps[t * pairs + p] }
        }
    }
}

// MARK: the convolution

/// output (N,OC,H,W) = conv3x3(input (N,C,H,W), U) + bias, U from `weightTransform` as (36, OC, C).
private func winogradConvolve(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                              transformedWeight u: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                              batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int) {
    let g = ConvGeometry(batch: batch, inChannels: inChannels, inHeight: height, inWidth: width,
                         outChannels: outChannels, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)
    let grid = TileGrid(g: g)
    let chunkTiles = grid.imagesPerChunk * grid.perImage
    let v = UnsafeMutablePointer<Float>.allocate(capacity: 36 * inChannels * chunkTiles)
    let m = UnsafeMutablePointer<Float>.allocate(capacity: 36 * outChannels * chunkTiles)
    defer { v.deallocate(); m.deallocate() }
    let scratchSize = 12 * (4 * grid.tilesX + 2)
    var first = 0
    while first < batch {
        let images = min(grid.imagesPerChunk, batch - first)
        let tiles = images * grid.perImage
        // V (36, C, tiles)
        parallelRange(images * inChannels) { job in
            let (n, c) = (job / inChannels, job % inChannels)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchSize)
            defer { scratch.deallocate() }
            inputTransform(input + ((first + n) * inChannels + c) * g.inPlane, height: height, width: width,
                           tilesY: grid.tilesY, tilesX: grid.tilesX,
                           into: v + c * tiles + n * grid.perImage, pointStride: inChannels * tiles, scratch: scratch)
        }
        for xi in 0..<36 {
            // M[xi] (OC, tiles) = U[xi] (OC, C) x V[xi] (C, tiles)
            gemm(.none, .none, m: outChannels, n: tiles, k: inChannels,
                 a: u + xi * outChannels * inChannels, b: v + xi * inChannels * tiles, beta: 0,
                 c: m + xi * outChannels * tiles)
        }
        parallelRange(images * outChannels) { job in
            let (n, oc) = (job / outChannels, job % outChannels)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchSize)
            defer { scratch.deallocate() }
            outputTransform(m + oc * tiles + n * grid.perImage, pointStride: outChannels * tiles,
                            tilesY: grid.tilesY, tilesX: grid.tilesX,
                            into: output + ((first + n) * outChannels + oc) * g.outPlane,
                            height: height, width: width, bias: bias?[oc] ?? 0, scratch: scratch)
        }
        first += images
    }
}

/// output (N,OC,H,W) = conv3x3 same (input (N,C,H,W), weight (OC,C,3,3)) + bias (OC)
func winogradConvForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                         weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ g: ConvGeometry) {
    let u = winogradWeightTransform(weight, outChannels: g.outChannels, inChannels: g.inChannels, flipped: false)
    defer { u.deallocate() }
    winogradConvolve(output: output, input: input, transformedWeight: u, bias: bias, batch: g.batch,
                     inChannels: g.inChannels, outChannels: g.outChannels, height: g.inHeight, width: g.inWidth)
}

/// Given outputGrad (N,OC,H,W): weightGrad (OC,C,3,3) += dL/dW, biasGrad (OC) += dL/db, inputGrad
/// (N,C,H,W) = dL/dx (overwritten); each skipped when nil.
func winogradConvBackward(inputGrad: UnsafeMutablePointer<Float>?, weightGrad: UnsafeMutablePointer<Float>?,
                          biasGrad: UnsafeMutablePointer<Float>?, outputGrad: UnsafePointer<Float>,
                          input: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ g: ConvGeometry) {
    if let biasGrad {
        for n in 0..<g.batch {
            for oc in 0..<g.outChannels {
                let plane = outputGrad + (n * g.outChannels + oc) * g.outPlane
                var sum: Float = 0
                for i in 0..<g.outPlane { sum += plane[i] }
                biasGrad[oc] += sum
            }
        }
    }
    if let inputGrad {
        // dX = conv3x3 same (dY, rot180(W) with C and OC swapped)
        let flipped = winogradWeightTransform(weight, outChannels: g.outChannels, inChannels: g.inChannels, flipped: true)
        defer { flipped.deallocate() }
        winogradConvolve(output: inputGrad, input: outputGrad, transformedWeight: flipped, bias: nil, batch: g.batch,
                         inChannels: g.outChannels, outChannels: g.inChannels, height: g.inHeight, width: g.inWidth)
    }
    guard let weightGrad else { return }
    let grid = TileGrid(g: g)
    let chunkTiles = grid.imagesPerChunk * grid.perImage
    let (inChannels, outChannels) = (g.inChannels, g.outChannels)
    let v = UnsafeMutablePointer<Float>.allocate(capacity: 36 * inChannels * chunkTiles)
    let dm = UnsafeMutablePointer<Float>.allocate(capacity: 36 * outChannels * chunkTiles)
    let du = UnsafeMutablePointer<Float>.allocate(capacity: 36 * outChannels * inChannels)
    defer { v.deallocate(); dm.deallocate(); du.deallocate() }
    let scratchSize = 12 * (4 * grid.tilesX + 2)
    var first = 0
    while first < g.batch {
        let images = min(grid.imagesPerChunk, g.batch - first)
        let tiles = images * grid.perImage
        parallelRange(images * inChannels) { job in
            let (n, c) = (job / inChannels, job % inChannels)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchSize)
            defer { scratch.deallocate() }
            inputTransform(input + ((first + n) * inChannels + c) * g.inPlane, height: g.inHeight, width: g.inWidth,
                           tilesY: grid.tilesY, tilesX: grid.tilesX,
                           into: v + c * tiles + n * grid.perImage, pointStride: inChannels * tiles, scratch: scratch)
        }
        parallelRange(images * outChannels) { job in
            let (n, oc) = (job / outChannels, job % outChannels)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchSize)
            defer { scratch.deallocate() }
            outputGradTransform(outputGrad + ((first + n) * outChannels + oc) * g.outPlane, height: g.outHeight,
                                width: g.outWidth, tilesY: grid.tilesY, tilesX: grid.tilesX,
                                into: dm + oc * tiles + n * grid.perImage, pointStride: outChannels * tiles,
                                scratch: scratch)
        }
        for xi in 0..<36 {
            // dU[xi] (OC, C) (+)= dM[xi] (OC, tiles) x V[xi]^T (tiles, C)
            gemm(.none, .transposed, m: outChannels, n: inChannels, k: tiles,
                 a: dm + xi * outChannels * tiles, b: v + xi * inChannels * tiles, beta: first == 0 ? 0 : 1,
                 c: du + xi * outChannels * inChannels)
        }
        first += images
    }
    addWeightGradient(du, into: weightGrad, outChannels: outChannels, inChannels: inChannels)
}

// Winograd F(4x4, 3x3) for 3x3 stride-1 "same" convolutions (Lavin & Gray 2016): the bulk of the
// generator, discriminator and VGG19. Each 4x4 output tile comes from a 6x6 input tile:
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A
// so 36 element-wise products replace 144 multiply-adds per tile and channel pair; summed over
// input channels, they are 36 sgemms per chunk of T tiles, with channels innermost:
//   M[xi] (T, OC) = V[xi] (T, C) x U[xi] (C, OC),   xi = 0..<36
// 4x fewer multiply-adds than im2col. Channels innermost makes every transform a loop over
// contiguous channel vectors (vectorised): the input is first copied to a zero-padded
// channels-last buffer, and outputs are written back to NCHW from each tile's 16 vectors.
//
// Backward:
//   input gradient: a 3x3 "same" convolution of the output gradient with the kernel rotated by
//     180 degrees and its channels swapped, by the same forward path;
//   weight gradient: the adjoint of the forward in the weights, exactly:
//     dU[xi] (C, OC) = V[xi]^T (C, T) x dM[xi] (T, OC),  dM = A dY A^T per tile,  dg = G^T dU G.
// Tiles that run past the image read zeros and their outputs are dropped (their gradients are
// zero), so any H, W work. The batch goes in chunks of whole images, or of tile rows of one
// large image, that keep the transformed tiles within a few MB; transforms are split over the
// process's threads.
//
// Its products stay fp32 under `precision: bf16` (and layers over 512 or more channels leave it
// for the direct path in bf16, bf16DirectFromChannels): with bf16 inputs this F(4x4, 3x3) erred by
// 5e-2 of the largest output (its transforms' coefficients reach 8 and cancel), against 2e-3 for
// the direct paths in bf16 (ConvBF16Tests, 2026-12-02), and im2col in bf16 was slower than
// Winograd in fp32 on the SRResNet step (24.9 against 31.2 samples/s, AMD EPYC Zen 4).

import Foundation

/// Whether `convForward`/`convBackward` take the Winograd path for this geometry: 3x3 "same"
/// convolutions with 8 or more channels in and out. With RGB in, the transforms cost more than
/// they save (im2col stays); with few outputs (a 3x3 tail to RGB) the output-side path is faster
/// (measured on the tiny preset's 32 -> 3 tail: 3.1 ms against Winograd's 7.9 and im2col's 16.9).
func usesWinograd(_ g: ConvGeometry, _ options: ConvOptions) -> Bool {
    g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1 && g.padding == 1
        && g.inChannels >= 8 && g.outChannels >= 8 && options.winograd
        && !(options.precision == .bf16 && g.inChannels >= bf16DirectFromChannels)
}

/// Under bf16, 3x3 convolutions over this many input channels or more take the direct (im2col)
/// path in bf16 instead of Winograd in fp32: VGG19's 512-channel layers (12x12 and 6x6 at 96x96
/// patches), where the products outweigh the transforms. The SRGAN step in bf16 went from
/// 5.25-5.38 to 5.66-6.05 samples/s and its peak memory from 2050 to 1809 MB (Winograd's tile
/// buffers); from 256 channels on it was 5.1-5.6, from 128 3.7-5.2 (AMD EPYC Zen 4, 2026-12-02).
let bf16DirectFromChannels = 512

/// body(xi) for the 36 points of the transformed tile, split over the threads: the products are
/// independent single-threaded sgemms (see BLASThreads).
private func forEachPoint(work: Int, _ body: (Int) -> Void) {
    forEachRange(36, work: work) { points in
        for xi in points { body(xi) }
    }
}

/// The tiles of one convolution's images: a 6x6 input tile per 4x4 output tile.
private struct TileGrid {
    let height: Int, width: Int
    /// Floats of transformed tiles per chunk, about (ConvOptions.winogradChunkFloats).
    let chunkFloats: Int
    var tilesY: Int { (height + 3) / 4 }
    var tilesX: Int { (width + 3) / 4 }
    var perImage: Int { tilesY * tilesX }
    /// The zero-padded channels-last copy of one image: (4*tilesY + 2, 4*tilesX + 2, C).
    var paddedHeight: Int { 4 * tilesY + 2 }
    var paddedWidth: Int { 4 * tilesX + 2 }

    /// Whole images per chunk for `channels` floats per tile point (C + OC), the batch split
    /// into chunks of equal size.
    func imagesPerChunk(batch: Int, channels: Int) -> Int {
        let most = max(1, min(batch, chunkFloats / (36 * channels * perImage)))
        let chunks = (batch + most - 1) / most
        return (batch + chunks - 1) / chunks
    }

    /// Tile rows per chunk when one image alone is over the budget (large images: inference,
    /// validation), else all of them.
    func rowsPerChunk(channels: Int) -> Int {
        let most = max(1, min(tilesY, chunkFloats / (36 * channels * tilesX)))
        let chunks = (tilesY + most - 1) / most
        return (tilesY + chunks - 1) / chunks
    }

    /// The chunks of a batch: (first image, images, first tile row, tile rows).
    func chunks(batch: Int, channels: Int) -> [TileRows] {
        let images = imagesPerChunk(batch: batch, channels: channels)
        let rows = images > 1 ? tilesY : rowsPerChunk(channels: channels)
        var found: [TileRows] = []
        for firstImage in stride(from: 0, to: batch, by: images) {
            for firstRow in stride(from: 0, to: tilesY, by: rows) {
                found.append(TileRows(firstImage: firstImage, images: min(images, batch - firstImage),
                                      firstRow: firstRow, rows: min(rows, tilesY - firstRow), tilesX: tilesX))
            }
        }
        return found
    }
}

/// The tiles of one chunk: rows firstRow..<firstRow+rows of each of `images` images; tile t of
/// the chunk is (image t / (rows*tilesX), row firstRow + (t / tilesX) % rows, column t % tilesX).
private struct TileRows {
    let firstImage: Int, images: Int, firstRow: Int, rows: Int, tilesX: Int
    var tiles: Int { images * rows * tilesX }
    var tileRows: Int { images * rows }
    /// (image in the chunk, tile row in the image) of the chunk's tile row r.
    @inline(__always) func place(_ r: Int) -> (Int, Int) { (r / rows, firstRow + r % rows) }
}

// MARK: layout copies and tile transforms (Sources/CKernels, one copy per vector ISA)

/// planes (images, C, H, W) -> padded (images, Hp, Wp, C): zero border, channels last.
private func copyChannelsLast(_ planes: UnsafePointer<Float>, images: Int, channels: Int, _ grid: TileGrid,
                              border: Int, into padded: UnsafeMutablePointer<Float>) {
    let (hp, wp) = (grid.paddedHeight, grid.paddedWidth)
    let transpose = KernelPath.kernels.pointee.planes_to_channels_last!
    forEachRange(images * hp, work: images * hp * wp * channels) { rows in
        for row in rows {
            let (n, yp) = (row / hp, row % hp)
            let target = padded + row * wp * channels
            let y = yp - border
            guard y >= 0 && y < grid.height else {
                target.update(repeating: 0, count: wp * channels)
                continue
            }
            // zero the border columns only: the image's columns are all written below
            target.update(repeating: 0, count: border * channels)
            let right = (border + grid.width) * channels
            (target + right).update(repeating: 0, count: wp * channels - right)
            transpose(planes + (n * channels * grid.height + y) * grid.width, grid.height * grid.width, grid.width,
                      channels, target + border * channels)
        }
    }
}

/// padded (images, Hp, Wp, C) -> V (36, T, C) for the chunk's T tiles.
private func transformInputTiles(_ padded: UnsafePointer<Float>, _ chunk: TileRows, channels: Int, _ grid: TileGrid,
                                 into v: UnsafeMutablePointer<Float>) {
    let tiles = chunk.tiles, plane = tiles * channels
    let rowStride = grid.paddedWidth * channels
    let transform = KernelPath.kernels.pointee.winograd_input_tile!
    forEachRange(tiles, work: 72 * plane) { range in
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 36 * channels)
        defer { scratch.deallocate() }
        for t in range {
            let (n, ty) = chunk.place(t / grid.tilesX), tx = t % grid.tilesX
            let corner = padded + (n * grid.paddedHeight + 4 * ty) * rowStride + 4 * tx * channels
            transform(corner, rowStride, channels, v + t * channels, plane, scratch)
        }
    }
}

/// M (36, T, OC) -> output (images, OC, H, W) = A^T M A per tile, + bias. One tile row at a time:
/// its tiles' outputs are staged channels-last (4, 4*tilesX, OC), then written to NCHW a few channels
/// at a time, so each output plane is written along its rows (scattered single stores to every
/// plane per tile were a third of the inference time).
private func transformOutputTiles(_ m: UnsafePointer<Float>, _ chunk: TileRows, channels: Int, _ grid: TileGrid,
                                  bias: UnsafePointer<Float>?, into output: UnsafeMutablePointer<Float>) {
    let tiles = chunk.tiles, plane = tiles * channels
    let (height, width) = (grid.height, grid.width)
    let wide = 4 * grid.tilesX
    let kernels = KernelPath.kernels.pointee
    let transform = kernels.winograd_output_tile!, toPlanes = kernels.channels_last_to_planes!
    forEachRange(chunk.tileRows, work: 72 * plane) { tileRows in
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 24 * channels + 4 * wide * channels)
        defer { scratch.deallocate() }
        let half = scratch, staged = scratch + 24 * channels
        for tileRow in tileRows {
            let (n, ty) = chunk.place(tileRow)
            for tx in 0..<grid.tilesX {
                let t = tileRow * grid.tilesX + tx
                transform(m + t * channels, plane, channels, staged + 4 * tx * channels, wide * channels, half)
            }
            let rows = min(4, height - 4 * ty)
            let image = output + n * channels * height * width + 4 * ty * width
            for p in 0..<rows {
                toPlanes(staged + p * wide * channels, width, channels, bias, image + p * width, height * width)
            }
        }
    }
}

/// dY channels-last (images, Hp, Wp, OC) with no leading border, zero past the image -> dM (36, T, OC) = A dY A^T.
private func transformOutputGradTiles(_ grad: UnsafePointer<Float>, _ chunk: TileRows, channels: Int, _ grid: TileGrid,
                                      into dm: UnsafeMutablePointer<Float>) {
    let tiles = chunk.tiles, plane = tiles * channels
    let rowStride = grid.paddedWidth * channels
    let transform = KernelPath.kernels.pointee.winograd_output_grad_tile!
    forEachRange(tiles, work: 72 * plane) { range in
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 24 * channels)
        defer { scratch.deallocate() }
        for t in range {
            let (n, ty) = chunk.place(t / grid.tilesX), tx = t % grid.tilesX
            let corner = grad + (n * grid.paddedHeight + 4 * ty) * rowStride + 4 * tx * channels
            transform(corner, rowStride, channels, dm + t * channels, plane, scratch)
        }
    }
}

// MARK: weight transforms, in cache-sized blocks of channel pairs (vectorised along the pairs)

/// G (6, 3), the kernel transform of F(4x4, 3x3).
private let kernelTransform: [[Float]] = [
    [1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1],
]

/// Channel pairs per block: a block's scratch (27 planes of this many floats, 27 KB) stays in
/// the core's caches, so each weight is read once and each transformed value written once (the
/// whole-plane version made ~54 passes over memory: 10% of a VGG-bound GAN step, measured).
private let pairBlock = 256

/// out[q] = a x[q] + b y[q] + c z[q] for q in 0..<n.
@inline(__always)
private func combine3(_ out: UnsafeMutablePointer<Float>, _ n: Int, _ a: Float, _ x: UnsafePointer<Float>,
                      _ b: Float, _ y: UnsafePointer<Float>, _ c: Float, _ z: UnsafePointer<Float>) {
    let end = blockedEnd(n)
    var q = 0
    while q < end {
        storeBlock(a * loadBlock(x, q) + b * loadBlock(y, q) + c * loadBlock(z, q), out, q)
        q += floatBlockWidth
    }
    while q < n { out[q] = a * x[q] + b * y[q] + c * z[q]; q += 1 }
}

/// body(first pair, pairs in the block, scratch of 27 x pairBlock floats) for every block of
/// pairs, blocks split over the threads.
private func forEachPairBlock(_ pairs: Int, _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
    let blocks = (pairs + pairBlock - 1) / pairBlock
    forEachRange(blocks, work: 63 * pairs) { range in
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 27 * pairBlock)
        defer { scratch.deallocate() }
        for block in range {
            let first = block * pairBlock
            body(first, min(pairBlock, pairs - first), scratch)
        }
    }
}

/// weight (OC, C, 3, 3) -> U (36, C, OC) = G g G^T for the forward; with `flipped`, U (36, OC, C)
/// of the kernels rotated by 180 degrees (the input-gradient convolution, OC -> C).
func winogradWeightTransform(_ weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int,
                             flipped: Bool) -> UnsafeMutablePointer<Float> {
    let pairs = outChannels * inChannels
    let u = TensorMemory.allocate(36 * pairs)  // the caller releases it (36 x C x OC floats)
    let g = kernelTransform
    forEachPairBlock(pairs) { first, n, scratch in
        // taps (9, block), then half (18, block) = G along kh
        let taps = scratch, half = scratch + 9 * pairBlock
        for q in 0..<n {
            // pair p = row * columns + column, (row, column) = (c, oc) forward, (oc, c) flipped
            let p = first + q
            let (oc, c) = flipped ? (p / inChannels, p % inChannels) : (p % outChannels, p / outChannels)
            let k = weight + (oc * inChannels + c) * 9
            for t in 0..<9 { taps[t * pairBlock + q] = k[flipped ? 8 - t : t] }
        }
        for i in 0..<6 {
            for kw in 0..<3 {
                combine3(half + (3 * i + kw) * pairBlock, n, g[i][0], taps + kw * pairBlock,
                         g[i][1], taps + (3 + kw) * pairBlock, g[i][2], taps + (6 + kw) * pairBlock)
            }
        }
        for i in 0..<6 {
            let row = half + 3 * i * pairBlock
            for j in 0..<6 {
                combine3(u + (6 * i + j) * pairs + first, n, g[j][0], row, g[j][1], row + pairBlock, g[j][2], row + 2 * pairBlock)
            }
        }
    }
    return u
}

/// weightGrad (OC, C, 3, 3) += G^T dU[xi] G for dU (36, C, OC).
private func addWeightGradient(_ du: UnsafePointer<Float>, into weightGrad: UnsafeMutablePointer<Float>,
                               outChannels: Int, inChannels: Int) {
    let pairs = outChannels * inChannels
    let g = kernelTransform
    forEachPairBlock(pairs) { first, n, scratch in
        // reduced (18, block) = dU G along j; taps (9, block) = G^T along i
        let reduced = scratch, taps = scratch + 18 * pairBlock
        for i in 0..<6 {
            let row = du + 6 * i * pairs + first
            for kw in 0..<3 {
                let out = reduced + (3 * i + kw) * pairBlock
                combine3(out, n, g[0][kw], row, g[1][kw], row + pairs, g[2][kw], row + 2 * pairs)
                let rest = reduced + 18 * pairBlock  // taps' space, free until the next loop
                combine3(rest, n, g[3][kw], row + 3 * pairs, g[4][kw], row + 4 * pairs, g[5][kw], row + 5 * pairs)
                for q in 0..<n { out[q] += rest[q] }
            }
        }
        for kh in 0..<3 {
            for kw in 0..<3 {
                let out = taps + (3 * kh + kw) * pairBlock
                combine3(out, n, g[0][kh], reduced + kw * pairBlock, g[1][kh], reduced + (3 + kw) * pairBlock,
                         g[2][kh], reduced + (6 + kw) * pairBlock)
                for q in 0..<n {
                    out[q] += g[3][kh] * reduced[(9 + kw) * pairBlock + q] + g[4][kh] * reduced[(12 + kw) * pairBlock + q]
                        + g[5][kh] * reduced[(15 + kw) * pairBlock + q]
                }
            }
        }
        for q in 0..<n {
            let p = first + q
            let (c, oc) = (p / outChannels, p % outChannels)
            let target = weightGrad + (oc * inChannels + c) * 9
            for t in 0..<9 { target[t] += taps[t * pairBlock + q] }
        }
    }
}

// MARK: the convolution

/// output (N,OC,H,W) = conv3x3 same (input (N,C,H,W)) + bias, U (36, C, OC) from the weight transform.
private func winogradConvolve(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                              transformedWeight u: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                              batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int, chunkFloats: Int) {
    let grid = TileGrid(height: height, width: width, chunkFloats: chunkFloats)
    let chunks = grid.chunks(batch: batch, channels: inChannels + outChannels)
    let (chunkImages, chunkTiles) = (chunks[0].images, chunks[0].tiles)
    let paddedCount = chunkImages * grid.paddedHeight * grid.paddedWidth * inChannels
    let vCount = 36 * chunkTiles * inChannels, mCount = 36 * chunkTiles * outChannels
    let padded = TensorMemory.allocate(paddedCount), v = TensorMemory.allocate(vCount), m = TensorMemory.allocate(mCount)
    defer {
        TensorMemory.release(padded, count: paddedCount)
        TensorMemory.release(v, count: vCount)
        TensorMemory.release(m, count: mCount)
    }
    for chunk in chunks {
        let tiles = chunk.tiles
        if chunk.firstRow == 0 {  // the chunk's images, once
            copyChannelsLast(input + chunk.firstImage * inChannels * height * width, images: chunk.images,
                             channels: inChannels, grid, border: 1, into: padded)
        }
        transformInputTiles(padded, chunk, channels: inChannels, grid, into: v)
        forEachPoint(work: 2 * tiles * inChannels * outChannels) { xi in
            // M[xi] (tiles, OC) = V[xi] (tiles, C) x U[xi] (C, OC)
            gemm(.none, .none, m: tiles, n: outChannels, k: inChannels,
                 a: v + xi * tiles * inChannels, b: u + xi * inChannels * outChannels, beta: 0,
                 c: m + xi * tiles * outChannels)
        }
        transformOutputTiles(m, chunk, channels: outChannels, grid, bias: bias,
                             into: output + chunk.firstImage * outChannels * height * width)
    }
}

/// output (N,OC,H,W) = conv3x3 same (input (N,C,H,W), weight (OC,C,3,3)) + bias (OC)
func winogradConvForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                         weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ g: ConvGeometry, _ options: ConvOptions) {
    let u = winogradWeightTransform(weight, outChannels: g.outChannels, inChannels: g.inChannels, flipped: false)
    defer { TensorMemory.release(u, count: 36 * g.inChannels * g.outChannels) }
    winogradConvForward(output: output, input: input, transformedWeight: u, bias: bias, g, options)
}

/// The same with U (36, C, OC) = `winogradWeightTransform(weight, flipped: false)` made earlier
/// (a frozen layer keeps it between calls).
func winogradConvForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                         transformedWeight u: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ g: ConvGeometry,
                         _ options: ConvOptions) {
    winogradConvolve(output: output, input: input, transformedWeight: u, bias: bias, batch: g.batch,
                     inChannels: g.inChannels, outChannels: g.outChannels, height: g.inHeight, width: g.inWidth,
                     chunkFloats: options.winogradChunkFloats)
}

/// Given outputGrad (N,OC,H,W): weightGrad (OC,C,3,3) += dL/dW, biasGrad (OC) += dL/db, inputGrad
/// (N,C,H,W) = dL/dx (overwritten); each skipped when nil.
func winogradConvBackward(inputGrad: UnsafeMutablePointer<Float>?, weightGrad: UnsafeMutablePointer<Float>?,
                          biasGrad: UnsafeMutablePointer<Float>?, outputGrad: UnsafePointer<Float>,
                          input: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ g: ConvGeometry,
                          _ options: ConvOptions) {
    if let biasGrad { addBiasGradient(outputGrad, g, into: biasGrad) }
    if let inputGrad {
        // dX = conv3x3 same (dY, rot180(W) with C and OC swapped)
        let flipped = winogradWeightTransform(weight, outChannels: g.outChannels, inChannels: g.inChannels, flipped: true)
        defer { TensorMemory.release(flipped, count: 36 * g.inChannels * g.outChannels) }
        winogradConvolve(output: inputGrad, input: outputGrad, transformedWeight: flipped, bias: nil, batch: g.batch,
                         inChannels: g.outChannels, outChannels: g.inChannels, height: g.inHeight, width: g.inWidth,
                         chunkFloats: options.winogradChunkFloats)
    }
    guard let weightGrad else { return }
    let (inChannels, outChannels) = (g.inChannels, g.outChannels)
    let grid = TileGrid(height: g.inHeight, width: g.inWidth, chunkFloats: options.winogradChunkFloats)
    let chunks = grid.chunks(batch: g.batch, channels: inChannels + outChannels)
    let (chunkImages, chunkTiles) = (chunks[0].images, chunks[0].tiles)
    let paddedCount = chunkImages * grid.paddedHeight * grid.paddedWidth * inChannels
    let gradCount = chunkImages * grid.paddedHeight * grid.paddedWidth * outChannels
    let vCount = 36 * chunkTiles * inChannels, dmCount = 36 * chunkTiles * outChannels
    let padded = TensorMemory.allocate(paddedCount), gradLast = TensorMemory.allocate(gradCount)
    let v = TensorMemory.allocate(vCount), dm = TensorMemory.allocate(dmCount)
    let du = TensorMemory.allocate(36 * outChannels * inChannels)
    defer {
        TensorMemory.release(padded, count: paddedCount)
        TensorMemory.release(gradLast, count: gradCount)
        TensorMemory.release(v, count: vCount)
        TensorMemory.release(dm, count: dmCount)
        TensorMemory.release(du, count: 36 * outChannels * inChannels)
    }
    for (index, chunk) in chunks.enumerated() {
        let tiles = chunk.tiles
        if chunk.firstRow == 0 {
            copyChannelsLast(input + chunk.firstImage * inChannels * g.inPlane, images: chunk.images,
                             channels: inChannels, grid, border: 1, into: padded)
            // dY channels-last (images, Hp, Wp, OC), the image at the top left (no leading border)
            copyChannelsLast(outputGrad + chunk.firstImage * outChannels * g.outPlane, images: chunk.images,
                             channels: outChannels, grid, border: 0, into: gradLast)
        }
        transformInputTiles(padded, chunk, channels: inChannels, grid, into: v)
        transformOutputGradTiles(gradLast, chunk, channels: outChannels, grid, into: dm)
        forEachPoint(work: 2 * tiles * inChannels * outChannels) { xi in
            // dU[xi] (C, OC) (+)= V[xi]^T (C, tiles) x dM[xi] (tiles, OC)
            gemm(.transposed, .none, m: inChannels, n: outChannels, k: tiles,
                 a: v + xi * tiles * inChannels, b: dm + xi * tiles * outChannels, beta: index == 0 ? 0 : 1,
                 c: du + xi * inChannels * outChannels)
        }
    }
    addWeightGradient(du, into: weightGrad, outChannels: outChannels, inChannels: inChannels)
}

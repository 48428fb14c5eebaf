// Which convolution path a layer takes and how large the paths' working sets are: a value each
// Conv2d holds (`Conv2d.options`) and hands to every kernel call, so a benchmark or a test that
// compares paths sets it on the layers it builds instead of flipping a process-wide switch.
// The defaults are what training and inference run.

public struct ConvOptions: Equatable, Sendable {
    /// 3x3 stride-1 "same" convolutions over 8 or more channels take Winograd F(4x4,3x3); false:
    /// im2col + sgemm (the path Winograd is compared with).
    public var winograd = true
    /// Floats of Winograd's transformed tiles (V and M together) per chunk, about: the batch goes
    /// in chunks of whole images, or of tile rows of one large image, within it.
    public var winogradChunkFloats = 1 << 21
    /// Floats of the output-side path's tap products per band of padded rows, about 4 MB, kept
    /// in cache while they are added into the output whatever the image size (the whole 512x512
    /// image at once took a 263 MB product, written and read back from memory).
    public var outputSideBandFloats = 1 << 20
    /// A batch with an image per thread or more is split over the threads, each running the
    /// whole layer on its images (BatchSplit.swift), when one image's forward is at most
    /// `splitBatchMaxImageFlops`; false: one call whose kernels split their own work.
    public var splitBatch = true
    /// 20 MFLOP: the tiny preset's 12x12 layers (2.7 and 10.6 MFLOP an image) and its 3x3 tail
    /// (4 MFLOP), where the split made the step 1.2-1.35x as fast; on the paper's networks (42
    /// MFLOP and more an image) splitting everything measured no faster for the SRResNet step and
    /// within noise or slower for the SRGAN step (AMD EPYC family 25 model 17, 2026-12-02).
    public var splitBatchMaxImageFlops: Double = 2e7
    /// The products' inputs in fp32, or rounded to bfloat16 with fp32 sums (`precision: bf16`):
    /// forward, input gradient and weight gradient alike, on every path but Winograd, whose
    /// products stay fp32 (WinogradConv.swift says why).
    public var precision = ProductPrecision.fp32

    public init(winograd: Bool = true, winogradChunkFloats: Int = 1 << 21, outputSideBandFloats: Int = 1 << 20,
                splitBatch: Bool = true, splitBatchMaxImageFlops: Double = 2e7, precision: ProductPrecision = .fp32) {
        self.winograd = winograd
        self.winogradChunkFloats = winogradChunkFloats
        self.outputSideBandFloats = outputSideBandFloats
        self.splitBatch = splitBatch
        self.splitBatchMaxImageFlops = splitBatchMaxImageFlops
        self.precision = precision
    }
}

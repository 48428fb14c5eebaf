// Fully connected layer in torch.nn.Linear's layout: weight (OUT, IN), y = x W^T + b.

/// y (N,OUT) = x (N,IN) x weight^T (IN,OUT) + bias (OUT)
public func denseForward(output y: UnsafeMutablePointer<Float>, input x: UnsafePointer<Float>,
                         weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                         batch: Int, inFeatures: Int, outFeatures: Int, precision: ProductPrecision = .fp32) {
    parallelGemm(.none, .transposed, m: batch, n: outFeatures, k: inFeatures, a: x, b: weight, beta: 0, c: y,
                 precision: precision)
    if let bias {
        for n in 0..<batch {
            let row = y + n * outFeatures
            for o in 0..<outFeatures { row[o] += bias[o] }
        }
    }
}

/// weightGrad (OUT,IN) += dy^T x; biasGrad (OUT) += sum_n dy; inputGrad (N,IN) = dy W (overwritten).
public func denseBackward(inputGrad: UnsafeMutablePointer<Float>?, weightGrad: UnsafeMutablePointer<Float>?,
                          biasGrad: UnsafeMutablePointer<Float>?, outputGrad dy: UnsafePointer<Float>,
                          input x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                          batch: Int, inFeatures: Int, outFeatures: Int, precision: ProductPrecision = .fp32) {
    if let weightGrad {
        // weightGrad (OUT, IN) += dy^T (OUT, N) x x (N, IN)
        parallelGemm(.transposed, .none, m: outFeatures, n: inFeatures, k: batch, a: dy, b: x, beta: 1, c: weightGrad,
                     precision: precision)
    }
    if let biasGrad {
        for n in 0..<batch {
            let row = dy + n * outFeatures
            for o in 0..<outFeatures { biasGrad[o] += row[o] }
        }
    }
    if let inputGrad {
        // inputGrad (N, IN) = dy (N, OUT) x weight (OUT, IN)
        parallelGemm(.none, .none, m: batch, n: inFeatures, k: outFeatures, a: dy, b: weight, beta: 0, c: inputGrad,
                     precision: precision)
    }
}

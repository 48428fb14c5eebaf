// Concatenation along channels and its adjoint (the split), for the conditional discriminator
// and ConcatSkip (the U-Net's skips):
// the gradient of a concatenation is the split of the output gradient.

// a (N,Ca,H,W), b (N,Cb,H,W) -> out (N,Ca+Cb,H,W)
public func concatenateChannels(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape.count == 4 && b.shape.count == 4 && a.n == b.n && a.h == b.h && a.w == b.w,
                 "cannot concatenate \(a) and \(b) along channels")
    let out = Tensor(uninitializedShape: [a.n, a.c + b.c, a.h, a.w])
    let planeA = a.c * a.h * a.w, planeB = b.c * b.h * b.w, batch = a.n
    withPointers(out, a, b) { out, a, b in
        for n in 0..<batch {
            (out + n * (planeA + planeB)).update(from: a + n * planeA, count: planeA)
            (out + n * (planeA + planeB) + planeA).update(from: b + n * planeB, count: planeB)
        }
    }
    return out
}

// t (N,C,H,W) -> (N,first,H,W), (N,C-first,H,W)
public func splitChannels(_ t: Tensor, first: Int) -> (Tensor, Tensor) {
    precondition(t.shape.count == 4 && first > 0 && first < t.c, "cannot split \(t) after \(first) channels")
    let a = Tensor(uninitializedShape: [t.n, first, t.h, t.w]), b = Tensor(uninitializedShape: [t.n, t.c - first, t.h, t.w])
    let planeA = a.c * t.h * t.w, planeB = b.c * t.h * t.w, batch = t.n
    withPointers(a, b, t) { a, b, t in
        for n in 0..<batch {
            (a + n * planeA).update(from: t + n * (planeA + planeB), count: planeA)
            (b + n * planeB).update(from: t + n * (planeA + planeB) + planeA, count: planeB)
        }
    }
    return (a, b)
}

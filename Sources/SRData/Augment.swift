// The eight symmetries of the square (flips and 90-degree rotations), applied to a patch.

public enum Dihedral {
    /// Copies a P x P interleaved RGB patch into planar floats (3, P, P) scaled to [0, 1], under
    /// transform `t` in 0..<8: bit 0 flips horizontally, bit 1 vertically, bit 2 transposes.
    /// t = 0 is the identity.
    public static func toPlanar(_ patch: UnsafePointer<UInt8>, side p: Int, transform t: Int,
                                into planar: UnsafeMutablePointer<Float>) {
        let flipX = t & 1 != 0, flipY = t & 2 != 0, transpose = t & 4 != 0
        let scale: Float = 1 / 255
        for y in 0..<p {
            for x in 0..<p {
                // Output pixel (y, x) reads source (sy, sx).
                var sy = transpose ? x : y
                var sx = transpose ? y : x
                if flipY { sy = p - 1 - sy }
                if flipX { sx = p - 1 - sx }
                let source = patch + (sy * p + sx) * 3
                let target = y * p + x
                planar[target] = Float(source[0]) * scale
                planar[p * p + target] = Float(source[1]) * scale
                planar[2 * p * p + target] = Float(source[2]) * scale
            }
        }
    }
}

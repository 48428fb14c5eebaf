// What every srgan executable does first, before any thread or MPI starts: the BLAS on its best
// kernels (may re-execute the program), freed memory kept for reuse, a forced kernel path checked.

import Foundation

public enum ProcessStart {
    /// Stops with one error line (exit 2) when SRGAN_DIST_ISA names a path this CPU cannot run;
    /// prints the BLAS warning, if any, once per job (rank 0 under mpirun). `tool` prefixes both.
    public static func prepare(tool: String) {
        BLASCore.ensureBestCore(tool: tool)
        TensorMemory.keepFreedMemory()
        do {
            _ = try KernelPath.choose(KernelPath.environmentValue)
        } catch {
            FileHandle.standardError.write(Data("\(tool): error: \(error)\n".utf8))
            exit(2)
        }
        if let warning = BLASCore.warning, ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"].map({ $0 == "0" }) ?? true {
            FileHandle.standardError.write(Data("\(tool): warning: \(warning)\n".utf8))
        }
    }
}

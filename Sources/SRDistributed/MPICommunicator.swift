// The only file that calls MPI. Errors come back as return codes (MPI_ERRORS_RETURN) and become
// CommunicationError naming the rank; waits poll with a short sleep instead of spinning.

import CMPI
import Foundation

public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    private let world: MPI_Comm

    public init() throws {
        var provided: Int32 = 0
        var argc: Int32 = 0
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        guard MPI_Init_thread(&argc, &argv, srmpi_thread_funneled(), &provided) == srmpi_success() else {
            throw CommunicationError(rank: -1, problem: "MPI_Init_thread failed")
        }
        world = srmpi_comm_world()
        MPI_Comm_set_errhandler(world, srmpi_errors_return())
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(world, &r)
        MPI_Comm_size(world, &s)
        rank = Int(r)
        size = Int(s)
    }

    deinit { MPI_Finalize() }

    private func check(_ code: Int32, _ what: String) throws {
        guard code != srmpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(srmpi_max_error_string()))
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        throw CommunicationError(rank: rank, problem: "\(what) failed: \(String(cString: text))")
    }

    public func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
        var done = 0
        while done < count {  // MPI counts are 32-bit
            let chunk = min(count - done, Int(Int32.max))
            try check(MPI_Allreduce(srmpi_in_place(), buffer + done, Int32(chunk), srmpi_float(), srmpi_sum(), world), "MPI_Allreduce")
            done += chunk
        }
    }

    public func allReduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws {
        try check(MPI_Allreduce(srmpi_in_place(), buffer, Int32(count), srmpi_double(), srmpi_sum(), world), "MPI_Allreduce")
    }

    public func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int) throws {
        var done = 0
        while done < bytes {
            let chunk = min(bytes - done, Int(Int32.max))
            try check(MPI_Bcast(buffer + done, Int32(chunk), srmpi_byte(), Int32(root), world), "MPI_Bcast")
            done += chunk
        }
    }

    public func barrier() throws {
        var request = srmpi_request_null()
        try check(MPI_Ibarrier(world, &request), "MPI_Ibarrier")
        var finished: Int32 = 0
        while finished == 0 {
            try check(MPI_Test(&request, &finished, srmpi_status_ignore()), "MPI_Test")
            if finished == 0 { usleep(2000) }
        }
    }

    public func abort(code: Int32) -> Never {
        MPI_Abort(world, code)
        exit(code)
    }
}

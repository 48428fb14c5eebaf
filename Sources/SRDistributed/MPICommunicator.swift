// The only file that calls MPI. Errors come back as return codes (MPI_ERRORS_RETURN) and become
// CommunicationError naming the rank; waits poll instead of blocking inside MPI, which is what
// lets the watchdog act.
//
// Speed. Open MPI's non-blocking collectives (libnbc) move data only inside MPI_Test, so a wait
// that sleeps between tests stretches every round of a large all-reduce by the sleep: all-reduces
// and broadcasts spin on MPI_Test for up to `collectiveSpinSeconds` before sleeping. Barriers,
// where the other ranks wait for rank 0's validation or checkpoint for minutes, spin only 20 ms.
// And for an in-place MPI_Iallreduce libnbc picks its binomial tree (reduce to rank 0, then
// broadcast: log2(ranks) full copies each way) at every size, and for fewer than 4 ranks whatever
// the buffer; so before MPI_Init the communicator asks for Rabenseifner's reduce-scatter +
// all-gather (coll_libnbc_iallreduce_algorithm 3) unless the user chose an algorithm
// (`--mca coll_libnbc_iallreduce_algorithm N` or the OMPI_MCA_ variable, 0 for Open MPI's own).
//
// Watchdog (watchdogSeconds > 0): before each timed collective a rank sends the number of
// collectives it has entered to its successor in a ring (rank r -> r+1 mod size). When a
// collective has waited longer than the limit, a rank whose predecessor has not entered it yet
// names that predecessor and ends the job (MPI_Abort); so the rank that stopped responding is
// named by the next one, whichever it is. A rank that stops INSIDE a collective (it entered, so
// the count cannot name it) is named by its silence: waiting ranks re-send their count every
// `pingSeconds`, and a predecessor silent for longer than the limit is named. barrier() never times out: the others use it to wait
// for rank 0's validation and checkpoint writes, however long those take.

import CMPI
import Foundation

public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    public var watchdogSeconds: Double = 0
    private let world: MPI_Comm
    private static let heartbeatTag: Int32 = 7001
    private var entered: Int64 = 0
    private var predecessorEntered: Int64 = 0
    private let heartbeatIn = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
    private var heartbeatRequest: MPI_Request?
    private var sends: [(buffer: UnsafeMutablePointer<Int64>, request: MPI_Request?)] = []

    /// How long an all-reduce or broadcast polls MPI_Test without sleeping.
    public static let collectiveSpinSeconds = 2.0
    /// While waiting in a timed collective, a rank re-sends its heartbeat this often.
    static let pingSeconds = 0.5
    /// When the predecessor's last heartbeat arrived.
    private var lastHeard = DispatchTime.now().uptimeNanoseconds
    /// The same for a barrier (others waiting for rank 0's validation or checkpoint).
    public static let barrierSpinSeconds = 0.02
    /// Open MPI's MCA variable for the non-blocking all-reduce's algorithm, and Rabenseifner's number.
    static let allReduceAlgorithmVariable = "OMPI_MCA_coll_libnbc_iallreduce_algorithm"
    static let rabenseifner = "3"

    public init() throws {
        setenv(Self.allReduceAlgorithmVariable, Self.rabenseifner, 0)  // 0: a user's choice stays
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
        heartbeatRequest = srmpi_request_null()
    }

    deinit {
        if heartbeatRequest != srmpi_request_null() {
            MPI_Cancel(&heartbeatRequest)
            MPI_Wait(&heartbeatRequest, srmpi_status_ignore())
        }
        for send in sends {
            var request = send.request
            MPI_Wait(&request, srmpi_status_ignore())
            send.buffer.deallocate()
        }
        heartbeatIn.deallocate()
        MPI_Finalize()
    }

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
            try timed("MPI_Allreduce of \(chunk) floats") { request in
                MPI_Iallreduce(srmpi_in_place(), buffer + done, Int32(chunk), srmpi_float(), srmpi_sum(), world, &request)
            }
            done += chunk
        }
    }

    public func allReduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws {
        try timed("MPI_Allreduce of \(count) doubles") { request in
            MPI_Iallreduce(srmpi_in_place(), buffer, Int32(count), srmpi_double(), srmpi_sum(), world, &request)
        }
    }

    public func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int) throws {
        var done = 0
        while done < bytes {
            let chunk = min(bytes - done, Int(Int32.max))
            try timed("MPI_Bcast of \(chunk) bytes") { request in
                MPI_Ibcast(buffer + done, Int32(chunk), srmpi_byte(), Int32(root), world, &request)
            }
            done += chunk
        }
    }

    public func barrier() throws {
        var request = srmpi_request_null()
        try check(MPI_Ibarrier(world, &request), "MPI_Ibarrier")
        try wait(&request, "MPI_Ibarrier", limit: 0, spinSeconds: Self.barrierSpinSeconds)
    }

    public func abort(code: Int32) -> Never {
        MPI_Abort(world, code)
        exit(code)
    }

    /// Starts a non-blocking collective and waits for it under the watchdog.
    private func timed(_ what: String, _ start: (inout MPI_Request?) -> Int32) throws {
        heartbeat()
        var request = srmpi_request_null()
        try check(start(&request), what)
        try wait(&request, what, limit: watchdogSeconds, spinSeconds: Self.collectiveSpinSeconds)
    }

    /// Polls until `request` completes: MPI_Test back to back (yielding the core to any other
    /// runnable thread) for `spinSeconds`, then every millisecond.
    private func wait(_ request: inout MPI_Request?, _ what: String, limit: Double, spinSeconds: Double) throws {
        let begin = DispatchTime.now().uptimeNanoseconds
        var finished: Int32 = 0
        var pinged = 0.0
        while true {
            try check(MPI_Test(&request, &finished, srmpi_status_ignore()), what)
            if finished != 0 { return }
            let waited = Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9
            if waited < spinSeconds { sched_yield() } else { usleep(1000) }
            if limit > 0 && size > 1 && waited - pinged >= Self.pingSeconds {
                // Still alive, waiting: a rank stopped INSIDE a collective is named by its silence.
                pinged = waited
                sendHeartbeat()
                drainHeartbeats()
            }
            if limit > 0 && waited > limit && size > 1 { watchdogExpired(what, waited: waited, limit: limit) }
        }
    }

    /// Tells the successor how many timed collectives this rank has entered; takes in the predecessor's news.
    private func heartbeat() {
        guard watchdogSeconds > 0, size > 1 else { return }
        entered += 1
        drainHeartbeats()
        sendHeartbeat()
    }

    /// Sends the successor this rank's count of collectives entered (again, while waiting).
    private func sendHeartbeat() {
        let buffer = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
        buffer.pointee = entered
        var request = srmpi_request_null()
        MPI_Isend(buffer, 1, srmpi_int64(), Int32((rank + 1) % size), Self.heartbeatTag, world, &request)
        sends.append((buffer, request))
        sends.removeAll { send in
            var request = send.request, finished: Int32 = 0
            MPI_Test(&request, &finished, srmpi_status_ignore())
            if finished != 0 { send.buffer.deallocate() }
            return finished != 0
        }
    }

    private func drainHeartbeats() {
        while true {
            if heartbeatRequest == srmpi_request_null() {
                MPI_Irecv(heartbeatIn, 1, srmpi_int64(), Int32((rank + size - 1) % size), Self.heartbeatTag, world, &heartbeatRequest)
            }
            var finished: Int32 = 0
            MPI_Test(&heartbeatRequest, &finished, srmpi_status_ignore())
            guard finished != 0 else { return }
            predecessorEntered = max(predecessorEntered, heartbeatIn.pointee)
            lastHeard = DispatchTime.now().uptimeNanoseconds
            heartbeatRequest = srmpi_request_null()
        }
    }

    private func watchdogExpired(_ what: String, waited: Double, limit: Double) {
        drainHeartbeats()
        let predecessor = (rank + size - 1) % size
        if predecessorEntered < entered {
            FileHandle.standardError.write(Data(("error: rank \(predecessor) stopped responding: rank \(rank) has waited \(Int(waited)) s "
                + "(watchdog \(Int(limit)) s) in \(what) (collective #\(entered)), which rank \(predecessor) has not reached. "
                + "Ending the job. HINT: look at rank \(predecessor)'s host (hung, swapping, stopped, network down), "
                + "then restart with --resume to continue from the last checkpoint\n").utf8))
            abort(code: 3)
        }
        let silent = Double(DispatchTime.now().uptimeNanoseconds - lastHeard) / 1e9
        if silent > limit {
            FileHandle.standardError.write(Data(("error: rank \(predecessor) stopped responding: it reached \(what) "
                + "(collective #\(entered)) but has sent nothing for \(Int(silent)) s (watchdog \(Int(limit)) s; a waiting rank "
                + "signals every \(Self.pingSeconds) s). Ending the job. HINT: look at rank \(predecessor)'s host (hung, swapping, "
                + "stopped, network down), then restart with --resume to continue from the last checkpoint\n").utf8))
            abort(code: 3)
        }
        if waited > 2 * limit + 10 {
            FileHandle.standardError.write(Data(("error: rank \(rank): \(what) has not completed in \(Int(waited)) s (watchdog \(Int(limit)) s); "
                + "ending the job. HINT: another rank stopped responding (named above if it could be); restart with --resume\n").utf8))
            abort(code: 3)
        }
    }
}

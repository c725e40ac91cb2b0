import Foundation
import Glibc

/// Runs a child process to its end and measures it: wall time and, for a `--convoy-child`, its peak
/// resident set.
///
/// The peak comes from the child itself (`VmHWM` of `/proc/self/status`, written to a file as it
/// exits), not from `wait4`'s `ru_maxrss`: Linux counts into a spawned child's `ru_maxrss` the
/// peak of the parent it was spawned from, so a large orchestrator would inflate every child.
struct MeasuredProcess {
    var status: Int32
    var wallSeconds: Double
    /// Peak RSS in MiB, for a child that recorded it.
    var peakMiB: Double?

    /// Runs `executable` with `arguments`, its standard output discarded when `quiet`.
    static func run(_ executable: String, _ arguments: [String], quiet: Bool = true) throws -> MeasuredProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if quiet { posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0) }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let started = ContinuousClock.now
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw BenchmarkError("cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw BenchmarkError("waitpid: \(String(cString: strerror(errno)))") }
        }
        let wall = (ContinuousClock.now - started).seconds
        let exited = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return MeasuredProcess(status: exited, wallSeconds: wall)
    }

    /// Runs `convoy ARGUMENTS` in a `--convoy-child` of `executable` (the benchmark binary) and
    /// reads back the peak it recorded.
    static func convoy(_ executable: String, _ arguments: [String], scratch: String) throws -> MeasuredProcess {
        let peakFile = (scratch as NSString).appendingPathComponent("peak-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: peakFile) }
        var run = try run(executable, ["--convoy-child", peakFile] + arguments)
        let kib = (try? String(contentsOfFile: peakFile, encoding: .utf8)).flatMap { Double($0) }
        run.peakMiB = kib.map { $0 / 1024 }
        return run
    }

    /// Writes this process's peak RSS in KiB (`VmHWM`) to `path`.
    static func recordPeak(to path: String) throws {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kib = line.split(separator: " ").dropFirst().first
        else { throw BenchmarkError("no VmHWM in /proc/self/status") }
        try String(kib).write(toFile: path, atomically: true, encoding: .utf8)
    }
}

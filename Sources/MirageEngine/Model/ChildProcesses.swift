import Foundation

/// Every process the tool has started and not yet reaped, and every
/// temporary file it has not yet removed, so that nothing outlives the tool:
/// on SIGINT, SIGTERM, SIGHUP or SIGQUIT, or a closed standard output
/// (SIGPIPE), it ends them all before it exits. A signal it cannot catch
/// (SIGKILL) ends them too: each child is started through util-linux's
/// `setpriv --pdeathsig KILL`, so the kernel kills it when the thread that
/// started it ends, and that thread lives as long as the tool.
///
/// Foundation starts each child in a process group of its own, so a Ctrl-C
/// at the terminal never reaches qemu or swift-frontend: the tool must end
/// them itself, and ends the whole group (swiftc's swift-frontend with it).
public enum ChildProcesses {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var groups: Set<pid_t> = []
    nonisolated(unsafe) private static var temporaryFiles: Set<String> = []
    nonisolated(unsafe) private static var signalSources: [DispatchSourceSignal] = []
    /// The children a signal (or a closed output) ended: whoever waited for
    /// one stops there, so that the tool's status is the signal's and not the
    /// child's. A child started after, by the last words (swift-demangle), is
    /// waited for as usual.
    nonisolated(unsafe) private static var ended: Set<pid_t> = []
    /// What to finish once the children have ended on a signal, before the
    /// tool exits (`run --profile` writes what it sampled).
    nonisolated(unsafe) private static var lastWords: (() -> Void)?

    /// Runs `action` if a signal ends the tool, after its children ended; nil forgets it.
    public static func onSignal(_ action: (() -> Void)?) {
        lock.lock()
        lastWords = action
        lock.unlock()
    }

    /// Starts `process` and records its process group until `forget`.
    public static func start(_ process: Process) throws {
        if let setpriv = setpriv, let executable = process.executableURL {
            process.arguments = ["--pdeathsig", "KILL", "--", executable.path] + (process.arguments ?? [])
            process.executableURL = setpriv
        }
        lock.lock()
        defer { lock.unlock() }
        // Held across run() so that a signal cannot slip between the start and the record.
        try Spawner.shared.run { try process.run() }
        groups.insert(process.processIdentifier)
    }

    /// util-linux's setpriv (essential on Debian), if it is there.
    static let setpriv: URL? = ["/usr/bin/setpriv", "/bin/setpriv"].map(URL.init(fileURLWithPath:))
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }

    /// The process has been waited for.
    public static func forget(_ process: Process) {
        lock.lock()
        groups.remove(process.processIdentifier)
        let parked = ended.contains(process.processIdentifier)
        lock.unlock()
        while parked { pause() }    // the signal handler exits the tool
    }

    /// Removes `file` when the tool is interrupted, until `removeTemporary`.
    public static func temporary(_ file: URL) {
        lock.lock()
        temporaryFiles.insert(file.path)
        lock.unlock()
    }

    /// Removes `file` now and forgets it.
    public static func removeTemporary(_ file: URL) {
        lock.lock()
        temporaryFiles.remove(file.path)
        lock.unlock()
        try? FileManager.default.removeItem(at: file)
    }

    /// Waits for `process` at most `timeout` seconds, then ends its whole
    /// group and waits for that; whether it was stopped at the time limit.
    public static func wait(for process: Process, timeout: Double) -> Bool {
        // Through the termination handler, which Foundation calls from the
        // SIGCHLD source: waitUntilExit on a thread with no run loop spins
        // (on Linux it polls its run loop, which returns at once), and kept
        // a host core busy for as long as each qemu ran.
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        guard process.isRunning else { return false }
        guard exited.wait(timeout: .now() + timeout) == .timedOut else { return false }
        end(group: process.processIdentifier)
        exited.wait()
        return true
    }

    /// Ends a process's whole group: SIGTERM, then SIGKILL after `grace` seconds.
    public static func end(group: pid_t, grace: Double = 3) {
        guard group > 0 else { return }
        kill(-group, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while kill(-group, 0) == 0, Date() < deadline { usleep(20_000) }
        if kill(-group, 0) == 0 { kill(-group, SIGKILL) }
    }

    /// Ends every child and removes every temporary file.
    public static func endAll() {
        lock.lock()
        let running = groups, files = temporaryFiles
        ended.formUnion(running)
        groups.removeAll()
        temporaryFiles.removeAll()
        lock.unlock()
        for group in running { kill(-group, SIGTERM) }
        for group in running { end(group: group) }
        for file in files { try? FileManager.default.removeItem(atPath: file) }
    }

    /// Ends the children and the tool, as a signal would: standard output
    /// was closed (`mirage-config run | head`).
    public static func endForClosedOutput() -> Never {
        endAll()
        exit(128 + SIGPIPE)
    }

    /// On SIGINT, SIGTERM, SIGHUP and SIGQUIT: end the children, remove
    /// temporary files, and exit with 128 + the signal's number, as a shell
    /// reports it (no core and no backtrace for SIGQUIT). SIGPIPE is ignored:
    /// a write to a closed output fails, and `Output` ends the tool then.
    public static func endWithTheTool() {
        signal(SIGPIPE, SIG_IGN)
        for signalNumber in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                endAll()
                lock.lock()
                let action = lastWords
                lock.unlock()
                action?()
                exit(128 + signalNumber)
            }
            source.resume()
            signalSources.append(source)
        }
    }
}

/// A thread that starts every child and never ends: the kernel sends a
/// child's parent-death signal when the thread that started it ends, so the
/// children must not be started from a worker thread that may go idle and end.
final class Spawner: Thread {
    static let shared: Spawner = {
        let spawner = Spawner()
        spawner.start()
        return spawner
    }()

    private let requests = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private let serial = NSLock()
    private var work: (() -> Void)?

    /// Runs `body` on this thread and waits for it.
    func run(_ body: @escaping () throws -> Void) throws {
        serial.lock()
        defer { serial.unlock() }
        var failure: Error?
        work = {
            do { try body() } catch { failure = error }
        }
        requests.signal()
        done.wait()
        if let failure { throw failure }
    }

    override func main() {
        while true {
            requests.wait()
            work?()
            work = nil
            done.signal()
        }
    }
}

/// The tool's standard output, written so that a closed pipe
/// (`mirage-config run | head -2`) ends the children and the tool, instead
/// of leaving qemu running.
public enum Output {
    /// Writes `data` to standard output.
    public static func write(_ data: Data) {
        do { try FileHandle.standardOutput.write(contentsOf: data) } catch { ChildProcesses.endForClosedOutput() }
    }

    /// Writes `text` and a line break to standard output.
    public static func line(_ text: String) {
        write(Data((text + "\n").utf8))
    }

    /// Writes `text` and a line break to standard error; nothing if it is closed.
    public static func error(_ text: String) {
        try? FileHandle.standardError.write(contentsOf: Data((text + "\n").utf8))
    }
}

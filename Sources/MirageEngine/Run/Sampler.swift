import Foundation

/// Samples a running guest's call stack at a fixed rate through QEMU's
/// gdbstub (`run --profile`): each sample stops the guest (QEMU's virtual
/// clock stops with it, so the guest does not see the pause), reads its
/// registers, walks the frame records (r7 and lr, which every function of
/// the image keeps: it is built with frame pointers) and lets it go on. The
/// image needs no code of its own for it, so every board and every image
/// can be profiled as it is.
final class Sampler {
    let socketPath: String
    let rate: Int
    private let lock = NSLock()
    private var stacks: [[UInt32]] = []
    private var finished = false
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)

    init(socketPath: String, rate: Int) {
        self.socketPath = socketPath
        self.rate = rate
    }

    func start() {
        let thread = Thread { [self] in
            sample()
            done.signal()
        }
        thread.start()
        self.thread = thread
    }

    /// Waits for the sampling to end (qemu closes the socket as it exits) and returns the stacks.
    func finish() -> [[UInt32]] {
        lock.lock(); finished = true; lock.unlock()
        _ = done.wait(timeout: .now() + 10)
        lock.lock(); defer { lock.unlock() }
        return stacks
    }

    private var isFinished: Bool { lock.lock(); defer { lock.unlock() }; return finished }

    private func sample() {
        guard let remote = GDBRemote(path: socketPath, timeout: 30, stopped: { isFinished }) else { return }
        // However the sampling ends, the guest runs on without the stub.
        defer { _ = remote.send("D") }
        guard remote.start(), remote.send("c") else { return }
        // The guest runs a whole interval between samples, however long a
        // sample takes (qemu stops the guest's clock meanwhile): the rate is
        // one sample per interval of the guest's running time.
        let interval = useconds_t(1_000_000 / rate)
        while !isFinished {
            usleep(interval)
            guard remote.interrupt(), let stop = remote.receive(), stop.first == "T" || stop.first == "S" else { return }
            guard let stack = walk(remote) else { return }
            lock.lock(); stacks.append(stack); lock.unlock()
            guard remote.send("c") else { return }
        }
    }

    /// The stopped guest's stack, leaf first: the program counter, then the
    /// return address of each frame record from r7 on; nil if qemu went away.
    private func walk(_ remote: GDBRemote) -> [UInt32]? {
        guard let reply = remote.ask("g") else { return nil }
        let registers = GDBPacket.words(fromHex: reply)
        guard registers.count >= 16 else { return [] }
        var stack = [registers[15]]
        var frame = registers[7]
        let stackPointer = registers[13]
        // The stack above sp in one read, with the records in it; a record outside it is read alone.
        let window: UInt32 = 1024
        let above = remote.ask("m\(String(stackPointer, radix: 16)),\(String(window, radix: 16))").map(GDBPacket.words(fromHex:)) ?? []
        for _ in 0..<64 {
            guard frame != 0, frame % 4 == 0, frame >= stackPointer else { break }
            let record: [UInt32]
            if frame &- stackPointer + 8 <= UInt32(above.count * 4) {
                let index = Int((frame &- stackPointer) / 4)
                record = [above[index], above[index + 1]]
            } else {
                guard let reply = remote.ask("m\(String(frame, radix: 16)),8") else { return nil }
                record = GDBPacket.words(fromHex: reply)
            }
            guard record.count == 2, record[1] != 0 else { break }
            stack.append(record[1])
            guard record[0] > frame else { break }     // records run up the stack; anything else ends the walk
            frame = record[0]
        }
        return stack
    }
}

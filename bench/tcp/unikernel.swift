/// Fixed work over a wire in memory between two of the stack's own
/// interfaces (10.9.0.1, the client, and 10.9.0.2, the server): 1 MiB over
/// TCP to the server and 1 MiB back, then 1000 small HTTP requests and
/// answers on one kept-alive connection. Prints, for each, the guest
/// instructions it took (counted under QEMU's -icount only) and KiB/s or
/// requests/s by the board's clock.
struct StackBench {
    static let bulkPort: UInt16 = 5001, httpPort: UInt16 = 80
    static let bulkBytes = 1024 * 1024
    static let requests = 1000
    static let request = Array("GET / HTTP/1.1\r\nHost: 10.9.0.2\r\nUser-Agent: stack-bench\r\nAccept: */*\r\n\r\n".utf8)
    static let page = Array("<!doctype html>\n<html><head><title>mirage-config</title></head>\n<body><h1>Hello from a Swift unikernel</h1></body></html>\n".utf8)
    static let answer = Array("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: \(page.count)\r\nConnection: keep-alive\r\n\r\n".utf8) + page
    static let limit: UInt64 = 30_000_000_000

    static func start(console: some Console, clock: some Clock, entropy: some EntropyDevice, stack _: some NetworkStack) -> Int32 {
        let wire = MemoryWire()
        let client = IPStack(network: wire.left, clock: clock, random: entropy, mode: "ipv4", address: "10.9.0.1/24", gateway: "")
        let server = IPStack(network: wire.right, clock: clock, random: entropy, mode: "ipv4", address: "10.9.0.2/24", gateway: "")
        guard let bulk = try? server.listen(tcpPort: bulkPort), let http = try? server.listen(tcpPort: httpPort) else {
            print("cannot listen on the server's ports")
            return 1
        }
        do throws(TaskError) {
            _ = try Tasks.spawn(name: "bulk-server") { serveBulk(bulk) }
            _ = try Tasks.spawn(name: "http-server") { serveHTTP(http) }
        } catch {
            print("cannot start the servers: \(error.reason.text)")
            return 1
        }
        let peer = IPAddress.v4(IPv4Text.address("10.9.0.2")!)
        do throws(NetworkError) {
            let connection = try client.connect(to: peer, port: bulkPort, waitingAtMost: limit)
            let chunk = [UInt8](repeating: 0x5A, count: 16 * 1024)
            var started = clock.now(), counted = Runtime.instructions
            for _ in 0..<(bulkBytes / chunk.count) { try connection.write(chunk, waitingAtMost: limit) }
            // The server says it has every byte.
            guard try read(connection, count: 1) == [0x4B] else { print("the server did not confirm the upload"); return 1 }
            report("TCP 1 MiB to the server", amount: bulkBytes, since: started, counted, clock)
            started = clock.now(); counted = Runtime.instructions
            let back = try read(connection, count: bulkBytes)
            report("TCP 1 MiB from the server", amount: bulkBytes, since: started, counted, clock)
            guard back.count == bulkBytes, back.allSatisfy({ $0 == 0xA5 }) else { print("the download differs"); return 1 }
            connection.close(waitingAtMost: limit)

            let web = try client.connect(to: peer, port: httpPort, waitingAtMost: limit)
            started = clock.now(); counted = Runtime.instructions
            for index in 0..<requests {
                try web.write(request, waitingAtMost: limit)
                guard try read(web, count: answer.count) == answer else { print("answer \(index) differs"); return 1 }
            }
            report("1000 HTTP requests", amount: requests, since: started, counted, clock, unit: "requests/s", scale: 1)
            web.close(waitingAtMost: limit)
        } catch {
            print("the client failed: \(error.reason.text)")
            return 1
        }
        return 0
    }

    /// Exactly `count` bytes from `connection`, or fewer if it closes first.
    static func read(_ connection: some TCPStream, count: Int) throws(NetworkError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count {
            guard let piece = try connection.read(atMost: count - bytes.count, waitingAtMost: limit) else { break }
            bytes.append(contentsOf: piece)
        }
        return bytes
    }

    /// Takes 1 MiB, confirms it with one byte, and sends 1 MiB back.
    static func serveBulk<Listener: TCPListener>(_ listener: Listener) {
        do throws(NetworkError) {
            let connection = try listener.accept(waitingAtMost: limit)
            var received = 0
            while received < bulkBytes {
                guard let piece = try connection.read(atMost: 64 * 1024, waitingAtMost: limit) else { break }
                received += piece.count
            }
            try connection.write([0x4B], waitingAtMost: limit)
            let chunk = [UInt8](repeating: 0xA5, count: 16 * 1024)
            for _ in 0..<(bulkBytes / chunk.count) { try connection.write(chunk, waitingAtMost: limit) }
            connection.close(waitingAtMost: limit)
        } catch {
            print("the bulk server failed: \(error.reason.text)")
        }
    }

    /// Answers each request (a head ending in a blank line) with the page, until the client closes.
    static func serveHTTP<Listener: TCPListener>(_ listener: Listener) {
        do throws(NetworkError) {
            let connection = try listener.accept(waitingAtMost: limit)
            var pending: [UInt8] = []
            while true {
                guard let piece = try connection.read(atMost: 4096, waitingAtMost: limit) else { break }
                pending.append(contentsOf: piece)
                while let end = headEnd(pending) {
                    pending.removeFirst(end)
                    try connection.write(answer, waitingAtMost: limit)
                }
            }
            connection.close(waitingAtMost: limit)
        } catch {
            print("the HTTP server failed: \(error.reason.text)")
        }
    }

    /// The length of the first request head in `bytes` (through its blank line), if it is all there.
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 3..<bytes.count where bytes[index] == 10 && bytes[index - 1] == 13 && bytes[index - 2] == 10 && bytes[index - 3] == 13 {
            return index + 1
        }
        return nil
    }

    static func report(_ what: String, amount: Int, since start: UInt64, _ instructions: UInt32, _ clock: some Clock,
                       unit: String = "KiB/s", scale: UInt64 = 1024) {
        let nanoseconds = max(1, clock.now() - start), counted = Runtime.instructions &- instructions
        // The counter runs under -icount only; without it there is no count to print.
        print("\(what): \(UInt64(amount) * 1_000_000_000 / scale / nanoseconds) \(unit)" + (counted > 0 ? ", \(counted) instructions" : ""))
    }
}

/// A wire in memory: what one end transmits, the other receives, in order.
/// Each end holds at most `capacity` frames; past that a frame is dropped,
/// as a full transmit queue drops one on a real device.
final class MemoryWire {
    let left = WireEnd(macAddress: MACAddress(value: 0x02_00_00_00_09_01))
    let right = WireEnd(macAddress: MACAddress(value: 0x02_00_00_00_09_02))

    init() {
        left.peer = right
        right.peer = left
    }
}

final class WireEnd: NetworkInterface {
    static let capacity = 512
    let macAddress: MACAddress
    let events = WaitQueue()
    /// The other end (the two live as long as the unikernel).
    var peer: WireEnd?
    /// Frames waiting to be received: `queue[head...]`.
    var queue: [[UInt8]] = []
    var head = 0

    init(macAddress: MACAddress) { self.macAddress = macAddress }

    func transmit(_ frame: [UInt8]) throws(NetworkError) {
        guard let peer else { throw .noDevice }
        guard peer.queue.count - peer.head < WireEnd.capacity else { throw .timedOut }
        peer.queue.append(frame)
        peer.events.wakeAll()
    }

    func receive() -> [UInt8]? {
        guard head < queue.count else { return nil }
        let frame = queue[head]
        head += 1
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        }
        return frame
    }
}

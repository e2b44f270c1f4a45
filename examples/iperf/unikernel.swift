/// A server for iperf3's own protocol (TCP tests, one or more streams,
/// either direction), so that the stock `iperf3 -c` measures this stack.
///
/// The protocol, as iperf3 3.x speaks it: the client opens a control
/// connection and sends a 37-byte cookie; states go as single bytes; the
/// test's parameters and each side's results go as JSON after a 4-byte
/// big-endian length. The server says PARAM_EXCHANGE, reads the
/// parameters, says CREATE_STREAMS, accepts one data connection per stream
/// (each opens with the cookie), says TEST_START and TEST_RUNNING, moves
/// data until the client says TEST_END, then EXCHANGE_RESULTS (the
/// client's results, then ours) and DISPLAY_RESULTS; the client ends with
/// IPERF_DONE.
enum IperfState {
    static let testStart: UInt8 = 1, testRunning: UInt8 = 2, testEnd: UInt8 = 4
    static let parameterExchange: UInt8 = 9, createStreams: UInt8 = 10, clientTerminate: UInt8 = 12
    static let exchangeResults: UInt8 = 13, displayResults: UInt8 = 14, done: UInt8 = 16
    static let accessDenied: UInt8 = 0xFF   // -1 as a signed byte
}

struct IperfServer {
    static let cookieSize = 37
    /// How much a sending stream hands the stack at a time: what it counts when cancelled.
    static let writeSize = 16 * 1024

    static func start<Stack: NetworkStack>(console: some Console, stack: Stack) -> Int32 {
        let port = UInt16(Keys.port)
        let listener: Stack.Listener
        do throws(NetworkError) {
            listener = try stack.listen(tcpPort: port)
        } catch {
            print("cannot listen on TCP port \(port): \(error.reason.text)")
            return 1
        }
        print("iperf3 server on \(stack.ipv4.map { IPv4Text.text($0.address) } ?? "[::]"):\(port)")
        var finished = 0
        while Keys.tests == 0 || finished < Keys.tests {
            guard let control = try? listener.accept(waitingAtMost: 60_000_000_000) else { continue }
            do throws(NetworkError) {
                try runTest(listener, control: control)
                finished += 1
            } catch {
                print("test ended early: \(error.reason.text)")
            }
            control.close(waitingAtMost: 2_000_000_000)
        }
        print("served \(finished) tests")
        return 0
    }

    /// One test: its data streams each move data in a task of their own
    /// while this task waits on the control connection for the end.
    static func runTest<Listener: TCPListener>(_ listener: Listener, control: Listener.Connection) throws(NetworkError) {
        let cookie = try readExactly(control, cookieSize)
        try control.write([IperfState.parameterExchange], waitingAtMost: 10_000_000_000)
        let parameters = try readJSON(control)
        let streams = max(JSONScan.integer(parameters, "parallel") ?? 1, 1)
        let reverse = JSONScan.isTrue(parameters, "reverse")
        let blockSize = min(max(JSONScan.integer(parameters, "len") ?? 131_072, 1), 1 << 20)
        guard !JSONScan.isTrue(parameters, "udp"), !JSONScan.isTrue(parameters, "bidirectional"), streams <= 8 else {
            print("refused: only TCP tests one way, with at most 8 streams")
            try control.write([IperfState.accessDenied], waitingAtMost: 10_000_000_000)
            return
        }
        try control.write([IperfState.createStreams], waitingAtMost: 10_000_000_000)
        var data: [Listener.Connection] = []
        while data.count < streams {
            let stream = try listener.accept(waitingAtMost: 10_000_000_000)
            guard try readExactly(stream, cookieSize) == cookie else {
                stream.abort()   // another client's connection
                continue
            }
            data.append(stream)
        }
        try control.write([IperfState.testStart], waitingAtMost: 10_000_000_000)
        try control.write([IperfState.testRunning], waitingAtMost: 10_000_000_000)
        let started = Tasks.uptime
        let counts = Counts(streams)
        let block = [UInt8](repeating: 0x5A, count: blockSize)
        var movers: [TaskHandle] = []
        for (index, stream) in data.enumerated() {
            do throws(TaskError) {
                movers.append(try Tasks.spawn(name: "iperf-stream") {
                    if reverse { send(block, on: stream, counting: counts, index) } else { receive(on: stream, counting: counts, index) }
                })
            } catch {
                for mover in movers { mover.cancel() }
                throw .closed
            }
        }
        // Data moves until the client says the test is over.
        var failure: NetworkError?
        while true {
            do throws(NetworkError) {
                guard let state = try control.read(atMost: 1, waitingAtMost: 3_600_000_000_000)?.first else { throw .closed }
                if state == IperfState.testEnd { break }
                if state == IperfState.clientTerminate { throw .closed }
            } catch {
                failure = error
                break
            }
        }
        let elapsed = Tasks.uptime - started
        for mover in movers {
            mover.cancel()
            try? mover.join()
        }
        if let failure { throw failure }
        // As iperf3's own server: the data connections close before the results go out.
        for stream in data { stream.close(waitingAtMost: 0) }
        try control.write([IperfState.exchangeResults], waitingAtMost: 10_000_000_000)
        let clientResults = try readJSON(control)
        let ids = JSONScan.integers(clientResults, "id")
        let seconds = seconds(elapsed)
        var json = "{\"cpu_util_total\":0,\"cpu_util_user\":0,\"cpu_util_system\":0,\"sender_has_retransmits\":\(reverse ? 1 : 0),\"streams\":["
        for index in 0..<streams {
            let retransmits = reverse ? data[index].retransmissions : -1
            json += (index == 0 ? "" : ",") + "{\"id\":\(index < ids.count ? ids[index] : index + 1),\"bytes\":\(counts.bytes[index]),"
                + "\"retransmits\":\(retransmits),\"jitter\":0,\"errors\":0,\"packets\":0,\"start_time\":0,\"end_time\":\(seconds)}"
        }
        json += "]}"
        try writeJSON(control, json)
        try control.write([IperfState.displayResults], waitingAtMost: 10_000_000_000)
        _ = try? control.read(atMost: 1, waitingAtMost: 10_000_000_000)   // IPERF_DONE
        let total = counts.bytes.reduce(0, +)
        let microseconds = max(elapsed / 1000, 1)
        let bitsPerSecond = UInt64(total) * 8 * 1_000_000 / microseconds
        print("test done: \(reverse ? "sent" : "received") \(total) bytes in \(seconds) s on \(streams) stream(s), \(bitsPerSecond / 1_000_000) Mbit/s")
    }

    /// Bytes moved by each stream's task.
    final class Counts {
        var bytes: [Int]
        init(_ streams: Int) { bytes = [Int](repeating: 0, count: streams) }
    }

    /// Receives and counts until the client closes or the test ends.
    static func receive(on stream: some TCPStream, counting counts: Counts, _ index: Int) {
        while let bytes = try? stream.read(atMost: 65_536, waitingAtMost: .max) { counts.bytes[index] += bytes.count }
    }

    /// Sends `block` over and over until the test ends.
    static func send(_ block: [UInt8], on stream: some TCPStream, counting counts: Counts, _ index: Int) {
        var offset = 0
        while true {
            let end = min(offset + writeSize, block.count)
            do throws(NetworkError) { try stream.write(block[offset..<end], waitingAtMost: .max) } catch { return }
            counts.bytes[index] += end - offset
            offset = end == block.count ? 0 : end
        }
    }

    /// Nanoseconds as seconds with six decimals.
    static func seconds(_ nanoseconds: UInt64) -> String {
        let micro = nanoseconds / 1000
        let fraction = String(micro % 1_000_000)
        return "\(micro / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    static func readExactly(_ connection: some TCPStream, _ count: Int) throws(NetworkError) -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count {
            guard let more = try connection.read(atMost: count - bytes.count, waitingAtMost: 10_000_000_000) else { throw .closed }
            bytes += more
        }
        return bytes
    }

    /// A JSON text after its 4-byte length, at most 64 KiB.
    static func readJSON(_ connection: some TCPStream) throws(NetworkError) -> [UInt8] {
        let length = try readExactly(connection, 4).reduce(0) { $0 << 8 | Int($1) }
        guard length <= 65_536 else { throw .badFrame }
        return try readExactly(connection, length)
    }

    static func writeJSON(_ connection: some TCPStream, _ text: String) throws(NetworkError) {
        let bytes = Array(text.utf8)
        let length = UInt32(bytes.count)
        try connection.write([UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + bytes,
                             waitingAtMost: 10_000_000_000)
    }
}

/// Just enough of JSON to read iperf3's flat parameters and the streams' ids:
/// the value after `"key":`, wherever the key stands.
enum JSONScan {
    static func values(_ json: [UInt8], _ key: String) -> [ArraySlice<UInt8>] {
        let pattern = Array("\"\(key)\"".utf8)
        var found: [ArraySlice<UInt8>] = []
        var index = 0
        while index + pattern.count <= json.count {
            guard json[index..<(index + pattern.count)].elementsEqual(pattern) else { index += 1; continue }
            var position = index + pattern.count
            while position < json.count, json[position] == 32 || json[position] == 58 { position += 1 }   // spaces and ':'
            var end = position
            while end < json.count, json[end] != 44, json[end] != 125, json[end] != 93 { end += 1 }   // up to , } ]
            found.append(json[position..<end])
            index = end
        }
        return found
    }

    static func integers(_ json: [UInt8], _ key: String) -> [Int] {
        values(json, key).compactMap { Int(String(decoding: $0, as: UTF8.self)) }
    }

    static func integer(_ json: [UInt8], _ key: String) -> Int? { integers(json, key).first }

    static func isTrue(_ json: [UInt8], _ key: String) -> Bool {
        values(json, key).first.map { $0.elementsEqual("true".utf8) || $0.elementsEqual("1".utf8) } ?? false
    }
}

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

    static func start(console: some Console, stack: IPStack<some NetworkInterface, some Clock>) -> Int32 {
        let port = UInt16(Keys.port)
        do throws(NetworkError) {
            try stack.listenTCP(port: port)
        } catch {
            print("cannot listen on TCP port \(port): \(error.reason.text)")
            return 1
        }
        print("iperf3 server on \(IPv4Text.text(stack.address)):\(port)")
        var finished = 0
        while Keys.tests == 0 || finished < Keys.tests {
            guard let control = stack.acceptTCP(on: port, waitingAtMost: 60_000_000_000) else { continue }
            do throws(NetworkError) {
                try runTest(stack, control: control, port: port)
                finished += 1
            } catch {
                print("test ended early: \(error.reason.text)")
            }
            stack.closeTCP(control, waitingAtMost: 2_000_000_000)
        }
        print("served \(finished) tests")
        return 0
    }

    static func runTest(_ stack: IPStack<some NetworkInterface, some Clock>, control: TCPConnection, port: UInt16) throws(NetworkError) {
        let cookie = try readExactly(stack, control, cookieSize)
        try stack.writeTCP(control, [IperfState.parameterExchange], waitingAtMost: 10_000_000_000)
        let parameters = try readJSON(stack, control)
        let streams = max(JSONScan.integer(parameters, "parallel") ?? 1, 1)
        let reverse = JSONScan.isTrue(parameters, "reverse")
        let blockSize = min(max(JSONScan.integer(parameters, "len") ?? 131_072, 1), 1 << 20)
        guard !JSONScan.isTrue(parameters, "udp"), !JSONScan.isTrue(parameters, "bidirectional"), streams <= 8 else {
            print("refused: only TCP tests one way, with at most 8 streams")
            try stack.writeTCP(control, [IperfState.accessDenied], waitingAtMost: 10_000_000_000)
            return
        }
        try stack.writeTCP(control, [IperfState.createStreams], waitingAtMost: 10_000_000_000)
        var data: [TCPConnection] = []
        while data.count < streams {
            guard let stream = stack.acceptTCP(on: port, waitingAtMost: 10_000_000_000) else { throw .timedOut }
            guard try readExactly(stack, stream, cookieSize) == cookie else {
                stack.abortTCP(stream)   // another client's connection
                continue
            }
            data.append(stream)
        }
        try stack.writeTCP(control, [IperfState.testStart], waitingAtMost: 10_000_000_000)
        try stack.writeTCP(control, [IperfState.testRunning], waitingAtMost: 10_000_000_000)
        let started = stack.clock.now()
        var counts = [Int](repeating: 0, count: streams)
        let block = [UInt8](repeating: 0x5A, count: blockSize)
        var offsets = [Int](repeating: 0, count: streams)
        // Move data until the client says the test is over.
        while true {
            stack.serve(forAtMost: 50_000_000) {
                control.hasData || data.contains { reverse ? $0.sendSpace > 0 : $0.hasData }
            }
            for (index, stream) in data.enumerated() {
                if reverse {
                    let taken = (try? stack.offerTCP(stream, block[offsets[index]...])) ?? 0
                    counts[index] += taken
                    offsets[index] = (offsets[index] + taken) % blockSize
                } else {
                    while let bytes = try? stack.readTCP(stream, atMost: 65_536, waitingAtMost: 0), !bytes.isEmpty { counts[index] += bytes.count }
                }
            }
            if control.hasData {
                guard let state = try stack.readTCP(control, atMost: 1, waitingAtMost: 0)?.first else { throw .closed }
                if state == IperfState.testEnd { break }
                if state == IperfState.clientTerminate { throw .closed }
            } else if control.peerClosed || control.state == .closed {
                throw .closed
            }
        }
        let elapsed = stack.clock.now() - started
        // As iperf3's own server: the data connections close before the results go out.
        for stream in data { stack.closeTCP(stream, waitingAtMost: 0) }
        try stack.writeTCP(control, [IperfState.exchangeResults], waitingAtMost: 10_000_000_000)
        let clientResults = try readJSON(stack, control)
        let ids = JSONScan.integers(clientResults, "id")
        var json = "{\"cpu_util_total\":0,\"cpu_util_user\":0,\"cpu_util_system\":0,\"sender_has_retransmits\":\(reverse ? 1 : 0),\"streams\":["
        for index in 0..<streams {
            let retransmits = reverse ? data[index].retransmittedSegments : -1
            json += (index == 0 ? "" : ",") + "{\"id\":\(index < ids.count ? ids[index] : index + 1),\"bytes\":\(counts[index]),"
                + "\"retransmits\":\(retransmits),\"jitter\":0,\"errors\":0,\"packets\":0,\"start_time\":0,\"end_time\":\(seconds(elapsed))}"
        }
        json += "]}"
        try writeJSON(stack, control, json)
        try stack.writeTCP(control, [IperfState.displayResults], waitingAtMost: 10_000_000_000)
        _ = try? stack.readTCP(control, atMost: 1, waitingAtMost: 10_000_000_000)   // IPERF_DONE
        let total = counts.reduce(0, +)
        let bitsPerSecond = UInt64(total) * 8 * 1_000_000 / max(elapsed / 1000, 1)
        print("test done: \(reverse ? "sent" : "received") \(total) bytes in \(seconds(elapsed)) s on \(streams) stream(s), \(bitsPerSecond / 1_000_000) Mbit/s")
    }

    /// Nanoseconds as seconds with six decimals.
    static func seconds(_ nanoseconds: UInt64) -> String {
        let micro = nanoseconds / 1000
        let fraction = String(micro % 1_000_000)
        return "\(micro / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    static func readExactly(_ stack: IPStack<some NetworkInterface, some Clock>, _ connection: TCPConnection,
                            _ count: Int) throws(NetworkError) -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count {
            guard let more = try stack.readTCP(connection, atMost: count - bytes.count, waitingAtMost: 10_000_000_000) else { throw .closed }
            if more.isEmpty { throw .timedOut }
            bytes += more
        }
        return bytes
    }

    /// A JSON text after its 4-byte length, at most 64 KiB.
    static func readJSON(_ stack: IPStack<some NetworkInterface, some Clock>, _ connection: TCPConnection) throws(NetworkError) -> [UInt8] {
        let length = try readExactly(stack, connection, 4).reduce(0) { $0 << 8 | Int($1) }
        guard length <= 65_536 else { throw .badFrame }
        return try readExactly(stack, connection, length)
    }

    static func writeJSON(_ stack: IPStack<some NetworkInterface, some Clock>, _ connection: TCPConnection, _ text: String) throws(NetworkError) {
        let bytes = Array(text.utf8)
        let length = UInt32(bytes.count)
        try stack.writeTCP(connection, [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + bytes,
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

/// Echoes UDP datagrams back to their senders.
struct Echo {
    static func start(console: some Console, ipv4: IPv4Stack<some NetworkInterface, some Clock>) -> Int32 {
        let port = UInt16(Keys.port)
        do throws(NetworkError) {
            try ipv4.bindUDP(port: port)
        } catch {
            print("cannot bind UDP port \(port): \(error.reason.text)")
            return 1
        }
        print("echoing UDP on \(IPv4Text.text(ipv4.address)):\(port)")
        var echoed = 0
        while Keys.count == 0 || echoed < Keys.count {
            guard let datagram = ipv4.receiveUDP(on: port, waitingAtMost: 60_000_000_000) else { continue }
            do throws(NetworkError) {
                try ipv4.sendUDP(datagram.data, to: datagram.source, port: datagram.sourcePort, from: port)
                echoed += 1
            } catch {
                print("could not answer \(IPv4Text.text(datagram.source)):\(datagram.sourcePort): \(error.reason.text)")
            }
        }
        print("echoed \(echoed) datagrams")
        return 0
    }
}

/// The Allwinner A10 EMAC: frames go out through a transmit FIFO and come
/// in through a receive FIFO, word by word. Each received frame is a magic
/// word, a header word (length with the CRC in bits 15:0, status above),
/// the frame padded to 60 bytes, its CRC and padding to a word. A header
/// that does not fit resets the receiver rather than trusting it.
public final class SunxiEMAC<C: Clock, Interrupts: InterruptController>: NetworkInterface {
    let registers: MMIO
    let clock: C
    public let macAddress: MACAddress
    /// Woken by the receive interrupt.
    public let events = WaitQueue()

    public init(tree: DeviceTree, path: StaticString, clock: C, interrupts: Interrupts) {
        let registers = MMIO(base: Runtime.registerBase(tree, path))
        self.registers = registers
        self.clock = clock
        if let bytes = tree.node(at: path)?.property("local-mac-address")?.bytes, bytes.count == 6 {
            macAddress = MACAddress(bytes: bytes)
        } else {
            macAddress = [0x02, 0x00, 0x00, 0x00, 0xA1, 0x0E]   // locally administered
        }
        registers.write(EMAC.control, EMAC.reset)
        registers.write(EMAC.receiveFrameCount, 0)
        registers.write(EMAC.control, EMAC.transmitEnable | EMAC.receiveEnable)
        registers.write(EMAC.interruptStatus, 0xFFFF_FFFF)
        registers.write(EMAC.interruptControl, EMAC.receivedInterrupt)
        let events = events
        interrupts.enable(interrupts.line(of: tree, path)) {
            // Level-triggered while a cause is set; the frames stay counted in the FIFO.
            registers.write(EMAC.interruptStatus, registers.read(EMAC.interruptStatus))
            events.wakeAll()
        }
    }

    public func transmit(_ frame: [UInt8]) throws(NetworkError) {
        guard frame.count >= 14, frame.count <= 1514 else { throw .badFrame }
        // The FIFO empties as fast as the wire takes a frame (at once under
        // QEMU): a bounded look, never a sleep; a busy FIFO drops the frame.
        var tries = 0
        while registers.read(EMAC.transmitControl0) & 1 != 0 {
            tries += 1
            guard tries < EMAC.transmitPolls else { throw .timedOut }
        }
        registers.write(EMAC.transmitInsert, 0)
        var index = 0
        while index < frame.count {
            var word: UInt32 = 0
            for byte in 0..<4 where index + byte < frame.count { word |= UInt32(frame[index + byte]) << UInt32(8 * byte) }
            registers.write(EMAC.transmitData, word)
            index += 4
        }
        registers.write(EMAC.transmitLength0, UInt32(frame.count))
        registers.write(EMAC.transmitControl0, 1)
        Counters.framesSent &+= 1
    }

    public func receive() -> [UInt8]? {
        while registers.read(EMAC.receiveFrameCount) > 0 {
            guard registers.read(EMAC.receiveData) == EMAC.magic else { resetReceiver(); return nil }
            let header = registers.read(EMAC.receiveData)
            let length = Int(header & 0xFFFF)
            guard length >= 64, length <= 1522 + 4 else { resetReceiver(); return nil }
            var bytes: [UInt8] = []
            bytes.reserveCapacity((length + 3) & ~3)
            for _ in 0..<((length + 3) / 4) {
                let word = registers.read(EMAC.receiveData)
                for byte in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: word >> UInt32(8 * byte))) }
            }
            let frame = Array(bytes[0..<(length - 4)])          // without the CRC
            // No address filter in the hardware model: ours, broadcast and multicast only.
            Counters.framesReceived &+= 1
            if MACAddress(bytes: frame[0..<6]) == macAddress || frame[0] & 1 == 1 { return frame }
        }
        return nil
    }

    /// Drops whatever the receive FIFO holds.
    func resetReceiver() {
        registers.write(EMAC.control, EMAC.transmitEnable)
        registers.write(EMAC.receiveFrameCount, 0)
        registers.write(EMAC.control, EMAC.transmitEnable | EMAC.receiveEnable)
    }
}

/// EMAC registers and bits (outside the generic class: Swift has no static stored properties there).
enum EMAC {
    static let control: UInt = 0x00, transmitControl0: UInt = 0x0C, transmitInsert: UInt = 0x14
    static let transmitLength0: UInt = 0x18, transmitData: UInt = 0x24
    static let receiveData: UInt = 0x4C, receiveFrameCount: UInt = 0x50
    static let interruptControl: UInt = 0x54, interruptStatus: UInt = 0x58
    static let reset: UInt32 = 1 << 0, transmitEnable: UInt32 = 1 << 1, receiveEnable: UInt32 = 1 << 2
    static let receivedInterrupt: UInt32 = 1 << 8
    static let magic: UInt32 = 0x0143_414D
    /// How often transmit looks at a busy FIFO before dropping a frame (a
    /// 1514-byte frame takes 121 µs at 100 Mbit/s; a register read takes longer than 0.1 µs).
    static let transmitPolls = 2000
}

/// What an SD card driver needs of its host controller: one command, with
/// or without a data phase. Host drivers (PL181, the Allwinner SD host)
/// implement it; `SDCard` speaks the card's protocol over it.
public protocol SDHost: AnyObject {
    /// Sends command `index` with `argument`; for a data command also moves
    /// `transfer`'s blocks. Returns the response: one word for a short one,
    /// four for a long one (bits 127:96 first), none for none.
    func send(_ index: UInt32, argument: UInt32, response: SDResponse, transfer: SDTransfer?) throws(BlockError) -> [UInt32]
    /// Whether the host sends CMD12 itself after a multi-block transfer.
    var stopsAutomatically: Bool { get }
    /// The most blocks one transfer may move.
    var maximumBlocksPerTransfer: Int { get }
}

public enum SDResponse {
    case none, short, long
}

/// The data phase of a command: `blocks` blocks of 512 bytes at `buffer`.
public struct SDTransfer {
    public let buffer: UnsafeMutableRawPointer
    public let blocks: Int
    public let writing: Bool
}

/// An SD card (SD Physical Layer Simplified Specification, version 2 and
/// later) behind an `SDHost`: brought up as the specification's
/// initialisation flow says, then a block device of 512-byte blocks. SDSC
/// cards are addressed in bytes, SDHC and SDXC cards in blocks.
public final class SDCard<Host: SDHost, C: Clock>: BlockDevice {
    let host: Host
    let clock: C
    public private(set) var geometry = BlockGeometry(sectorSize: 512, sectorCount: 0, isReadOnly: true)
    /// Why the card is not usable, if it is not.
    public private(set) var failure: StaticString?
    var relativeAddress: UInt32 = 0
    var isHighCapacity = false
    /// One command at a time on the card: tasks take turns.
    let lock = TaskLock()

    public init(host: Host, clock: C) {
        self.host = host
        self.clock = clock
        do throws(BlockError) {
            try initialise()
        } catch {
            failure = error == .timedOut ? "the card did not power up" : "no card answered"
            geometry = BlockGeometry(sectorSize: 512, sectorCount: 0, isReadOnly: true)
        }
    }

    /// The initialisation flow: reset, interface condition, power-up, identification, selection.
    func initialise() throws(BlockError) {
        _ = try host.send(SDCommand.goIdle, argument: 0, response: .none, transfer: nil)
        // CMD8: 2.7-3.6 V and a check pattern; a version 1 card does not answer.
        let isVersion2 = (try? host.send(SDCommand.sendInterfaceCondition, argument: 0x1AA, response: .short, transfer: nil))?
            .first.map { $0 & 0xFFF == 0x1AA } ?? false
        let request: UInt32 = (isVersion2 ? 1 << 30 : 0) | 0x00FF_8000
        var ocr: UInt32 = 0
        let deadline = clock.ticks() &+ clock.ticks(forNanoseconds: 1_000_000_000)
        repeat {
            _ = try host.send(SDCommand.applicationCommand, argument: 0, response: .short, transfer: nil)
            ocr = try host.send(SDCommand.sendOperatingCondition, argument: request, response: .short, transfer: nil).first ?? 0
            if ocr & (1 << 31) != 0 { break }
            guard clock.ticks() < deadline else { throw .timedOut }
            clock.sleep(milliseconds: 1)
        } while true
        isHighCapacity = ocr & (1 << 30) != 0
        _ = try host.send(SDCommand.allSendCID, argument: 0, response: .long, transfer: nil)
        let published = try host.send(SDCommand.sendRelativeAddress, argument: 0, response: .short, transfer: nil)
        relativeAddress = (published.first ?? 0) >> 16
        let csd = try host.send(SDCommand.sendCSD, argument: relativeAddress << 16, response: .long, transfer: nil)
        guard let bytes = SDCardRegisters.capacity(csd: csd) else { throw .deviceError }
        _ = try host.send(SDCommand.select, argument: relativeAddress << 16, response: .short, transfer: nil)
        if !isHighCapacity { _ = try host.send(SDCommand.setBlockLength, argument: 512, response: .short, transfer: nil) }
        geometry = BlockGeometry(sectorSize: 512, sectorCount: bytes / 512, isReadOnly: false)
    }

    public func read(sector: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(BlockError) {
        if let problem = geometry.problem(sector: sector, length: buffer.count, writing: false) { throw problem }
        try lock.withLock { () throws(BlockError) in try transfer(sector: sector, buffer: buffer.baseAddress!, blocks: buffer.count / 512, writing: false) }
    }

    public func write(sector: UInt64, from buffer: UnsafeRawBufferPointer) throws(BlockError) {
        if let problem = geometry.problem(sector: sector, length: buffer.count, writing: true) { throw problem }
        try lock.withLock { () throws(BlockError) in try transfer(sector: sector, buffer: UnsafeMutableRawPointer(mutating: buffer.baseAddress!), blocks: buffer.count / 512, writing: true) }
    }

    /// A card has no write cache in the basic protocol: each write returns
    /// once the card is programming, and `transfer` waits until it is done.
    public func flush() throws(BlockError) {
        guard geometry.sectorCount > 0 else { throw .noMedium }
    }

    func transfer(sector: UInt64, buffer: UnsafeMutableRawPointer, blocks: Int, writing: Bool) throws(BlockError) {
        var done = 0
        while done < blocks {
            let count = min(blocks - done, host.maximumBlocksPerTransfer)
            let block = sector + UInt64(done)
            let address = UInt32(truncatingIfNeeded: isHighCapacity ? block : block * 512)
            let command = writing ? (count == 1 ? SDCommand.writeBlock : SDCommand.writeMultipleBlocks)
                                  : (count == 1 ? SDCommand.readBlock : SDCommand.readMultipleBlocks)
            let data = SDTransfer(buffer: buffer + done * 512, blocks: count, writing: writing)
            Counters.blockRequests &+= 1
            Counters.blockBytes &+= UInt64(count * 512)
            _ = try host.send(command, argument: address, response: .short, transfer: data)
            if count > 1 && !host.stopsAutomatically {
                _ = try host.send(SDCommand.stopTransmission, argument: 0, response: .short, transfer: nil)
            }
            if writing { try waitUntilReady() }
            done += count
        }
    }

    /// Polls the card's status (CMD13) until it is back in the transfer state, ready for data.
    func waitUntilReady() throws(BlockError) {
        let deadline = clock.ticks() &+ clock.ticks(forNanoseconds: blockRequestTimeout)
        while true {
            let status = try host.send(SDCommand.sendStatus, argument: relativeAddress << 16, response: .short, transfer: nil).first ?? 0
            if SDCardRegisters.isReadyForData(status) { return }
            guard clock.ticks() < deadline else { throw .timedOut }
            clock.sleep(milliseconds: 1)
        }
    }
}

/// Command indexes of the SD protocol (ACMD41 follows CMD55).
public enum SDCommand {
    public static let goIdle: UInt32 = 0, allSendCID: UInt32 = 2, sendRelativeAddress: UInt32 = 3
    public static let select: UInt32 = 7, sendInterfaceCondition: UInt32 = 8, sendCSD: UInt32 = 9
    public static let stopTransmission: UInt32 = 12, sendStatus: UInt32 = 13, setBlockLength: UInt32 = 16
    public static let readBlock: UInt32 = 17, readMultipleBlocks: UInt32 = 18
    public static let writeBlock: UInt32 = 24, writeMultipleBlocks: UInt32 = 25
    public static let applicationCommand: UInt32 = 55, sendOperatingCondition: UInt32 = 41
}

/// Reading the card's registers: pure functions, unit tested on the host.
public enum SDCardRegisters {
    /// The card's capacity in bytes from its CSD (four words, bits 127:96
    /// first), for CSD versions 1.0 (SDSC) and 2.0 (SDHC/SDXC); nil otherwise.
    public static func capacity(csd: [UInt32]) -> UInt64? {
        guard csd.count == 4 else { return nil }
        func bits(_ high: Int, _ low: Int) -> UInt64 {
            var value: UInt64 = 0
            for bit in stride(from: high, through: low, by: -1) {
                let word = csd[3 - bit / 32]
                value = value << 1 | UInt64(word >> UInt32(bit % 32) & 1)
            }
            return value
        }
        switch bits(127, 126) {
        case 0:
            let blockLength = bits(83, 80), size = bits(73, 62), multiplier = bits(49, 47)
            guard blockLength >= 9 && blockLength <= 11 else { return nil }
            return ((size + 1) << (multiplier + 2)) << blockLength
        case 1:
            return (bits(69, 48) + 1) * 512 * 1024
        default:
            return nil
        }
    }

    /// Whether an R1 card status says READY_FOR_DATA in the transfer state.
    public static func isReadyForData(_ status: UInt32) -> Bool {
        status & (1 << 8) != 0 && (status >> 9) & 0xF == 4
    }
}

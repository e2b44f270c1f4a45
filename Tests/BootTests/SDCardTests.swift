@testable import Boot
import XCTest

/// The SD card protocol layer against a card simulated in memory: the
/// initialisation flow, SDSC byte and SDHC block addressing, transfers cut
/// to the host's limit, stop commands, and failures as values.
final class SDCardTests: XCTestCase {
    /// A card and host in one: answers commands as the SD specification says.
    final class SimulatedCard: SDHost {
        var storage: [UInt8]
        let highCapacity: Bool
        let present: Bool
        var stopsAutomatically = false
        var maximumBlocksPerTransfer = 4
        var log: [UInt32] = []
        var powerUpPolls = 2

        init(bytes: Int, highCapacity: Bool, present: Bool = true) {
            storage = [UInt8](repeating: 0, count: bytes)
            self.highCapacity = highCapacity
            self.present = present
        }

        func send(_ index: UInt32, argument: UInt32, response: SDResponse, transfer: SDTransfer?) throws(BlockError) -> [UInt32] {
            log.append(index)
            guard present else { throw .noMedium }
            switch index {
            case SDCommand.sendInterfaceCondition: return [argument & 0xFFF]
            case SDCommand.sendOperatingCondition:
                powerUpPolls -= 1
                let ready: UInt32 = powerUpPolls <= 0 ? 1 << 31 : 0
                return [ready | (highCapacity && argument & 1 << 30 != 0 ? 1 << 30 : 0) | 0xFF8000]
            case SDCommand.sendRelativeAddress: return [0x4567 << 16]
            case SDCommand.sendCSD: return SDCardTests.csd(bytes: storage.count, highCapacity: highCapacity)
            case SDCommand.sendStatus: return [1 << 8 | 4 << 9]
            case SDCommand.readBlock, SDCommand.readMultipleBlocks, SDCommand.writeBlock, SDCommand.writeMultipleBlocks:
                guard let transfer else { throw .deviceError }
                let offset = Int(highCapacity ? UInt64(argument) * 512 : UInt64(argument))
                XCTAssertEqual(transfer.blocks > 1, index == SDCommand.readMultipleBlocks || index == SDCommand.writeMultipleBlocks)
                XCTAssertLessThanOrEqual(transfer.blocks, maximumBlocksPerTransfer)
                for byte in 0..<(transfer.blocks * 512) {
                    if transfer.writing {
                        storage[offset + byte] = transfer.buffer.load(fromByteOffset: byte, as: UInt8.self)
                    } else {
                        transfer.buffer.storeBytes(of: storage[offset + byte], toByteOffset: byte, as: UInt8.self)
                    }
                }
                return [0]
            default: return response == .long ? [0, 0, 0, 0] : response == .short ? [0] : []
            }
        }
    }

    /// A CSD register: version 2.0 for a high-capacity card, else 1.0 with 512-byte blocks.
    static func csd(bytes: Int, highCapacity: Bool) -> [UInt32] {
        var words: [UInt32] = [0, 0, 0, 0]
        func set(_ value: UInt64, high: Int, low: Int) {
            for bit in low...high where value >> UInt64(bit - low) & 1 == 1 { words[3 - bit / 32] |= 1 << UInt32(bit % 32) }
        }
        if highCapacity {
            set(1, high: 127, low: 126)
            set(UInt64(bytes / (512 * 1024) - 1), high: 69, low: 48)
        } else {
            set(9, high: 83, low: 80)
            set(7, high: 49, low: 47)
            set(UInt64(bytes / (512 * 512) - 1), high: 73, low: 62)
        }
        return words
    }

    func testCapacityFromBothCSDVersions() {
        XCTAssertEqual(SDCardRegisters.capacity(csd: SDCardTests.csd(bytes: 2 << 20, highCapacity: false)), 2 << 20)
        XCTAssertEqual(SDCardRegisters.capacity(csd: SDCardTests.csd(bytes: 4 << 30, highCapacity: true)), 4 << 30)
        XCTAssertNil(SDCardRegisters.capacity(csd: [0xC000_0000, 0, 0, 0]), "CSD version 3 is not an SD memory card's")
        XCTAssertNil(SDCardRegisters.capacity(csd: [1, 2]))
    }

    func testInitialisesAndAddressesSDSCInBytes() throws {
        let clock = FakeClock()
        try onTheLoop(clock) {
            let card = SimulatedCard(bytes: 2 << 20, highCapacity: false)
            let device = SDCard(host: card, clock: clock)
            XCTAssertNil(device.failure)
            XCTAssertEqual(device.geometry, BlockGeometry(sectorSize: 512, sectorCount: 4096, isReadOnly: false))
            XCTAssertEqual(Array(card.log.prefix(4)), [0, 8, 55, 41])
            XCTAssert(card.log.contains(16), "an SDSC card is told its block length")
            let data = (0..<(10 * 512)).map { UInt8(truncatingIfNeeded: $0 * 7) }
            card.log.removeAll()
            try device.write(sector: 3, data)
            XCTAssertEqual(Array(card.storage[(3 * 512)..<(13 * 512)]), data)
            XCTAssertEqual(card.log.filter { $0 == SDCommand.stopTransmission }.count, 3, "10 blocks in transfers of 4, 4 and 2, each ended by CMD12")
            XCTAssertEqual(try device.read(sector: 3, count: 10), data)
        }
    }

    func testAddressesSDHCInBlocksAndLetsTheHostStop() throws {
        let clock = FakeClock()
        try onTheLoop(clock) {
            let card = SimulatedCard(bytes: 4 << 20, highCapacity: true)   // a small SDHC, 4 MiB
            card.stopsAutomatically = true
            let device = SDCard(host: card, clock: clock)
            XCTAssertEqual(device.geometry.sectorCount, 8192)
            XCTAssertFalse(card.log.contains(16))
            let data = [UInt8](repeating: 0xA5, count: 512 * 5)
            try device.write(sector: 8000, data)
            XCTAssertEqual(Array(card.storage[(8000 * 512)..<(8005 * 512)]), data)
            XCTAssertFalse(card.log.contains(SDCommand.stopTransmission))
        }
    }

    func testNoCardIsAnErrorValue() throws {
        let clock = FakeClock()
        try onTheLoop(clock) {
            let device = SDCard(host: SimulatedCard(bytes: 1 << 20, highCapacity: false, present: false), clock: clock)
            XCTAssertEqual(device.geometry.sectorCount, 0)
            XCTAssertNotNil(device.failure)
            XCTAssertThrowsError(try device.read(sector: 0, count: 1)) { XCTAssertEqual($0 as? BlockError, .noMedium) }
            XCTAssertThrowsError(try device.flush()) { XCTAssertEqual($0 as? BlockError, .noMedium) }
        }
    }

    func testACardThatNeverPowersUpTimesOut() throws {
        let clock = FakeClock()
        try onTheLoop(clock) {
            let card = SimulatedCard(bytes: 1 << 20, highCapacity: false)
            card.powerUpPolls = .max
            let device = SDCard(host: card, clock: clock)
            XCTAssertEqual(device.geometry.sectorCount, 0)
            XCTAssertEqual(device.failure?.description, "the card did not power up")
        }
    }

    func testRequestsPastTheEndOrUnalignedFailBeforeTheCard() throws {
        let clock = FakeClock()
        try onTheLoop(clock) {
            let card = SimulatedCard(bytes: 1 << 20, highCapacity: false)
            let device = SDCard(host: card, clock: clock)
            card.log.removeAll()
            XCTAssertThrowsError(try device.read(sector: 2047, count: 2)) { XCTAssertEqual($0 as? BlockError, .outOfRange) }
            XCTAssertThrowsError(try device.write(sector: 0, [1, 2, 3])) { XCTAssertEqual($0 as? BlockError, .unaligned) }
            XCTAssertEqual(card.log, [])
        }
    }
}

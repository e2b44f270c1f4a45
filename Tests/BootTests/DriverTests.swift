@testable import Boot
import Foundation
import XCTest

/// A clock the test moves by hand; waiting for its alarm jumps to it, or
/// to an "interrupt" the test planted earlier.
final class FakeClock: Clock {
    let frequency: UInt64 = 1_000_000
    var count: UInt64 = 0
    var waits = 0
    /// Interrupts to deliver while waiting: at a tick, a handler.
    var interrupts: [(at: UInt64, handler: () -> Void)] = []

    func ticks() -> UInt64 { count }

    func waitForInterrupt(orTicks deadline: UInt64) {
        waits += 1
        if let next = interrupts.first, next.at < deadline {
            interrupts.removeFirst()
            count = max(count, next.at)
            next.handler()
        } else {
            count = max(count, deadline)
        }
    }
}

/// Random bytes from a seeded generator, for code that takes an entropy device.
final class SeededRandom: EntropyDevice {
    var generator: SplitMix
    init(seed: UInt64 = 1) { generator = SplitMix(seed: seed) }
    func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        for index in buffer.indices { buffer[index] = UInt8(truncatingIfNeeded: generator.next()) }
    }
    func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) } }
    func integer(below bound: UInt64) -> UInt64 { generator.next() % bound }
    var contributions: [EntropyContribution] { [] }
}

/// A source that hands out fixed bytes and claims a fixed number of bits.
final class FixedSource: EntropySource {
    let name: StaticString = "fixed"
    let canRepeat: Bool
    let bytes: [UInt8]
    let claimedBits: Int
    var collected = 0

    init(bytes: [UInt8], claimedBits: Int, canRepeat: Bool = false) {
        self.bytes = bytes
        self.claimedBits = claimedBits
        self.canRepeat = canRepeat
    }

    func collect() -> (bytes: [UInt8], claimedBits: Int, note: StaticString?) {
        collected += 1
        return (bytes, claimedBits, nil)
    }
}

/// The runtime's drivers, built for the host: the logic apart from MMIO.
final class DriverTests: XCTestCase {
    func testEntropyCreditsNoMoreBitsThanBytesAndSeeds() {
        let entropy = Entropy(clock: FakeClock(), policy: "warn")
        entropy.gather(from: FixedSource(bytes: Array(0..<16), claimedBits: 1000))
        entropy.gather(from: FixedSource(bytes: Array(16..<48), claimedBits: 256))
        XCTAssertEqual(entropy.contributions.map(\.claimedBits), [128, 256], "16 bytes can carry at most 128 bits")
        XCTAssertEqual(entropy.contributions.map(\.bytes), [16, 32])
        entropy.finishSeeding()
        let first = entropy.bytes(32), second = entropy.bytes(32)
        XCTAssertNotEqual(first, second)
        XCTAssertNotEqual(first, [UInt8](repeating: 0, count: 32))
        XCTAssertLessThan(entropy.integer(below: 6), 6)
    }

    func testEntropyGathersAgainFromRepeatableSourcesUntilFull() {
        let entropy = Entropy(clock: FakeClock(), policy: "warn")
        let source = FixedSource(bytes: Array(repeating: 7, count: 8), claimedBits: 64, canRepeat: true)
        entropy.gather(from: source)
        entropy.finishSeeding()
        XCTAssertEqual(source.collected, 4, "64 bits a round: three more rounds reach 256")
        XCTAssertEqual(entropy.contributions.first?.claimedBits, 256)
    }

    func testJitterTurnedOffGivesNothing() {
        let off = JitterSource(clock: FakeClock(), enabled: false).collect()
        XCTAssertEqual(off.bytes, [])
        XCTAssertEqual(off.claimedBits, 0)
        XCTAssertEqual(off.note?.text, "turned off")
    }

    func testJitterOfAClockThatNeverMovesIsNotCredited() {
        let result = JitterSource(clock: FakeClock(), samples: 256).collect()
        XCTAssertEqual(result.claimedBits, 0, "a constant timer has no jitter")
        XCTAssertNotNil(result.note)
    }

    func testDeviceTreeSeedIsCreditedUnlessConstant() throws {
        func seed(_ bytes: [UInt8]) throws -> (bytes: [UInt8], claimedBits: Int, note: StaticString?) {
            let hex = bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
            let blob = try DeviceTreeTests.compile("/dts-v1/;\n/ { chosen { rng-seed = [\(hex)]; }; };\n")
            return try blob.withUnsafeBytes { raw in
                let parsed = try XCTUnwrap(DeviceTree(bytes: raw))
                return DeviceTreeSeed(tree: parsed).collect()
            }
        }
        XCTAssertEqual(try seed(Array(0..<32)).claimedBits, 256)
        XCTAssertEqual(try seed([UInt8](repeating: 0, count: 32)).claimedBits, 0)
    }

    func testDownCounterExtendsAcrossAWrap() {
        var counter = WrappingDownCounter()
        counter.last = 10
        XCTAssertEqual(counter.advance(to: 4), 6)
        XCTAssertEqual(counter.advance(to: 0xFFFF_FFFE), 12, "wrapped past zero: 4 -> 0 -> 0xFFFFFFFE is 6 ticks")
    }

    func testTicksToNanosecondsDoesNotOverflowForYears() {
        let tenYearsAt24MHz: UInt64 = 24_000_000 * 86_400 * 3650
        XCTAssertEqual(ticksToNanoseconds(tenYearsAt24MHz, frequency: 24_000_000), 86_400 * 3650 * 1_000_000_000)
        XCTAssertEqual(ticksToNanoseconds(3, frequency: 1_000_000), 3000)
    }
}

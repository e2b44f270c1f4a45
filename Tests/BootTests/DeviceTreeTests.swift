import Boot
import Foundation
import XCTest

/// The runtime's device-tree reader, checked against blobs that dtc builds.
final class DeviceTreeTests: XCTestCase {
    static let source = """
    /dts-v1/;
    / {
        #address-cells = <1>;
        #size-cells = <1>;
        model = "test board";
        compatible = "vendor,board", "vendor,soc";
        chosen {
            bootargs = "--message=\\"hi there\\" --count=3 --verbose";
            stdout-path = "/serial@1c28000";
        };
        serial@1c28000 {
            compatible = "snps,dw-apb-uart";
            reg = <0x01c28000 0x400>;
            reg-shift = <2>;
        };
        serial@9000000 {
            compatible = "arm,pl011", "arm,primecell";
            reg = <0x09000000 0x1000>;
        };
        timer {
            compatible = "arm,armv7-timer";
            always-on;
        };
    };
    """

    static func compile(_ source: String) throws -> [UInt8] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("t.dts"), output = folder.appendingPathComponent("t.dtb")
        try source.write(to: input, atomically: true, encoding: .utf8)
        let dtc = Process()
        dtc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        dtc.arguments = ["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", output.path, input.path]
        try dtc.run()
        dtc.waitUntilExit()
        XCTAssertEqual(dtc.terminationStatus, 0, "dtc (apt-get install device-tree-compiler) failed")
        return Array(try Data(contentsOf: output))
    }

    func withTree(_ body: (DeviceTree) throws -> Void) throws {
        let blob = try Self.compile(Self.source)
        try blob.withUnsafeBytes { bytes in
            let tree = try XCTUnwrap(DeviceTree(bytes: bytes))
            try body(tree)
        }
    }

    func testFindsNodesByPathAndUnitAddress() throws {
        try withTree { tree in
            XCTAssertEqual(tree.node(at: "/serial@9000000")?.name, "serial@9000000")
            XCTAssertEqual(tree.node(at: "/timer")?.name, "timer")
            XCTAssertNil(tree.node(at: "/serial@1234"))
            XCTAssertEqual(tree.root?.children.map(\.name), ["chosen", "serial@1c28000", "serial@9000000", "timer"])
        }
    }

    func testFindsNestedNodesAndSkipsSiblingsSubtrees() throws {
        let blob = try Self.compile("""
        /dts-v1/;
        / {
            a { b { soc { x = <1>; }; }; };
            soc { p = <7>; serial@1 { reg = <0x10 0x4>; }; serial@2 { reg = <0x20 0x4>; deep { z; }; }; };
            tail { };
        };
        """)
        try blob.withUnsafeBytes { bytes in
            let tree = try XCTUnwrap(DeviceTree(bytes: bytes))
            XCTAssertEqual(tree.node(at: "/")?.offset, tree.root?.offset)
            XCTAssertEqual(tree.node(at: "/soc")?.property("p").map { Array($0.cells) }, [7], "not /a/b/soc")
            XCTAssertEqual(tree.node(at: "/soc/serial@2")?.register()?.address, 0x20)
            XCTAssertEqual(tree.node(at: "/soc/serial")?.register()?.address, 0x10, "no unit address: the first serial@")
            XCTAssertNotNil(tree.node(at: "/soc/serial@2/deep"))
            XCTAssertNotNil(tree.node(at: "/a/b/soc"))
            XCTAssertNotNil(tree.node(at: "//tail/"))
            XCTAssertNil(tree.node(at: "/soc/deep"))
            XCTAssertNil(tree.node(at: "/b"))
            XCTAssertNil(tree.node(at: "/soc/serial@3"))
            XCTAssertEqual(tree.node(at: "/soc")?.children.map(\.name), ["serial@1", "serial@2"])
        }
    }

    func testReadsRegistersCellsAndStrings() throws {
        try withTree { tree in
            let uart = try XCTUnwrap(tree.node(at: "/serial@1c28000"))
            XCTAssertEqual(uart.register()?.address, 0x01c2_8000)
            XCTAssertEqual(uart.register()?.size, 0x400)
            XCTAssertEqual(uart.property("reg-shift").map { Array($0.cells) }, [2])
            XCTAssertEqual(tree.node(at: "/")?.property("compatible")?.strings, ["vendor,board", "vendor,soc"])
            XCTAssertEqual(tree.node(at: "/timer")?.property("always-on")?.bytes.count, 0)
            XCTAssertEqual(tree.node(at: "/chosen")?.property("stdout-path")?.string, "/serial@1c28000")
        }
    }

    func testFindsNodesByCompatible() throws {
        try withTree { tree in
            XCTAssertEqual(tree.nodes(compatibleWith: "arm,primecell").map(\.name), ["serial@9000000"])
            XCTAssertEqual(tree.nodes(compatibleWith: "arm,armv7-timer").count, 1)
            XCTAssertTrue(tree.nodes(compatibleWith: "nothing").isEmpty)
        }
    }

    func testBootArgumentsComeFromChosen() throws {
        try withTree { tree in
            let arguments = tree.bootArguments
            XCTAssertEqual(arguments.text(for: "message"), "hi there")
            XCTAssertEqual(arguments.text(for: "count"), "3")
            XCTAssertEqual(arguments.text(for: "verbose"), "true")
            XCTAssertNil(arguments.value(for: "missing"))
        }
    }

    func testRejectsBadHeaders() {
        let garbage: [UInt8] = Array(repeating: 0xAB, count: 64)
        garbage.withUnsafeBytes { XCTAssertNil(DeviceTree(bytes: $0)) }
        let tooShort: [UInt8] = [0xd0, 0x0d, 0xfe, 0xed]
        tooShort.withUnsafeBytes { XCTAssertNil(DeviceTree(bytes: $0)) }
    }

    /// The reader's offsets wrap instead of trapping on overflow, which is
    /// sound only because no blob over 16 MiB is read.
    func testRefusesBlobsOverTheSizeLimit() throws {
        var blob = try Self.compile(Self.source)
        blob.withUnsafeBytes { XCTAssertNotNil(DeviceTree(bytes: $0)) }
        let oversized = UInt32(16 << 20) + 4
        blob += Array(repeating: 0, count: Int(oversized) - blob.count)
        blob.replaceSubrange(4..<8, with: withUnsafeBytes(of: oversized.bigEndian) { Array($0) })
        blob.withUnsafeBytes { XCTAssertNil(DeviceTree(bytes: $0)) }
    }

    /// A malformed tree must give nil answers, never a crash or a hang:
    /// every byte of a real blob flipped in turn, plus random corruption.
    func testSurvivesCorruption() throws {
        let blob = try Self.compile(Self.source)
        var generator = SplitMix(seed: 0x5eed)
        var mutations: [[UInt8]] = []
        for index in blob.indices {
            var copy = blob
            copy[index] ^= 0xFF
            mutations.append(copy)
        }
        for _ in 0..<2000 {
            var copy = blob
            for _ in 0..<(1 + Int(generator.next() % 8)) {
                copy[Int(generator.next() % UInt64(copy.count))] = UInt8(truncatingIfNeeded: generator.next())
            }
            if generator.next() % 4 == 0 { copy.removeLast(Int(generator.next() % UInt64(copy.count))) }
            mutations.append(copy)
        }
        for mutated in mutations {
            mutated.withUnsafeBytes { bytes in
                guard let tree = DeviceTree(bytes: bytes) else { return }
                _ = tree.node(at: "/serial@9000000")?.register()
                _ = tree.nodes(compatibleWith: "arm,pl011")
                _ = tree.bootArguments.value(for: "message")
                _ = tree.node(at: "/chosen")?.property("bootargs")?.cells.reduce(0, &+)
                _ = tree.root?.children.map { $0.properties.map(\.strings) }
            }
        }
    }
}

final class BootArgumentsTests: XCTestCase {
    func testFormsAndOverrides() {
        withArguments("--message=one count=2 --flag --message=two ---") { arguments in
            XCTAssertEqual(arguments.text(for: "message"), "two", "later values override earlier ones")
            XCTAssertEqual(arguments.text(for: "count"), "2")
            XCTAssertEqual(arguments.text(for: "flag"), "true")
            XCTAssertNil(arguments.value(for: "mess"), "a prefix of a key is not the key")
            XCTAssertEqual(arguments.count, 4)
        }
    }

    func testQuotesKeepSpaces() {
        withArguments("--message=\"a b  c\" --x=1") { XCTAssertEqual($0.text(for: "message"), "a b  c") }
        withArguments("--m=\\x41\\\\") { XCTAssertEqual($0.text(for: "m"), "A\\") }
        withArguments("") { XCTAssertEqual($0.count, 0) }
        withArguments("   ") { XCTAssertEqual($0.count, 0) }
    }

    func testTypedValues() {
        XCTAssertEqual(Int(bootArgument: Array("42".utf8)), 42)
        XCTAssertEqual(Int(bootArgument: Array("-7".utf8)), -7)
        XCTAssertNil(Int(bootArgument: Array("4x".utf8)))
        XCTAssertNil(Int(bootArgument: []))
        XCTAssertEqual(Bool(bootArgument: Array("on".utf8)), true)
        XCTAssertEqual(Bool(bootArgument: Array("false".utf8)), false)
        XCTAssertNil(Bool(bootArgument: Array("maybe".utf8)))
        XCTAssertEqual(String(bootArgument: Array("Grüße".utf8)), "Grüße")
        XCTAssertNil(String(bootArgument: [0x41, 0xFF]), "bytes that are not UTF-8 are refused, not repaired")
    }
}

/// Parses `commandLine` as the runtime would find it in /chosen/bootargs.
func withArguments(_ commandLine: String, _ body: (BootArguments) -> Void) {
    Array(commandLine.utf8).withUnsafeBytes { body(BootArguments(bytes: $0)) }
}

extension BootArguments {
    /// The value for `key` as text, for comparing in tests.
    func text(for key: StaticString) -> String? {
        value(for: key).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// A small deterministic generator, so corruption tests are repeatable.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

final class ConsoleMessageTests: XCTestCase {
    func decimal(_ value: UInt64) -> String {
        var digits: [UInt8] = []
        forEachDecimalDigit(of: value) { digits.append($0) }
        return String(decoding: digits, as: UTF8.self)
    }

    func testDecimalDigitsWithoutDivision() {
        for value: UInt64 in [0, 1, 9, 10, 11, 99, 100, 101, 1_000_000, 4_294_967_296, UInt64.max, UInt64.max - 1, 10_000_000_000_000_000_000] {
            XCTAssertEqual(decimal(value), String(value))
        }
        var generator = SplitMix(seed: 7)
        for _ in 0..<2000 {
            let value = generator.next() >> (generator.next() % 64)
            XCTAssertEqual(decimal(value), String(value))
        }
    }

    func testInterpolationFormatsNumbersStringsAndTheRest() {
        let name = "Grüße"
        let count: Int8 = -128
        let big = UInt64.max
        let message: ConsoleMessage = "\(name): \(count) \(big) \(-7) \(true) \("static" as StaticString) \(name.dropFirst(2)) \(3.5)"
        XCTAssertEqual(String(decoding: message.bytes, as: UTF8.self), "Grüße: -128 \(UInt64.max) -7 true static üße 3.5")
        let plain: ConsoleMessage = "no interpolation"
        XCTAssertEqual(String(decoding: plain.bytes, as: UTF8.self), "no interpolation")
    }
}

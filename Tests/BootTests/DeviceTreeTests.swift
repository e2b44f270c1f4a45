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

    func testReadsRegistersCellsAndStrings() throws {
        try withTree { tree in
            let uart = try XCTUnwrap(tree.node(at: "/serial@1c28000"))
            XCTAssertEqual(uart.register()?.address, 0x01c2_8000)
            XCTAssertEqual(uart.register()?.size, 0x400)
            XCTAssertEqual(uart.property("reg-shift")?.cells, [2])
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
            let arguments = BootArguments(tree.bootArguments)
            XCTAssertEqual(arguments.value(for: "message"), "hi there")
            XCTAssertEqual(arguments.value(for: "count"), "3")
            XCTAssertEqual(arguments.value(for: "verbose"), "true")
            XCTAssertNil(arguments.value(for: "missing"))
        }
    }

    func testRejectsBadHeaders() {
        let garbage: [UInt8] = Array(repeating: 0xAB, count: 64)
        garbage.withUnsafeBytes { XCTAssertNil(DeviceTree(bytes: $0)) }
        let tooShort: [UInt8] = [0xd0, 0x0d, 0xfe, 0xed]
        tooShort.withUnsafeBytes { XCTAssertNil(DeviceTree(bytes: $0)) }
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
                _ = BootArguments(tree.bootArguments).value(for: "message")
                _ = tree.root?.children.map { $0.properties.map(\.strings) }
            }
        }
    }
}

final class BootArgumentsTests: XCTestCase {
    func testFormsAndOverrides() {
        let arguments = BootArguments("--message=one count=2 --flag --message=two")
        XCTAssertEqual(arguments.value(for: "message"), "two", "later values override earlier ones")
        XCTAssertEqual(arguments.value(for: "count"), "2")
        XCTAssertEqual(arguments.value(for: "flag"), "true")
    }

    func testQuotesKeepSpaces() {
        XCTAssertEqual(BootArguments("--message=\"a b  c\" --x=1").value(for: "message"), "a b  c")
        XCTAssertEqual(BootArguments("").pairs.count, 0)
        XCTAssertEqual(BootArguments("   ").pairs.count, 0)
    }

    func testTypedValues() {
        XCTAssertEqual(Int(bootArgument: "42"), 42)
        XCTAssertEqual(Int(bootArgument: "-7"), -7)
        XCTAssertNil(Int(bootArgument: "4x"))
        XCTAssertNil(Int(bootArgument: ""))
        XCTAssertEqual(Bool(bootArgument: "on"), true)
        XCTAssertEqual(Bool(bootArgument: "false"), false)
        XCTAssertNil(Bool(bootArgument: "maybe"))
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

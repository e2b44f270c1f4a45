import Foundation
@testable import MirageConfig
@testable import MirageEngine
import XCTest

/// Networks on the host side: the interface each board gives, the qemu
/// arguments that connect it, and the A10 EMAC's address in the device tree.
final class NetworkConfigurationTests: XCTestCase {
    func testEachBoardHasItsInterface() throws {
        let graph = Fixtures.graph([defaultConsole, genericStack()])
        XCTAssertEqual(try Fixtures.resolve(graph, on: "virt").device(named: "net")?.driver, "virtio-net")
        XCTAssertEqual(try Fixtures.resolve(graph, on: "vexpress-a9").device(named: "net")?.driver, "virtio-net")
        XCTAssertEqual(try Fixtures.resolve(graph, on: "cubieboard").device(named: "net")?.driver, "sunxi-emac")
        XCTAssertEqual(try Fixtures.resolve(graph, on: "virt").device(named: "stack")?.arguments, ["net", "clock", "entropy"])
    }

    func testTheBackendIsUserOrADatagramSocket() throws {
        let configuration = try Fixtures.resolve(Fixtures.graph([defaultConsole, genericStack()]), on: "virt")
        let board = try Fixtures.board("virt")
        XCTAssertEqual(try QemuCommand.attachments(for: configuration, board: board, drivers: Fixtures.drivers),
                       ["-netdev", "user,id=net", "-device", "virtio-net-device,netdev=net", "-device", "virtio-rng-device"],
                       "the stack's entropy device brings virtio-rng")
        let dgram = try QemuCommand.attachments(for: configuration, board: board, drivers: Fixtures.drivers,
                                                network: try .parse("dgram:/tmp/a,b.sock"))
        XCTAssertEqual(dgram[1], "dgram,id=net,local.type=unix,local.path=/tmp/a,,b.sock.qemu,remote.type=unix,remote.path=/tmp/a,,b.sock")
        XCTAssertThrowsError(try QemuCommand.NetworkBackend.parse("tap")) { XCTAssert("\($0)".contains("dgram:PATH"), "\($0)") }
        let tap = try QemuCommand.attachments(for: configuration, board: board, drivers: Fixtures.drivers, network: try .parse("tap:mirage0"))
        XCTAssertEqual(tap[1], "tap,id=net,ifname=mirage0,script=no,downscript=no")
        for bad in ["tap:", "tap:a,b", "tap:a/b", "tap:sixteen-letters!", "tap:a b"] {
            XCTAssertThrowsError(try QemuCommand.NetworkBackend.parse(bad), bad)
        }
        let forwarded = try QemuCommand.attachments(for: configuration, board: board, drivers: Fixtures.drivers,
                                                    network: try .parse("user", forwards: ["tcp:8080:80", "udp:5555:7"]))
        XCTAssertEqual(forwarded[1], "user,id=net,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:127.0.0.1:5555-:7")
        for bad in ["tcp:8080", "icmp:1:2", "tcp:0:80", "udp:70000:7", "tcp:a:80"] {
            XCTAssertThrowsError(try QemuCommand.NetworkBackend.parse("user", forwards: [bad]), bad)
        }
    }

    func testTheEMACGetsAnIsolatedPeerOnlyWhenUnused() throws {
        let board = try Fixtures.board("cubieboard")
        let unused = try Fixtures.resolve(Fixtures.graph([defaultConsole]), on: "cubieboard")
        XCTAssertEqual(try QemuCommand.attachments(for: unused, board: board, drivers: Fixtures.drivers),
                       ["-nic", "user,model=allwinner-emac,restrict=on"])
        let used = try Fixtures.resolve(Fixtures.graph([defaultConsole, genericStack()]), on: "cubieboard")
        XCTAssertEqual(try QemuCommand.attachments(for: used, board: board, drivers: Fixtures.drivers),
                       ["-netdev", "user,id=net", "-net", "nic,model=allwinner-emac,netdev=net"])
    }

    func testByteStringPropertiesReachTheDeviceTree() throws {
        let board = try Fixtures.board("cubieboard")
        let configuration = try Fixtures.resolve(Fixtures.graph([defaultConsole, genericStack()]), on: "cubieboard")
        let dts = DeviceTreeEmitter(board: board, configuration: configuration).tree().dts(header: "test")
        XCTAssert(dts.contains("local-mac-address = [52 54 00 12 34 56];"), dts)
    }

    func testConfigSaysDHCPOrAFixedAddressAndTheBootKeysKeepTheirSay() throws {
        for (setting, bootargs) in [(IPv4Setting.dhcp, "--ipv4=dhcp --ipv4-gateway="),
                                    (.fixed("192.168.7.20/24", gateway: "192.168.7.1"), "--ipv4=192.168.7.20/24 --ipv4-gateway=192.168.7.1"),
                                    (nil, "--ipv4=10.0.2.15/24 --ipv4-gateway=10.0.2.2")] {
            let configuration = try Fixtures.resolve(Fixtures.graph([defaultConsole, genericStack(address: setting)]), on: "virt")
            let board = try Fixtures.board("virt")
            let tree = DeviceTreeEmitter(board: board, configuration: configuration).tree().dts(header: "")
            XCTAssertTrue(tree.contains(bootargs), "\(String(describing: setting)): \(tree)")
        }
        let before = Diagnostics.errors.count
        _ = genericStack(address: .fixed("10.0.2.300/24", gateway: ""), file: "config.swift", line: 7)
        _ = genericStack(address: .fixed("10.0.2.3/24", gateway: "router"), file: "config.swift", line: 8)
        _ = genericStack(address: .fixed("10.0.2.3", gateway: ""), file: "config.swift", line: 9)
        let errors = Array(Diagnostics.errors.dropFirst(before))
        Diagnostics.errors.removeLast(errors.count)
        XCTAssertEqual(errors.count, 3, "\(errors)")
        XCTAssert(errors[0].hasPrefix("config.swift:7: error: genericStack(address:) has \"10.0.2.300/24\""), errors[0])
        XCTAssert(errors[1].hasPrefix("config.swift:8: error: genericStack(address:) has the gateway \"router\""), errors[1])
        XCTAssert(errors[2].contains("fix: write it as .fixed("), errors[2])
    }
}

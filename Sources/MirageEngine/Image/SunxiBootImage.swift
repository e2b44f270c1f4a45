import Foundation

/// The eGON.BT0 header the Allwinner boot ROM checks before it runs an SPL:
/// a branch, the magic "eGON.BT0", a checksum and the length. The checksum
/// is the 32-bit sum of the SPL's words with the checksum word taken as the
/// stamp 0x5F0A6C39.
public enum SunxiBootImage {
    static let magic = Array("eGON.BT0".utf8)
    static let stamp: UInt32 = 0x5F0A_6C39

    /// Why `image` (U-Boot with its SPL first) would not boot, or nil.
    public static func problem(with image: Data) -> String? {
        let bytes = [UInt8](image)
        guard bytes.count >= 32, Array(bytes[4..<12]) == magic else { return "it has no eGON.BT0 header" }
        func word(_ offset: Int) -> UInt32 {
            UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
        }
        let stored = word(12), length = Int(word(16))
        guard length >= 32, length % 4 == 0, length <= bytes.count else { return "its SPL length, \(length), does not fit the file" }
        var sum: UInt32 = 0
        for offset in stride(from: 0, to: length, by: 4) { sum &+= offset == 12 ? stamp : word(offset) }
        return sum == stored ? nil : "its SPL checksum is 0x\(String(stored, radix: 16)), but its words sum to 0x\(String(sum, radix: 16))"
    }
}

extension Board.SDCard.BootHeader {
    /// Why `loader` would not boot, or nil.
    func problem(with loader: Data) -> String? {
        switch self {
        case .egon: return SunxiBootImage.problem(with: loader)
        }
    }
}

extension Board.SDCard {
        /// The U-Boot file, found and checked for the header the boot ROM wants.
        public func checkedUBoot(in installation: Installation) throws -> Data {
            let file = try uBootFile(in: installation)
            let loader = try Data(contentsOf: file)
            if let problem = bootHeader?.problem(with: loader) {
                throw MirageError("the board's U-Boot, \(displayPath(file.path)), will not boot: \(problem)",
                                  fix: "run scripts/setup again to fetch the boards' firmware")
            }
            return loader
        }
}

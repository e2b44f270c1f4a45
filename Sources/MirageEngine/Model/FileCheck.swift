import Foundation

/// A library's check of the files a store carries (`file-check:` in its
/// driver.yaml): a program built with the tool from the library's own Swift
/// (its host-check/ folder, over the runtime built for the host), so that a
/// file the unikernel would refuse at boot is refused on the host first,
/// naming the file and the line. The dns library's reads NAME.zone files.
extension Driver {
    public struct FileCheck: Codable, Equatable {
        /// The files it reads, as patterns of their names (`*.zone`).
        public let names: [String]
        /// What such a file is, for messages ("DNS zone file").
        public let what: String
        /// The program, beside the tool's executable (`swift build` makes both).
        public let program: String

        enum CodingKeys: String, CodingKey, CaseIterable { case names, what, program }

        /// Whether it reads a file of this name (the last part of its path).
        func reads(_ fileName: String) -> Bool { names.contains { fnmatch($0, fileName, 0) == 0 } }
    }
}

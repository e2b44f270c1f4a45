import CElf
import Foundation

/// One section of an ELF image, read with libelf.
public struct ElfSection {
    public let name: String
    public let address: UInt64
    public let size: UInt64
    /// Occupies memory at run time (SHF_ALLOC).
    public let isAllocated: Bool
    /// Has bytes in the file (not NOBITS), so it is in the raw image.
    public let isLoaded: Bool
}

/// Reads ELF images with libelf.
public enum ElfImage {
    /// One section as libelf sees it, for the readers below.
    struct RawSection {
        let elf: OpaquePointer
        let section: OpaquePointer
        let header: GElf_Shdr
        let name: String
    }

    /// Opens `file` and hands every section to `visit`, in order.
    static func forEachSection(of file: URL, _ visit: (RawSection) throws -> Void) throws {
        guard elf_version(UInt32(EV_CURRENT)) != UInt32(EV_NONE) else { throw MirageError("libelf is too old") }
        try requireReadableFile(file, "the image")
        let descriptor = open(file.path, O_RDONLY)
        guard descriptor >= 0 else { throw MirageError("cannot open \(file.path)", fix: "check its permissions") }
        defer { close(descriptor) }
        guard let elf = elf_begin(descriptor, ELF_C_READ, nil) else {
            throw MirageError("\(file.path) is not an ELF file: \(String(cString: elf_errmsg(-1)))", fix: "name an image mirage-config built: dist/NAME.elf")
        }
        defer { elf_end(elf) }
        guard elf_kind(elf) == ELF_K_ELF else { throw MirageError("\(file.path) is not an ELF file", fix: "name an image mirage-config built: dist/NAME.elf") }
        var stringIndex = 0
        guard elf_getshdrstrndx(elf, &stringIndex) == 0 else { throw MirageError("\(file.path) has no section names") }
        var section = elf_nextscn(elf, nil)
        while let current = section {
            var header = GElf_Shdr()
            if gelf_getshdr(current, &header) != nil, let name = elf_strptr(elf, stringIndex, Int(header.sh_name)) {
                try visit(RawSection(elf: elf, section: current, header: header, name: String(cString: name)))
            }
            section = elf_nextscn(elf, current)
        }
    }

    public static func sections(of file: URL) throws -> [ElfSection] {
        var sections: [ElfSection] = []
        try forEachSection(of: file) { raw in
            sections.append(ElfSection(name: raw.name, address: raw.header.sh_addr, size: raw.header.sh_size,
                                       isAllocated: raw.header.sh_flags & UInt64(SHF_ALLOC) != 0,
                                       isLoaded: raw.header.sh_type != UInt32(SHT_NOBITS)))
        }
        return sections
    }

    /// A symbol of the image: its name and size in bytes.
    public struct Symbol {
        public let name: String
        public let size: UInt64
        /// Where it starts (a Thumb function's without its low bit).
        public var address: UInt64 = 0
        public var isFunction = false
    }

    /// The names of the functions and objects in the image's symbol table.
    public static func symbols(of file: URL) throws -> [String] {
        try sizedSymbols(of: file).map(\.name)
    }

    /// The image's named symbols with their sizes.
    public static func sizedSymbols(of file: URL) throws -> [Symbol] {
        var symbols: [Symbol] = []
        try forEachSection(of: file) { raw in
            guard raw.header.sh_type == UInt32(SHT_SYMTAB), let data = elf_getdata(raw.section, nil) else { return }
            let count = Int(raw.header.sh_size / max(raw.header.sh_entsize, 1))
            for index in 0..<count {
                var symbol = GElf_Sym()
                guard gelf_getsym(data, Int32(index), &symbol) != nil,
                      let name = elf_strptr(raw.elf, Int(raw.header.sh_link), Int(symbol.st_name)) else { continue }
                let text = String(cString: name)
                let isFunction = Int32(symbol.st_info & 0xf) == STT_FUNC
                if !text.isEmpty {
                    symbols.append(Symbol(name: text, size: symbol.st_size,
                                          address: isFunction ? symbol.st_value & ~1 : symbol.st_value, isFunction: isFunction))
                }
            }
        }
        return symbols
    }
}

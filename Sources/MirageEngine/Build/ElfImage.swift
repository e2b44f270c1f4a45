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
    public static func sections(of file: URL) throws -> [ElfSection] {
        guard elf_version(UInt32(EV_CURRENT)) != UInt32(EV_NONE) else { throw MirageError("libelf is too old") }
        let descriptor = open(file.path, O_RDONLY)
        guard descriptor >= 0 else { throw MirageError("cannot open \(file.path)") }
        defer { close(descriptor) }
        guard let elf = elf_begin(descriptor, ELF_C_READ, nil) else {
            throw MirageError("\(file.path) is not an ELF file: \(String(cString: elf_errmsg(-1)))")
        }
        defer { elf_end(elf) }
        guard elf_kind(elf) == ELF_K_ELF else { throw MirageError("\(file.path) is not an ELF file") }
        var stringIndex = 0
        guard elf_getshdrstrndx(elf, &stringIndex) == 0 else { throw MirageError("\(file.path) has no section names") }
        var sections: [ElfSection] = []
        var section = elf_nextscn(elf, nil)
        while let current = section {
            var header = GElf_Shdr()
            if gelf_getshdr(current, &header) != nil, let name = elf_strptr(elf, stringIndex, Int(header.sh_name)) {
                sections.append(ElfSection(name: String(cString: name), address: header.sh_addr, size: header.sh_size,
                                           isAllocated: header.sh_flags & UInt64(SHF_ALLOC) != 0,
                                           isLoaded: header.sh_type != UInt32(SHT_NOBITS)))
            }
            section = elf_nextscn(elf, current)
        }
        return sections
    }
}

extension ElfImage {
    /// The names of the functions and objects in the image's symbol table.
    public static func symbols(of file: URL) throws -> [String] {
        guard elf_version(UInt32(EV_CURRENT)) != UInt32(EV_NONE) else { throw MirageError("libelf is too old") }
        let descriptor = open(file.path, O_RDONLY)
        guard descriptor >= 0 else { throw MirageError("cannot open \(file.path)") }
        defer { close(descriptor) }
        guard let elf = elf_begin(descriptor, ELF_C_READ, nil), elf_kind(elf) == ELF_K_ELF else {
            throw MirageError("\(file.path) is not an ELF file")
        }
        defer { elf_end(elf) }
        var names: [String] = []
        var section = elf_nextscn(elf, nil)
        while let current = section {
            var header = GElf_Shdr()
            if gelf_getshdr(current, &header) != nil, header.sh_type == UInt32(SHT_SYMTAB), let data = elf_getdata(current, nil) {
                let count = Int(header.sh_size / max(header.sh_entsize, 1))
                for index in 0..<count {
                    var symbol = GElf_Sym()
                    guard gelf_getsym(data, Int32(index), &symbol) != nil,
                          let name = elf_strptr(elf, Int(header.sh_link), Int(symbol.st_name)) else { continue }
                    let text = String(cString: name)
                    if !text.isEmpty { names.append(text) }
                }
            }
            section = elf_nextscn(elf, current)
        }
        return names
    }
}

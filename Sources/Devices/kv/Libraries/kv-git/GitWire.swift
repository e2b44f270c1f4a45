/// Git's wire protocol, version 2 (gitprotocol-v2, gitprotocol-pack), as a
/// client fetching one ref speaks it to `git daemon` over git:// (TCP
/// 9418), or to a smart HTTP server (`git http-backend`) a request a step
/// (gitprotocol-http: the advertisement from GET info/refs, each command
/// POSTed to git-upload-pack): a pure state machine over bytes, in the manner of ocaml-tls, so it
/// is host-tested against git's own upload-pack; the connection is the
/// caller's (GitRemoteStore).
///
///     client: git-upload-pack PATH\0host=HOST\0\0version=2\0   (git:// only)
///     server: version 2, capabilities..., flush
///     client: command=ls-refs, delimiter, peel, ref-prefix..., flush
///     server: OID REFNAME [peeled:OID]..., flush
///     client: command=fetch, delimiter, ofs-delta, no-progress, want OID, done, flush
///     server: packfile, then the pack in side-band packets (1: data, 2: progress, 3: error), flush
public struct GitFetch {
    /// What to do next.
    public enum Step: Equatable {
        /// Read more of the server's answer.
        case needMore
        /// Send these bytes, then read on.
        case send([UInt8])
        /// The ref names the commit the caller has: nothing to fetch.
        case upToDate(commit: [UInt8])
        /// The ref's commit and a pack holding it and everything it reaches.
        case fetched(commit: [UInt8], pack: [UInt8])
    }

    enum Phase { case capabilities, refs, packHeader, pack, finished }

    let ref: String
    let have: [UInt8]?
    let maximumPack: Int
    var phase = Phase.capabilities
    var packets = GitPacketReader()
    var commit: [UInt8] = []
    var pack: [UInt8] = []

    /// A fetch of `ref` ("main": refs/heads/main or refs/tags/main; a full
    /// "refs/..." name; "HEAD"), where the caller serves `have` (nil: nothing
    /// yet); a pack larger than `maximumPack` bytes is refused.
    public init(ref: String, have: [UInt8]? = nil, maximumPack: Int) {
        self.ref = ref
        self.have = have
        self.maximumPack = maximumPack
    }

    /// The first bytes to send over git://: the service request naming the
    /// repository, then the ls-refs command (git daemon reads it once it has
    /// advertised its capabilities). Over a transport that starts upload-pack
    /// itself (ssh, a pipe), only `lsRefsCommand`.
    public func opening(path: String, host: String) -> [UInt8] {
        GitWire.packet(Array("git-upload-pack \(path)\0host=\(host)\0\0version=2\0".utf8)) + lsRefsCommand
    }

    public var lsRefsCommand: [UInt8] {
        var prefixes = ["ref-prefix " + ref + "\n"]
        if !ref.hasPrefix("refs/") && ref != "HEAD" {
            prefixes = ["ref-prefix refs/heads/" + ref + "\n", "ref-prefix refs/tags/" + ref + "\n"]
        }
        return GitWire.command("ls-refs", arguments: ["peel\n"] + prefixes)
    }

    static func fetchCommand(want: [UInt8]) -> [UInt8] {
        GitWire.command("fetch", arguments: ["ofs-delta\n", "no-progress\n", "want " + GitPack.hex(want) + "\n", "done\n"])
    }

    /// Takes the server's next bytes (any amount); says what to do next.
    public mutating func take(_ bytes: [UInt8]) throws(GitWireError) -> Step {
        packets.take(bytes)
        while let packet = try packets.next() {
            // Smart HTTP may end each response so (gitprotocol-v2); it says nothing here.
            if packet == .responseEnd { continue }
            switch phase {
            case .capabilities:
                if case .data(let line) = packet {
                    if packets.count == 1 && GitWire.text(line) != "version 2" {
                        throw GitWireError("the server does not speak git's protocol version 2 (it said '\(GitWire.text(line))'; git 2.18 and later do)")
                    }
                } else if packet == .flush {
                    phase = .refs
                } else {
                    throw GitWireError("a capability advertisement ended by a packet other than flush")
                }
            case .refs:
                if case .data(let line) = packet {
                    try takeRef(line)
                } else if packet == .flush {
                    guard !commit.isEmpty else { throw GitWireError("the repository has no ref \(ref)") }
                    if let have, have == commit {
                        phase = .finished
                        return .upToDate(commit: commit)
                    }
                    phase = .packHeader
                    return .send(GitFetch.fetchCommand(want: commit))
                } else {
                    throw GitWireError("a ref list ended by a packet other than flush")
                }
            case .packHeader:
                guard case .data(let line) = packet else { throw GitWireError("a fetch answered without a packfile section") }
                // Sections before the pack (shallow-info and the like) are not asked for; acknowledgments are not sent after "done".
                guard GitWire.text(line) == "packfile" else { throw GitWireError("a fetch answered with the section '\(GitWire.text(line))', not packfile") }
                phase = .pack
                // All the room at once, as a growing array would for a while need its old and new room
                // together: the rest of the answer's size when it is all here (smart HTTP's one response),
                // else (a stream) the most a pack may take.
                pack.reserveCapacity(min(maximumPack, packets.pending > 1 << 16 ? packets.pending : maximumPack))
            case .pack:
                switch packet {
                case .data(let band):
                    guard let channel = band.first else { throw GitWireError("an empty side-band packet") }
                    switch channel {
                    case 1:
                        guard pack.count + band.count - 1 <= maximumPack else {
                            throw GitWireError("the pack is larger than \(maximumPack) bytes, the most this store keeps")
                        }
                        pack += band[1...]
                    case 2: continue
                    case 3: throw GitWireError("the server: " + GitWire.text(Array(band[1...])))
                    default: throw GitWireError("a side-band packet on channel \(channel)")
                    }
                case .flush:
                    phase = .finished
                    return .fetched(commit: commit, pack: pack)
                default:
                    throw GitWireError("a pack ended by a packet other than flush")
                }
            case .finished:
                throw GitWireError("the server sent more after the fetch ended")
            }
        }
        return .needMore
    }

    /// One line of ls-refs: "OID NAME [peeled:OID]"; keeps the commit of the ref asked for.
    mutating func takeRef(_ line: [UInt8]) throws(GitWireError) {
        let words = (line.last == 10 ? line.dropLast() : line[...]).split(separator: 32)
        guard words.count >= 2, let id = GitPack.parseHex(words[0]), id.count == 20 else {
            throw GitWireError("a ref line that does not parse: '\(GitWire.text(line))'")
        }
        let name = String(decoding: words[1], as: UTF8.self)
        // A branch wins over a tag of the same short name, as git's own lookup does.
        let wanted = name == ref || name == "refs/heads/" + ref || (name == "refs/tags/" + ref && commit.isEmpty)
        guard wanted else { return }
        commit = id
        let peeledPrefix: [UInt8] = Array("peeled:".utf8)
        for word in words.dropFirst(2) where word.starts(with: peeledPrefix) {
            guard let peeled = GitPack.parseHex(word.dropFirst(peeledPrefix.count)), peeled.count == 20 else {
                throw GitWireError("a peeled ref that does not parse: '\(GitWire.text(line))'")
            }
            commit = peeled
        }
    }
}

/// Why a fetch failed: the server's answer did not follow the protocol, or said no.
public struct GitWireError: Error, Equatable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// One pkt-line (gitprotocol-common): data, or one of the special packets.
public enum GitPacket: Equatable {
    case data([UInt8])
    /// 0000: the end of a message.
    case flush
    /// 0001: between a command's capabilities and its arguments.
    case delimiter
    /// 0002: the end of a response in stateless connections.
    case responseEnd
}

public enum GitWire {
    /// The largest pkt-line git sends or takes: 65520 bytes, the four of the length included.
    static var largestPacket: Int { 65520 }

    /// A data pkt-line: four lowercase hex digits of length (themselves
    /// included), then the payload (at most 65516 bytes).
    public static func packet(_ payload: [UInt8]) -> [UInt8] {
        precondition(payload.count + 4 <= largestPacket)
        let length = payload.count + 4
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        return [digits[length >> 12 & 15], digits[length >> 8 & 15], digits[length >> 4 & 15], digits[length & 15]] + payload
    }

    static var flush: [UInt8] { Array("0000".utf8) }
    static var delimiter: [UInt8] { Array("0001".utf8) }

    /// A version 2 command: its name, the object format, a delimiter, its arguments, a flush.
    static func command(_ name: String, arguments: [String]) -> [UInt8] {
        var bytes = packet(Array("command=\(name)\n".utf8)) + packet(Array("object-format=sha1\n".utf8)) + delimiter
        for argument in arguments { bytes += packet(Array(argument.utf8)) }
        return bytes + flush
    }

    /// A packet's text without its final newline.
    static func text(_ line: [UInt8]) -> String {
        String(decoding: line.last == 10 ? line.dropLast() : line[...], as: UTF8.self)
    }
}

/// Splits the bytes a server sends into pkt-lines, however they arrive.
public struct GitPacketReader {
    var buffer: [UInt8] = []
    var start = 0
    /// How many packets it has given.
    public private(set) var count = 0
    /// Bytes taken and not yet given as packets.
    public var pending: Int { buffer.count - start }

    public init() {}

    public mutating func take(_ bytes: [UInt8]) {
        if start > 65536 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        buffer += bytes
    }

    /// The next whole packet, or nil until more bytes come.
    public mutating func next() throws(GitWireError) -> GitPacket? {
        guard buffer.count - start >= 4 else { return nil }
        var length = 0
        for byte in buffer[start..<(start + 4)] {
            let digit: Int
            switch byte {
            case 48...57: digit = Int(byte) - 48
            case 97...102: digit = Int(byte) - 87
            case 65...70: digit = Int(byte) - 55
            default: throw GitWireError("a pkt-line length that is not four hex digits")
            }
            length = length << 4 | digit
        }
        let packet: GitPacket
        switch length {
        case 0: packet = .flush
        case 1: packet = .delimiter
        case 2: packet = .responseEnd
        case 3: throw GitWireError("a pkt-line of length 3")
        default:
            guard length <= GitWire.largestPacket else { throw GitWireError("a pkt-line longer than 65520 bytes") }
            guard buffer.count - start >= length else { return nil }
            packet = .data(Array(buffer[(start + 4)..<(start + length)]))
            start += length
            count += 1
            return packet
        }
        start += 4
        count += 1
        return packet
    }
}

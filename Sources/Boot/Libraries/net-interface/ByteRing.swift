/// A byte queue of fixed capacity in one ring buffer: appending and taking
/// move indices, never the bytes already held. The storage grows as the
/// bytes held do (doubling, from 2 KiB up to the capacity) and is given back
/// whenever the queue is empty, so a connection that is idle, or in
/// TIME-WAIT, costs next to nothing: a server holds many of them.
struct ByteRing {
    let capacity: Int
    private var storage: [UInt8] = []
    static var smallestStorage: Int { 2048 }
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) { self.capacity = capacity }

    var free: Int { capacity - count }
    /// The bytes of storage it holds now.
    var storageSize: Int { storage.count }
    var isEmpty: Bool { count == 0 }

    /// Appends as much of `bytes` as fits; returns how many.
    mutating func append(_ bytes: ArraySlice<UInt8>) -> Int {
        let taken = min(free, bytes.count)
        guard taken > 0 else { return 0 }
        if count + taken > storage.count { grow(toHold: count + taken) }
        let size = storage.count
        var tail = (head + count) % size
        var index = bytes.startIndex
        var left = taken
        while left > 0 {
            let run = min(left, size - tail)
            storage.replaceSubrange(tail..<(tail + run), with: bytes[index..<(index + run)])
            tail = (tail + run) % size
            index += run
            left -= run
        }
        count += taken
        return taken
    }

    /// Storage for at least `needed` bytes (a power of two times the
    /// smallest, at most the capacity), the bytes held moved to its front.
    private mutating func grow(toHold needed: Int) {
        var size = max(storage.count, ByteRing.smallestStorage)
        while size < needed { size *= 2 }
        size = min(size, capacity)
        var larger = copy(from: 0, count: count)
        larger += [UInt8](repeating: 0, count: size - count)
        storage = larger
        head = 0
    }

    /// A copy of `length` bytes starting `offset` bytes in.
    func copy(from offset: Int, count length: Int) -> [UInt8] {
        precondition(offset >= 0 && length >= 0 && offset + length <= count)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        let size = storage.count
        guard length > 0 else { return bytes }
        var position = (head + offset) % size
        var left = length
        while left > 0 {
            let run = min(left, size - position)
            bytes += storage[position..<(position + run)]
            position = (position + run) % size
            left -= run
        }
        return bytes
    }

    mutating func removeFirst(_ length: Int) {
        let removed = min(length, count)
        guard removed > 0 else { return }
        head = (head + removed) % storage.count
        count -= removed
        if count == 0 { release() }
    }

    /// Takes up to `length` bytes from the front.
    mutating func take(_ length: Int) -> [UInt8] {
        let bytes = copy(from: 0, count: min(length, count))
        removeFirst(bytes.count)
        return bytes
    }

    /// Empties it and gives back its storage.
    mutating func release() {
        storage = []
        head = 0
        count = 0
    }
}

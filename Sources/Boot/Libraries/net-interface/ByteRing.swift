/// A byte queue of fixed capacity in one ring buffer: appending and taking
/// move indices, never the bytes already held. The storage is allocated on
/// first use and can be given back, so a connection in TIME-WAIT costs
/// next to nothing.
struct ByteRing {
    let capacity: Int
    private var storage: [UInt8] = []
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) { self.capacity = capacity }

    var free: Int { capacity - count }
    var isEmpty: Bool { count == 0 }

    /// Appends as much of `bytes` as fits; returns how many.
    mutating func append(_ bytes: ArraySlice<UInt8>) -> Int {
        let taken = min(free, bytes.count)
        guard taken > 0 else { return 0 }
        if storage.isEmpty { storage = [UInt8](repeating: 0, count: capacity) }
        var tail = (head + count) % capacity
        var index = bytes.startIndex
        var left = taken
        while left > 0 {
            let run = min(left, capacity - tail)
            storage.replaceSubrange(tail..<(tail + run), with: bytes[index..<(index + run)])
            tail = (tail + run) % capacity
            index += run
            left -= run
        }
        count += taken
        return taken
    }

    /// A copy of `length` bytes starting `offset` bytes in.
    func copy(from offset: Int, count length: Int) -> [UInt8] {
        precondition(offset >= 0 && length >= 0 && offset + length <= count)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        var position = (head + offset) % max(capacity, 1)
        var left = length
        while left > 0 {
            let run = min(left, capacity - position)
            bytes += storage[position..<(position + run)]
            position = (position + run) % capacity
            left -= run
        }
        return bytes
    }

    mutating func removeFirst(_ length: Int) {
        let removed = min(length, count)
        guard removed > 0 else { return }
        head = (head + removed) % capacity
        count -= removed
        if count == 0 { head = 0 }
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

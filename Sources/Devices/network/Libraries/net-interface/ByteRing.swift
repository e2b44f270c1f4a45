/// A byte queue of fixed capacity in one ring buffer: appending and taking
/// move indices, never the bytes already held. The storage grows as the
/// bytes held do (doubling, from 2 KiB up to the capacity); whenever the
/// queue is empty, storage beyond the smallest is given back, so an idle
/// connection holds at most 2 KiB a direction (a server holds many), and a
/// connection of small requests and answers allocates nothing per message.
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
        storage.withUnsafeMutableBytes { ring in
            bytes.withUnsafeBytes { source in
                while left > 0 {
                    let run = min(left, size - tail)
                    let from = index - bytes.startIndex
                    UnsafeMutableRawBufferPointer(rebasing: ring[tail..<(tail + run)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[from..<(from + run)]))
                    tail = (tail + run) % size
                    index += run
                    left -= run
                }
            }
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
        // Bytes past those held are never read before they are written: no zero-fill.
        storage = filledBytes(count: size) { copy(from: 0, count: count, into: $0) }
        head = 0
    }

    /// `length` bytes starting `offset` bytes in: a view of the storage when
    /// they lie in one run, as they mostly do (what TCP sends is emitted
    /// straight from it), else a copy. A view still held when the ring is
    /// next written to makes that write copy the storage first (Swift's
    /// copy on write): correct, only slower, so callers let views go at once.
    func bytes(from offset: Int, count length: Int) -> ArraySlice<UInt8> {
        precondition(offset >= 0 && length >= 0 && offset + length <= count)
        guard length > 0 else { return [] }
        let position = (head + offset) % storage.count
        if position + length <= storage.count { return storage[position..<(position + length)] }
        return copy(from: offset, count: length)[...]
    }

    /// A copy of `length` bytes starting `offset` bytes in.
    func copy(from offset: Int, count length: Int) -> [UInt8] {
        precondition(offset >= 0 && length >= 0 && offset + length <= count)
        guard length > 0 else { return [] }
        return filledBytes(count: length) { copy(from: offset, count: length, into: $0) }
    }

    /// Copies `length` bytes starting `offset` bytes in to the front of `destination`, in one or two runs.
    private func copy(from offset: Int, count length: Int, into destination: UnsafeMutableRawBufferPointer) {
        guard length > 0 else { return }
        storage.withUnsafeBytes { ring in
            let size = ring.count
            var position = (head + offset) % size
            var written = 0
            while written < length {
                let run = min(length - written, size - position)
                UnsafeMutableRawBufferPointer(rebasing: destination[written..<(written + run)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: ring[position..<(position + run)]))
                position = (position + run) % size
                written += run
            }
        }
    }

    mutating func removeFirst(_ length: Int) {
        let removed = min(length, count)
        guard removed > 0 else { return }
        head = (head + removed) % storage.count
        count -= removed
        if count == 0 {
            head = 0
            if storage.count > ByteRing.smallestStorage { release() }
        }
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

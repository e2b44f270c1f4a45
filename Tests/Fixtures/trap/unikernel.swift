struct Trap {
    static func start(console: some Console) -> Int32 {
        guard Keys.inTask else { return misbehave(console) }
        var status: Int32 = 0
        do throws(TaskError) {
            let worker = try Tasks.spawn(name: "worker") { status = misbehave(console) }
            try? worker.join()
        } catch {
            console.log("cannot start the worker task")
            return 1
        }
        return status
    }

    static func misbehave(_ console: some Console) -> Int32 {
        switch Keys.crash {
        case "fatal-error":
            fatalError("the job gave up: \(Keys.start)")
        case "index":
            let numbers = [1, 2, 3]
            console.log("element \(numbers[Keys.start])")
        case "unwrap":
            let missing: Int? = Keys.start > 0 ? nil : 1
            console.log("value \(missing!)")
        case "status":
            return Int32(truncatingIfNeeded: Keys.start)
        default:
            break
        }
        if Keys.recurse {
            console.log("recursing")
            console.log("depth \(descend(1, limit: Keys.start))")
            return 0
        }
        if Keys.jump != 0 {
            console.log("calling \(Keys.jump)")
            let target = unsafeBitCast(UInt(Keys.jump), to: (@convention(c) () -> Void).self)
            target()
            console.log("not reached")
            return 0
        }
        var count = Int32(truncatingIfNeeded: Keys.start)
        for _ in 0..<4 {
            console.log("count \(count)")
            count += 1          // traps on overflow past Int32.max
        }
        console.log("not reached")
        return 0
    }
}

/// How deep `descend` got: a side effect, so the compiler keeps every call.
nonisolated(unsafe) var deepest = 0

/// Recurses `limit` deep (the boot key --start: far beyond any stack), and
/// adds after each call, so the recursion cannot become a loop.
@inline(never)
func descend(_ depth: Int, limit: Int) -> Int {
    deepest = depth
    if depth >= limit { return depth }
    return descend(depth &+ 1, limit: limit) &+ deepest
}

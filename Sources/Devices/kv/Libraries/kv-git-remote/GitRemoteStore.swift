/// A read-only store of the files of a branch (or tag) of a remote git
/// repository, kept up to date while it is served (as MirageOS's git-kv):
/// each pull asks `git daemon` for the ref over git:// (GitFetch, git's
/// protocol version 2) and, when it names a new commit, fetches a pack of
/// that commit, indexes it in memory (GitPackIndexer: every object checked
/// against its name) and serves it through GitStore, the same code as a
/// packed disk. The switch is whole: a request reads one `snapshot()`, the
/// commit served when it began, so no answer mixes two commits. A pull that
/// fails keeps the commit served and is tried again at the next.
///
/// The first pull happens at start, before the job runs; the others in a
/// task of their own, every `pullEvery` seconds.
public final class GitRemoteStore<Stack: NetworkStack>: KeyValueReader {
    public typealias Snapshot = GitStore<GitPackImage>

    let stack: Stack
    let url: NetworkURL?
    let ref: String
    let pullEvery: Int
    /// The commit served (nil before the first pull that worked).
    public private(set) var served: GitStore<GitPackImage>?
    /// What is read before the first pull that worked: every key absent.
    let nothingYet = GitStore(unavailable: .notFound, source: GitPackImage(parts: []))
    /// Pulls tried, and those that failed.
    public private(set) var pulls = 0, failedPulls = 0

    /// The most pack a pull keeps in memory (and the room it takes for one,
    /// at once): while a new pack is indexed, the one served, the new one,
    /// the largest object inflated and the bases met share the 16 MiB heap.
    public static var maximumPack: Int { 4 << 20 }
    /// How long one pull may take, connecting included.
    static var pullTimeout: UInt64 { 60_000_000_000 }

    /// A store of `url`'s `ref` (a URL the tool checked: `--git-remote`'s "git-url" form).
    public init(stack: Stack, url text: String, ref: String, pullEvery: Int) {
        self.stack = stack
        self.ref = ref
        self.pullEvery = max(1, pullEvery)
        let url = NetworkURL(text)
        self.url = url?.scheme == "git" && url?.target != "/" ? url : nil
        guard self.url != nil else {
            print("git remote: '\(text)' is not a git:// URL (git://HOST[:PORT]/PATH)")
            return
        }
        pull()
        do throws(TaskError) {
            try Tasks.spawn(name: "git-pull") { [self] in
                while true {
                    do throws(WaitError) {
                        try Tasks.sleep(nanoseconds: UInt64(self.pullEvery) * 1_000_000_000)
                    } catch {
                        return
                    }
                    self.pull()
                }
            }
        } catch {
            print("git remote: no room for the pull task: \(error.reason.text)")
        }
    }

    /// One pull: the ref's commit asked for and, if it is not the one
    /// served, fetched and served from now on. Says on the console what changed or failed.
    @discardableResult
    public func pull() -> Bool {
        guard let url else { return false }
        pulls += 1
        let have = served.flatMap { GitPack.parseHex($0.commit.utf8) }
        let deadline = Tasks.deadline(afterNanoseconds: GitRemoteStore.pullTimeout)
        var session = GitFetch(ref: ref, have: have, maximumPack: GitRemoteStore.maximumPack)
        let connection: Stack.Connection
        do throws(NetworkError) {
            connection = try stack.connect(to: url, waitingAtMost: GitRemoteStore.pullTimeout)
        } catch {
            return failed("cannot connect to \(url.host):\(url.port): \(error.reason.text)")
        }
        var outcome: GitFetch.Step = .needMore
        do throws(NetworkError) {
            try connection.write(session.opening(path: url.target, host: url.authority), waitingAtMost: Tasks.nanoseconds(untilDeadline: deadline))
            read: while true {
                guard let bytes = try connection.read(atMost: 65_536, waitingAtMost: Tasks.nanoseconds(untilDeadline: deadline)) else {
                    connection.abort()
                    return failed("the server closed the connection before the fetch ended")
                }
                let step: GitFetch.Step
                do throws(GitWireError) {
                    step = try session.take(bytes)
                } catch {
                    connection.abort()
                    return failed(error.reason)   // GitWireError: a String
                }
                switch step {
                case .needMore: continue
                case .send(let request): try connection.write(request, waitingAtMost: Tasks.nanoseconds(untilDeadline: deadline))
                case .upToDate, .fetched:
                    outcome = step
                    break read
                }
            }
        } catch {
            connection.abort()
            return failed(error.reason.text)
        }
        connection.close(waitingAtMost: 1_000_000_000)
        guard case .fetched(let commit, let pack) = outcome else { return true }
        // The commit served goes on being served, but without what it keeps for the next reads.
        served?.dropCaches()
        let image: GitPackImage
        do throws(KeyValueError) {
            image = try GitPackIndexer.storeImage(ref: ref, commit: commit, pack: pack)
        } catch {
            return failed("the fetched pack of \(GitPack.hex(commit)) does not index: \(error.reason.text)")
        }
        let store = GitStore(source: image, ref: ref)
        if let failure = store.failure { return failed("the fetched commit \(GitPack.hex(commit)) cannot be served: \(failure.reason.text)") }
        served = store
        print("git remote: serving \(store.commit) (\(ref) of \(url.host)\(url.target), a pack of \(pack.count) bytes)")
        return true
    }

    func failed(_ reason: String) -> Bool {
        failedPulls += 1
        print("git remote: pull \(pulls) failed: \(reason); \(served.map { "still serving \($0.commit)" } ?? "nothing served yet")")
        return false
    }

    // MARK: KeyValueReader, each call on the commit served when it is made

    public func snapshot() -> GitStore<GitPackImage> { served ?? nothingYet }

    public func exists(_ key: String) throws(KeyValueError) -> KeyValueKind? { try snapshot().exists(key) }
    public func get(_ key: String) throws(KeyValueError) -> [UInt8] { try snapshot().get(key) }
    public func get(_ key: String, offset: Int, length: Int) throws(KeyValueError) -> [UInt8] {
        try snapshot().get(key, offset: offset, length: length)
    }
    public func list(_ key: String) throws(KeyValueError) -> [KeyValueEntry] { try snapshot().list(key) }
    public func size(_ key: String) throws(KeyValueError) -> Int { try snapshot().size(key) }
    public func digest(_ key: String) throws(KeyValueError) -> [UInt8] { try snapshot().digest(key) }
}

/// A read-only store of the files of a branch (or tag) of a remote git
/// repository, kept up to date while it is served (as MirageOS's git-kv):
/// each pull asks `git daemon` over git:// or a smart HTTP server
/// (`git http-backend`) for the ref (GitFetch, git's protocol version 2)
/// and, when it names a new commit, fetches a pack of that commit, indexes
/// it in memory (GitPackIndexer: every object checked against its name) and
/// serves it through GitStore, the same code as a packed disk. The switch is whole: a request reads one `snapshot()`, the
/// commit served when it began, so no answer mixes two commits. A pull that
/// fails keeps the commit served and is tried again at the next.
///
/// The first pull happens at `start()`, before the job runs; the others in
/// a task of their own, every `pullEvery` seconds. Kept in a writable store
/// (`keep(in:)`, a littlefs disk), each fetched pack is saved there, and the
/// last one is served from it at start, before the first pull: a reboot
/// serves the last fetch even while the remote is unreachable.
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

    /// Saves a fetched commit's pack where `keep(in:)` said; nil: kept nowhere.
    var save: ((_ commit: [UInt8], _ pack: [UInt8]) -> Void)?

    /// Where a writable store keeps the last fetch: the pack, and a line naming the ref, the commit and the URL.
    static var keptPack: String { "git-remote/pack" }
    static var keptCommit: String { "git-remote/commit" }

    /// A store of `url`'s `ref` (a URL the tool checked: `--git-remote`'s "git-url" form).
    public init(stack: Stack, url text: String, ref: String, pullEvery: Int) {
        self.stack = stack
        self.ref = ref
        self.pullEvery = max(1, pullEvery)
        let url = NetworkURL(text)
        self.url = (url?.scheme == "git" || url?.scheme == "http") && url?.target != "/" ? url : nil
        if self.url == nil {
            print("git remote: '\(text)' is not a git:// or http:// URL of a repository (git://HOST[:PORT]/PATH)")
        }
    }

    /// Keeps each fetch in `store` from now on, and serves the one it kept
    /// last time (of the same URL and ref), if any.
    public func keep(in store: some KeyValueWriter) {
        guard let url else { return }
        let origin = "\(ref) \(url.scheme)://\(url.authority)\(url.target)"
        save = { commit, pack in
            do throws(KeyValueError) {
                try store.set(GitRemoteStore.keptPack, pack)
                try store.set(GitRemoteStore.keptCommit, Array("\(GitPack.hex(commit)) \(origin)\n".utf8))
            } catch {
                print("git remote: could not keep the fetch: \(error.reason.text)")
            }
        }
        let line: [UInt8], pack: [UInt8]
        do throws(KeyValueError) {
            line = try store.get(GitRemoteStore.keptCommit)
            pack = try store.get(GitRemoteStore.keptPack)
        } catch {
            if error != .notFound { print("git remote: could not read the kept fetch: \(error.reason.text)") }
            return
        }
        let text = String(decoding: line.prefix { $0 != 10 }, as: UTF8.self)
        guard text.utf8.count > 41, let commit = GitPack.parseHex(text.utf8.prefix(40)), commit.count == 20,
              String(text.utf8.dropFirst(41)) == origin else {
            print("git remote: the kept fetch is of another repository or ref: not served")
            return
        }
        serve(commit: commit, pack: pack, from: "the last fetch, kept on the disk")
    }

    /// The first pull, then the task that pulls every `pullEvery` seconds.
    public func start() {
        guard url != nil else { return }
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
        let outcome: GitFetch.Step
        switch url.scheme == "http" ? fetchOverHTTP(&session, deadline: deadline) : fetchOverGit(&session, deadline: deadline) {
        case .success(let step): outcome = step
        case .failure(let reason): return failed(reason.reason)
        }
        guard case .fetched(let commit, let pack) = outcome else { return true }
        guard serve(commit: commit, pack: pack, from: "\(url.host)\(url.target)") else { return false }
        save?(commit, pack)
        return true
    }

    /// Indexes `pack` and serves `commit` from it from now on; false (after saying why) if it cannot.
    @discardableResult
    func serve(commit: [UInt8], pack: [UInt8], from origin: String) -> Bool {
        let image: GitPackImage
        do throws(KeyValueError) {
            image = try GitPackIndexer.storeImage(ref: ref, commit: commit, pack: pack)
        } catch {
            return failed("the pack of \(GitPack.hex(commit)) does not index: \(error.reason.text)")
        }
        let store = GitStore(source: image, ref: ref)
        if let failure = store.failure { return failed("the commit \(GitPack.hex(commit)) cannot be served: \(failure.reason.text)") }
        served = store
        print("git remote: serving \(store.commit) (\(ref) of \(origin), a pack of \(pack.count) bytes)")
        return true
    }

    /// The fetch over git://: one connection to git daemon, the session's bytes both ways.
    func fetchOverGit(_ session: inout GitFetch, deadline: UInt64) -> Result<GitFetch.Step, GitWireError> {
        guard let url else { return .failure(GitWireError("no URL")) }
        let connection: Stack.Connection
        do throws(NetworkError) {
            connection = try stack.connect(to: url, waitingAtMost: Tasks.nanoseconds(untilDeadline: deadline))
        } catch {
            return .failure(GitWireError("cannot connect to \(url.host):\(url.port): \(error.reason.text)"))
        }
        do throws(NetworkError) {
            try connection.write(session.opening(path: url.target, host: url.authority), waitingAtMost: Tasks.nanoseconds(untilDeadline: deadline))
            while true {
                guard let bytes = try connection.read(atMost: 65_536, waitingAtMost: Tasks.nanoseconds(untilDeadline: deadline)) else {
                    connection.abort()
                    return .failure(GitWireError("the server closed the connection before the fetch ended"))
                }
                let step: GitFetch.Step
                do throws(GitWireError) {
                    step = try session.take(bytes)
                } catch {
                    connection.abort()
                    return .failure(error)
                }
                switch step {
                case .needMore: continue
                case .send(let request):
                    makeRoomForAPack()
                    try connection.write(request, waitingAtMost: Tasks.nanoseconds(untilDeadline: deadline))
                case .upToDate, .fetched:
                    connection.close(waitingAtMost: 1_000_000_000)
                    return .success(step)
                }
            }
        } catch {
            connection.abort()
            return .failure(GitWireError(error.reason.text))
        }
    }

    /// The fetch over smart HTTP (gitprotocol-http, version 2): the
    /// advertisement from GET info/refs, then each command the session sends
    /// POSTed to git-upload-pack, its response the session's next bytes.
    func fetchOverHTTP(_ session: inout GitFetch, deadline: UInt64) -> Result<GitFetch.Step, GitWireError> {
        guard let url else { return .failure(GitWireError("no URL")) }
        let repository = "http://\(url.authority)\(url.target.hasSuffix("/") ? String(url.target.dropLast()) : url.target)"
        let version = HTTPHeader(name: "Git-Protocol", value: "version=2")
        let maximumBody = GitRemoteStore.maximumPack + (1 << 20)
        func answer(_ response: HTTPResponse) -> Result<GitFetch.Step, GitWireError> {
            guard response.status == 200 else { return .failure(GitWireError("the server answered \(response.status) \(response.reason) for \(response.url.target)")) }
            do throws(GitWireError) {
                return .success(try session.take(response.body))
            } catch {
                return .failure(error)
            }
        }
        var request = session.lsRefsCommand
        var step: GitFetch.Step
        do throws(HTTPClientError) {
            let advertisement = try HTTPClient.get(repository + "/info/refs?service=git-upload-pack", on: stack, fields: [version],
                                                   maximumBody: 1 << 16, waitingAtMost: Tasks.nanoseconds(untilDeadline: deadline))
            switch answer(advertisement) {
            case .success(let next): step = next
            case .failure(let error): return .failure(error)
            }
            while step == .needMore {
                let response = try HTTPClient.post(request, to: repository + "/git-upload-pack",
                                                   fields: [HTTPHeader(name: "Content-Type", value: "application/x-git-upload-pack-request"), version],
                                                   on: stack, maximumBody: maximumBody, waitingAtMost: Tasks.nanoseconds(untilDeadline: deadline))
                switch answer(response) {
                case .success(.send(let next)):
                    makeRoomForAPack()
                    request = next
                    step = .needMore
                case .success(.needMore):
                    return .failure(GitWireError("a response of the server ended before its message did"))
                case .success(let done): step = done
                case .failure(let error): return .failure(error)
                }
            }
        } catch {
            return .failure(GitWireError("HTTP: " + error.reason))
        }
        return .success(step)
    }

    /// Before a pack comes: the commit served goes on being served, but
    /// without what it keeps for its next reads, which the new pack needs room for.
    func makeRoomForAPack() {
        served?.dropCaches()
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

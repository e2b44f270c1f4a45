import Foundation

/// What an image is: written to _build/manifest.json.
public struct Manifest: Codable {
    public let tool: String
    public let toolVersion: String
    public let unikernel: String
    public let job: String
    public let board: BoardSummary
    public let toolchain: String
    public let assertConfig: AssertConfiguration
    public let devices: [ResolvedDevice]
    public let keys: [ResolvedKey]
    /// The device packages whose drivers are in the image, by name.
    public let packages: [String]
    public let image: String

    public struct BoardSummary: Codable {
        public let name: String
        /// Absent for the host target, a process.
        public let cpu: String?
        public let ramBase: UInt64?
        public let ramSize: UInt64?
        public let loadAddress: UInt64?
        public let qemuMachine: String?
    }

    init(configuration: ResolvedConfiguration, board: Board, workspace: Workspace) {
        tool = "mirage-config"
        toolVersion = Installation.toolVersion
        unikernel = configuration.name
        job = configuration.job
        self.board = BoardSummary(name: board.name, cpu: board.cpu?.core, ramBase: board.memory?.ram.base,
                                  ramSize: board.memory?.ram.size, loadAddress: board.memory?.load, qemuMachine: board.qemu)
        toolchain = configuration.toolchain
        assertConfig = configuration.assertConfig
        devices = configuration.devices
        keys = configuration.keys
        packages = configuration.packages.map(\.name)
        image = displayPath(workspace.image(configuration.name).path, relativeTo: workspace.directory.path)
    }
}

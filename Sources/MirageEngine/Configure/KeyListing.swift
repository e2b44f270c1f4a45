/// The keys a configuration declares: the job's and its devices'.
public enum KeyListing {
    /// Every declaration, in order, repeats included.
    static func allDeclarations(of graph: ConfigModel.Graph) -> [ConfigModel.Key] {
        var declarations: [ConfigModel.Key] = graph.keys
        func collect(_ device: ConfigModel.Device) {
            declarations += device.keys
            device.arguments.forEach(collect)
            if case let .match(_, cases, otherwise) = device.implementation {
                cases.keys.sorted().forEach { collect(cases[$0]!) }
                otherwise.map(collect)
            }
        }
        graph.devices.forEach(collect)
        return declarations
    }

    /// Each key once, in declaration order.
    public static func keys(of graph: ConfigModel.Graph) -> [ConfigModel.Key] {
        var seen = Set<String>()
        return allDeclarations(of: graph).filter { seen.insert($0.name).inserted }
    }
}

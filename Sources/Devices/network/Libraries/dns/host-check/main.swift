// mirage-check-dns FILE...: parses each zone file (NAME.zone, the zone NAME)
// with the runtime's own parser, built for the host, so that `mirage-config`
// refuses at embed and pack time exactly the files the unikernel would
// refuse at boot. Prints "FILE:LINE: reason" for each that does not parse;
// exits 1 if any did not, 2 if a file could not be read.
import Boot
import Foundation

var status: Int32 = 0
for path in CommandLine.arguments.dropFirst() {
    guard let data = FileManager.default.contents(atPath: path) else {
        print("\(path): cannot be read")
        status = 2
        continue
    }
    let name = URL(fileURLWithPath: path).lastPathComponent
    if case .failure(let error) = DNSZone.parse(fileNamed: name, [UInt8](data)) {
        print(error.located(in: path))
        status = max(status, 1)
    }
}
exit(status)

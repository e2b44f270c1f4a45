/// An authoritative name server's answers, as a pure function of its zones
/// and a query's bytes (the way ocaml-dns's server is a state machine with
/// thin I/O around it): RFC 1034 4.3.2's lookup with referrals and glue,
/// CNAME chains inside the zones, wildcards (RFC 4592), NXDOMAIN and NODATA
/// with the SOA for negative caching (RFC 2308 3), EDNS(0) (RFC 6891:
/// BADVERS for versions past 0, the UDP payload size, truncation), and zone
/// transfers (AXFR, RFC 5936) over TCP to the addresses allowed them.
public struct DNSAuthority {
    public let zones: [DNSZone]
    /// Who may ask for a zone transfer (over TCP).
    public let transferTo: [IPAddress]
    /// The largest UDP answer this server sends, whatever a client offers:
    /// 1232 bytes, DNS Flag Day 2020's size that needs no IP fragments.
    public static let udpPayloadSize = 1232
    /// How many CNAME links an answer follows inside the zones.
    static let chainLimit = 8

    public init(zones: [DNSZone], transferTo: [IPAddress] = []) {
        self.zones = zones
        self.transferTo = transferTo
    }

    /// How the query came.
    public enum Transport { case udp, tcp }

    /// The messages that answer `query` (several for a zone transfer), or
    /// none when it deserves no answer (it is itself a response, or too
    /// short to have an ID).
    public func answer(_ query: [UInt8], over transport: Transport, from client: IPAddress) -> [[UInt8]] {
        let request: DNSMessage
        switch DNSMessage.parse(query) {
        case .success(let parsed):
            request = parsed
        case .failure:
            guard let header = DNSMessage.parseHeader(query), !header.isResponse else { return [] }
            var response = DNSMessage(id: header.id)
            response.isResponse = true
            response.opcode = header.opcode
            response.recursionDesired = header.recursionDesired
            response.rcode = DNSMessage.Rcode.formatError
            return [response.encode(limit: 512)]
        }
        guard !request.isResponse else { return [] }
        var response = DNSMessage(id: request.id)
        response.isResponse = true
        response.opcode = request.opcode
        response.recursionDesired = request.recursionDesired
        response.checkingDisabled = request.checkingDisabled
        response.questions = request.questions
        var limit = 512
        if let edns = request.edns {
            response.edns = DNSMessage.EDNS(payloadSize: UInt16(DNSAuthority.udpPayloadSize))
            response.edns!.dnssecOK = edns.dnssecOK
            limit = max(512, min(Int(edns.payloadSize), DNSAuthority.udpPayloadSize))
            // RFC 6891 6.1.3: a version it does not speak gets BADVERS, and no answer.
            if edns.version > 0 {
                response.rcode = DNSMessage.Rcode.badVersion
                return [response.encode(limit: limit)]
            }
        }
        if transport == .tcp { limit = 65_535 }
        guard request.opcode == DNSMessage.Opcode.query else {
            response.rcode = DNSMessage.Rcode.notImplemented
            return [response.encode(limit: limit)]
        }
        guard request.questions.count == 1, let question = request.questions.first else {
            response.rcode = DNSMessage.Rcode.formatError
            return [response.encode(limit: limit)]
        }
        guard question.recordClass == DNSClass.internet || question.recordClass == DNSClass.any,
              let zone = zone(for: question.name) else {
            response.rcode = DNSMessage.Rcode.refused
            return [response.encode(limit: limit)]
        }
        if question.type == DNSType.axfr {
            guard transport == .tcp else {
                response.rcode = DNSMessage.Rcode.formatError
                return [response.encode(limit: limit)]
            }
            guard transferTo.contains(client) else {
                response.rcode = DNSMessage.Rcode.refused
                return [response.encode(limit: limit)]
            }
            guard question.name == zone.origin else {
                response.rcode = DNSMessage.Rcode.notAuth
                return [response.encode(limit: limit)]
            }
            return transfer(zone, response)
        }
        resolve(question, in: zone, into: &response)
        return [response.encode(limit: limit)]
    }

    /// The zone with the longest origin that `name` is in.
    func zone(for name: DNSName) -> DNSZone? {
        zones.filter { name.isSubdomain(of: $0.origin) }.max { $0.origin.labels.count < $1.origin.labels.count }
    }

    /// RFC 1034 4.3.2's step 3, for a name in `zone`.
    func resolve(_ question: DNSQuestion, in zone: DNSZone, into response: inout DNSMessage) {
        response.authoritative = true
        var name = question.name
        var currentZone = zone
        var followed = 0
        while true {
            // A delegation on the way down: a referral, not authoritative.
            if let cut = delegation(above: name, in: currentZone) {
                if response.answers.isEmpty { response.authoritative = false }
                response.authorities += cut
                addGlue(for: cut, in: currentZone, to: &response)
                return
            }
            var records = currentZone.records(of: name)
            if records.isEmpty, !currentZone.exists(name), let wildcard = wildcard(for: name, in: currentZone) {
                // RFC 4592 3.3.1: the wildcard's records, owned by the name asked.
                records = currentZone.records(of: wildcard).map { var copy = $0; copy.name = name; return copy }
            }
            if records.isEmpty {
                // No such name (nor a wildcard for it): NXDOMAIN, also at
                // the end of a CNAME chain (RFC 6604 2). A name with
                // names below it but no records of its own: NODATA.
                if !currentZone.exists(name) { response.rcode = DNSMessage.Rcode.nameError }
                response.authorities.append(negativeSOA(currentZone))
                return
            }
            if question.type != DNSType.cname, let alias = records.first(where: { $0.type == DNSType.cname }),
               let target = alias.data.target {
                response.answers.append(alias)
                followed += 1
                guard followed < DNSAuthority.chainLimit, let next = self.zone(for: target) else { return }
                name = target
                currentZone = next
                continue
            }
            let matching = question.type == DNSType.any ? records : records.filter { $0.type == question.type }
            if matching.isEmpty {
                response.authorities.append(negativeSOA(currentZone))
                return
            }
            response.answers += matching
            addAdditional(for: matching, in: currentZone, to: &response)
            return
        }
    }

    /// The NS records of a zone cut between the apex (not included) and `name` (included), the highest first.
    func delegation(above name: DNSName, in zone: DNSZone) -> [DNSRecord]? {
        let apexDepth = zone.origin.labels.count
        guard name.labels.count > apexDepth else { return nil }
        for depth in (apexDepth + 1)...name.labels.count {
            let cut = zone.records(of: name.suffix(depth), type: DNSType.ns)
            if !cut.isEmpty { return cut }
        }
        return nil
    }

    /// The source of synthesis for `name` (RFC 4592 3.3.1): `*` below the
    /// closest encloser, if the zone has it.
    func wildcard(for name: DNSName, in zone: DNSZone) -> DNSName? {
        var encloser = name.parent
        while encloser.labels.count >= zone.origin.labels.count {
            if zone.exists(encloser) {
                guard let source = encloser.prepending([UInt8(ascii: "*")]), !zone.records(of: source).isEmpty else { return nil }
                return source
            }
            encloser = encloser.parent
        }
        return nil
    }

    /// RFC 2308 3: the SOA in a negative answer lives the lesser of its TTL and its minimum.
    func negativeSOA(_ zone: DNSZone) -> DNSRecord {
        var soa = zone.soa
        if case .soa(_, _, _, _, _, _, let minimum) = soa.data { soa.ttl = min(soa.ttl, minimum) }
        return soa
    }

    /// The addresses of the servers of a delegation, when the zone holds them (glue).
    func addGlue(for cut: [DNSRecord], in zone: DNSZone, to response: inout DNSMessage) {
        for record in cut {
            guard let target = record.data.target, target.isSubdomain(of: zone.origin) else { continue }
            for address in zone.records(of: target) where address.type == DNSType.a || address.type == DNSType.aaaa {
                if !response.additionals.contains(address) { response.additionals.append(address) }
            }
        }
    }

    /// The zone's addresses of the names NS, MX and SRV answers point to (RFC 1034 4.3.2 step 6).
    func addAdditional(for answers: [DNSRecord], in zone: DNSZone, to response: inout DNSMessage) {
        for record in answers where record.type == DNSType.ns || record.type == DNSType.mx || record.type == DNSType.srv {
            guard let target = record.data.target, target.isSubdomain(of: zone.origin) else { continue }
            for address in zone.records(of: target) where address.type == DNSType.a || address.type == DNSType.aaaa {
                if !response.additionals.contains(address) { response.additionals.append(address) }
            }
        }
    }

    /// RFC 5936 2.2: the SOA, every other record, the SOA again, in
    /// messages of up to 16 KiB each (one TCP message may hold 64), each
    /// filled until the next record would not fit. A message is encoded again
    /// only when a bound of its size passes the limit: its size when last
    /// encoded plus, for each record since, that record's size in a message
    /// of its own (in a fuller one compression has only more names to point
    /// to), so a transfer costs a few encodings a message, not one a record.
    func transfer(_ zone: DNSZone, _ template: DNSMessage) -> [[UInt8]] {
        let limit = 16_384
        var header = template
        header.authoritative = true
        // RFC 5936 2.2.1: the question only in the first message.
        var later = header
        later.questions = []
        let laterSize = later.encode(sections: true).count
        var messages: [[UInt8]] = []
        var current = header
        var bound = current.encode(sections: true).count
        let records = [zone.soa] + zone.records.filter { $0.type != DNSType.soa } + [zone.soa]
        for record in records {
            var alone = later
            alone.answers = [record]
            let most = alone.encode(sections: true).count - laterSize
            current.answers.append(record)
            bound += most
            guard bound > limit, current.answers.count > 1 else { continue }
            bound = current.encode(sections: true).count
            if bound > limit {
                current.answers.removeLast()
                messages.append(current.encode(sections: true))
                current = later
                current.answers = [record]
                bound = laterSize + most
            }
        }
        messages.append(current.encode(sections: true))
        return messages
    }
}

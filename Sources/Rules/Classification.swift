import Platform

/// The classtypes a ruleset may name, read from Suricata's `classification.config`.
public struct Classification: Sendable, Hashable {
    public struct Classtype: Sendable, Hashable {
        public var name: String
        public var description: String
        public var priority: Int

        public init(name: String, description: String, priority: Int) {
            self.name = name
            self.description = description
            self.priority = priority
        }
    }

    /// Keyed by lowercased name: Suricata compares classtypes case-insensitively.
    public private(set) var classtypes: [String: Classtype]

    public init(_ classtypes: [Classtype] = []) {
        self.classtypes = [:]
        for classtype in classtypes { self.classtypes[classtype.name.lowercased()] = classtype }
    }

    public subscript(name: String) -> Classtype? { classtypes[name.lowercased()] }

    /// Reads `config classification: name,description,priority` lines; others must be comments.
    public static func parse(_ text: String, file: String) -> (Classification, [RuleError]) {
        var classification = Classification()
        var errors: [RuleError] = []
        let prefix = Array("config classification:".utf8)
        for (index, line) in Array(text.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let content = line.trimmingSpaces()
            if content.isEmpty || content.first == UInt8(ascii: "#") { continue }
            let lineNumber = index + 1
            let column = content.startIndex - line.startIndex + 1
            guard content.starts(with: prefix) else {
                // Suricata's file may hold other `config` lines; only classifications matter here.
                if content.starts(with: "config ".utf8) { continue }
                errors.append(RuleError(file: file, line: lineNumber, column: column,
                                        reason: "expected 'config classification: name,description,priority'"))
                continue
            }
            let body = content[(content.startIndex + prefix.count)...]
            guard let firstComma = body.firstIndex(of: UInt8(ascii: ",")),
                  let lastComma = body.lastIndex(of: UInt8(ascii: ",")), firstComma < lastComma else {
                errors.append(RuleError(file: file, line: lineNumber, column: column,
                                        reason: "expected 'config classification: name,description,priority'"))
                continue
            }
            let name = body[body.startIndex..<firstComma].trimmingSpaces()
            let description = body[(firstComma + 1)..<lastComma].trimmingSpaces()
            let priorityText = body[(lastComma + 1)...].trimmingSpaces()
            guard !name.isEmpty, name.allSatisfy(isClasstypeByte) else {
                errors.append(RuleError(file: file, line: lineNumber, column: name.startIndex - line.startIndex + 1,
                                        reason: "invalid classtype name '\(name.text)'"))
                continue
            }
            guard let priority = priorityText.decimalUInt32, priority <= 255 else {
                errors.append(RuleError(file: file, line: lineNumber, column: priorityText.startIndex - line.startIndex + 1,
                                        reason: "invalid priority '\(priorityText.text)'"))
                continue
            }
            let classtype = Classtype(name: name.text, description: description.text, priority: Int(priority))
            classification.classtypes[classtype.name.lowercased()] = classtype
        }
        return (classification, errors)
    }

    /// Reads a classification file from disk.
    public static func load(path: String) -> (Classification, [RuleError]) {
        switch FileSystem.contents(of: path) {
        case .success(let bytes): return parse(String(decoding: bytes, as: UTF8.self), file: path)
        case .failure(let error): return (Classification(), [RuleError(error)])
        }
    }

    /// Suricata's standard classtypes, used when no classification.config is found.
    public static let suricataDefault: Classification = parse(suricataDefaultText, file: "<built-in>").0

    static let suricataDefaultText = """
        config classification: not-suspicious,Not Suspicious Traffic,3
        config classification: unknown,Unknown Traffic,3
        config classification: bad-unknown,Potentially Bad Traffic,2
        config classification: attempted-recon,Attempted Information Leak,2
        config classification: successful-recon-limited,Information Leak,2
        config classification: successful-recon-largescale,Large Scale Information Leak,2
        config classification: attempted-dos,Attempted Denial of Service,2
        config classification: successful-dos,Denial of Service,2
        config classification: attempted-user,Attempted User Privilege Gain,1
        config classification: unsuccessful-user,Unsuccessful User Privilege Gain,1
        config classification: successful-user,Successful User Privilege Gain,1
        config classification: attempted-admin,Attempted Administrator Privilege Gain,1
        config classification: successful-admin,Successful Administrator Privilege Gain,1
        config classification: rpc-portmap-decode,Decode of an RPC Query,2
        config classification: shellcode-detect,Executable code was detected,1
        config classification: string-detect,A suspicious string was detected,3
        config classification: suspicious-filename-detect,A suspicious filename was detected,2
        config classification: suspicious-login,An attempted login using a suspicious username was detected,2
        config classification: system-call-detect,A system call was detected,2
        config classification: tcp-connection,A TCP connection was detected,4
        config classification: trojan-activity,A Network Trojan was detected,1
        config classification: unusual-client-port-connection,A client was using an unusual port,2
        config classification: network-scan,Detection of a Network Scan,3
        config classification: denial-of-service,Detection of a Denial of Service Attack,2
        config classification: non-standard-protocol,Detection of a non-standard protocol or event,2
        config classification: protocol-command-decode,Generic Protocol Command Decode,3
        config classification: web-application-activity,access to a potentially vulnerable web application,2
        config classification: web-application-attack,Web Application Attack,1
        config classification: misc-activity,Misc activity,3
        config classification: misc-attack,Misc Attack,2
        config classification: icmp-event,Generic ICMP event,3
        config classification: inappropriate-content,Inappropriate Content was Detected,1
        config classification: policy-violation,Potential Corporate Privacy Violation,1
        config classification: default-login-attempt,Attempt to login by a default username and password,2
        config classification: targeted-activity,Targeted Malicious Activity was Detected,1
        config classification: exploit-kit,Exploit Kit Activity Detected,1
        config classification: external-ip-check,Device Retrieving External IP Address Detected,2
        config classification: domain-c2,Domain Observed Used for C2 Detected,1
        config classification: pup-activity,Possibly Unwanted Program Detected,2
        config classification: credential-theft,Successful Credential Theft Detected,1
        config classification: social-engineering,Possible Social Engineering Attempted,2
        config classification: coin-mining,Crypto Currency Mining Activity Detected,2
        config classification: command-and-control,Malware Command and Control Activity Detected,1
        """
}

private func isClasstypeByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
         UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
        true
    default:
        false
    }
}

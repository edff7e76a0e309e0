import Foundation
@_exported import TrafficGen

/// Compares a sensor's EVE records with a scenario's truth, by reading the JSON lines only: no
/// code of the sensor's decides what counts as right.
public enum TruthCheck {
    /// The differences between `truth` and the EVE `lines` (empty when they agree): every watched
    /// flow of the truth has exactly one `flow` record with its tuple and verdict, no flow record
    /// has a verdict the truth lacks, the per-port counts agree, and the scan alerts name exactly
    /// the truth's scanners (no near miss). Flows whose client is in `ignoring` are left out (a
    /// test's own marker traffic).
    public static func differences(_ truth: Scenario.Truth, eve lines: [String], ignoring: Set<String> = []) -> [String] {
        var problems: [String] = []
        var seen: [FlowKey: [String]] = [:]
        var counts: [String: Scenario.PortCounts] = [:]
        var scanners: Set<String> = []
        for line in lines where !line.isEmpty {
            guard let record = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                problems.append("not a JSON object: \(line.prefix(120))")
                continue
            }
            let own = record["ghostport"] as? [String: Any] ?? [:]
            if record["event_type"] as? String == "alert", own["kind"] as? String == "scan",
               let source = (own["scan"] as? [String: Any])?["source"] as? String {
                scanners.insert(source)
            }
            guard record["event_type"] as? String == "flow", let verdict = own["verdict"] as? String else { continue }
            let client = record["src_ip"] as? String ?? "?"
            if ignoring.contains(client) { continue }
            let proto = (record["proto"] as? String ?? "?").lowercased()
            let key = FlowKey(client: client, clientPort: record["src_port"] as? Int ?? -1, server: record["dest_ip"] as? String ?? "?",
                              serverPort: record["dest_port"] as? Int ?? -1, proto: proto,
                              vlan: (record["vlan"] as? [Int])?.first)
            seen[key, default: []].append(verdict)
            var portCounts = counts["\(key.serverPort)/\(proto)", default: Scenario.PortCounts()]
            portCounts.flows += 1
            switch verdict {
            case "unanswered": portCounts.unanswered += 1
            case "rejected": portCounts.rejected += 1
            case "answered": portCounts.answered += 1
            default: problems.append("a flow record with verdict \(verdict): \(key)")
            }
            counts["\(key.serverPort)/\(proto)"] = portCounts
        }
        var expected: Set<FlowKey> = []
        for flow in truth.watchedFlows {
            let key = FlowKey(client: flow.client, clientPort: Int(flow.clientPort), server: flow.server,
                              serverPort: Int(flow.serverPort), proto: flow.proto.rawValue, vlan: flow.vlan.map(Int.init))
            expected.insert(key)
            let verdicts = seen[key] ?? []
            if verdicts != [flow.verdict.rawValue] {
                problems.append("\(key): truth \(flow.verdict.rawValue), records \(verdicts.isEmpty ? "none" : verdicts.joined(separator: ", "))")
            }
        }
        for (key, verdicts) in seen where !expected.contains(key) {
            problems.append("\(key): records \(verdicts.joined(separator: ", ")), not in the truth")
        }
        for (port, want) in truth.watched.sorted(by: { $0.key < $1.key }) {
            var got = counts[port, default: Scenario.PortCounts()]
            got.synPackets = want.synPackets
            if got != want {
                problems.append("\(port): truth \(want.flows) flows \(want.unanswered)/\(want.rejected)/\(want.answered), "
                                + "records \(got.flows) flows \(got.unanswered)/\(got.rejected)/\(got.answered) (unanswered/rejected/answered)")
            }
        }
        if scanners != Set(truth.scanners) {
            problems.append("scanners: truth \(truth.scanners.sorted()), scan alerts \(scanners.sorted())")
        }
        for miss in truth.nearMisses where scanners.contains(miss) {
            problems.append("\(miss) touched four ports on four hosts, yet was called a scanner")
        }
        return problems
    }

    struct FlowKey: Hashable, CustomStringConvertible {
        var client: String
        var clientPort: Int
        var server: String
        var serverPort: Int
        var proto: String
        var vlan: Int?

        var description: String {
            "\(client):\(clientPort) -> \(server):\(serverPort)/\(proto)" + (vlan.map { " vlan \($0)" } ?? "")
        }
    }
}

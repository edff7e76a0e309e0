import CPcap
import CSensor

/// What `ghostport --version` prints: the release, the commit it was built from (when the
/// build said: `make` does), the libpcap it runs with and the Swift compiler it was built by.
/// The Makefile reads `version` for the package's.
enum Version {
    static let version = "0.2.0"

    static var description: String {
        let commit = gp_build_commit().map { "commit \(String(cString: $0)); " } ?? ""
        return "ghostport \(version) (\(commit)\(String(cString: pcap_lib_version())); built by Swift \(compiler))"
    }

    static var compiler: String {
        #if compiler(>=6.4)
        "6.4 or later"
        #elseif compiler(>=6.3)
        "6.3"
        #elseif compiler(>=6.2)
        "6.2"
        #elseif compiler(>=6.1)
        "6.1"
        #else
        "6.0"
        #endif
    }
}

@testable import Capture
import Testing

/// The stdio buffer a capture file is read through: large for large files (few read calls),
/// no larger than the file for small ones.
@Suite struct StreamBufferTests {
    @Test("1 MiB for large files and unknown sizes, the file's size for small ones, 4 KiB at least")
    func sizes() {
        #expect(OfflineCapture.streamBufferSize(forFileSize: nil) == 1 << 20)
        #expect(OfflineCapture.streamBufferSize(forFileSize: 545_322_902) == 1 << 20)
        #expect(OfflineCapture.streamBufferSize(forFileSize: 200_000) == 200_000)
        #expect(OfflineCapture.streamBufferSize(forFileSize: 24) == 4096)
        #expect(OfflineCapture.streamBufferSize(forFileSize: 0) == 4096)
    }
}

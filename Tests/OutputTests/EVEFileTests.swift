import Detect
import Foundation
@testable import Output
import Synchronization
import Testing
import TestSupport

private func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "ghostport-eve-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

private func lines(_ path: String) -> [String] {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n", omittingEmptySubsequences: false)
        .dropLast().map(String.init)
}

/// One numbered record, padded so lines are not all tiny.
private func writeRecord(_ n: Int, to eve: EVEOutput) {
    eve.record { out in
        out.append("{\"event_type\":\"alert\",\"n\":")
        out.append(decimal: n)
        out.append(",\"pad\":\"")
        out.append(string: String(repeating: "x", count: 100 + n % 50))
        out.append("\"}\n")
    }
}

private func recordNumber(_ line: String) -> Int? {
    guard line.hasPrefix("{\"event_type\":\"alert\",\"n\":"), line.hasSuffix("\"}"),
          let comma = line.dropFirst(26).firstIndex(of: ",") else { return nil }
    return Int(line[line.index(line.startIndex, offsetBy: 26)..<comma])
}

private final class Flag: Sendable {
    let value = Atomic<Bool>(false)
}

@Suite struct EVEFileTests {
    @Test func opensForAppendWithMode0640() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/eve.json"
        try "earlier\n".write(toFile: path, atomically: false, encoding: .utf8)
        let file = try EVEFile(path: path)
        let eve = EVEOutput(fd: file.fd, flushEveryRecord: true)
        writeRecord(1, to: eve)
        #expect(lines(path).count == 2 && lines(path)[0] == "earlier")
        #expect(fcntl(file.fd, F_GETFD) & FD_CLOEXEC != 0)
        #expect(fcntl(file.fd, F_GETFL) & O_APPEND != 0)

        let fresh = directory + "/new.json"
        _ = try EVEFile(path: fresh)
        let mode = try FileManager.default.attributesOfItem(atPath: fresh)[.posixPermissions] as? Int
        #expect(mode.map { $0 & ~0o640 == 0 } == true, "never more than 0640")

        #expect(throws: EVEFileError(path: directory + "/missing/eve.json", errno: ENOENT)) {
            try EVEFile(path: directory + "/missing/eve.json")
        }
    }

    @Test func reopenAfterRenameKeepsEveryLine() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/eve.json"
        let file = try EVEFile(path: path)
        let fd = file.fd
        let eve = EVEOutput(fd: file.fd)  // buffered: the caller flushes before reopening
        for n in 0..<100 { writeRecord(n, to: eve) }
        #expect(rename(path, path + ".1") == 0)  // logrotate
        for n in 100..<150 { writeRecord(n, to: eve) }  // still to the rotated file
        eve.flush()
        try file.reopen()
        #expect(file.fd == fd)  // same number: the writer needs no telling
        for n in 150..<250 { writeRecord(n, to: eve) }
        eve.flush()
        #expect(lines(path + ".1").map(recordNumber) == (0..<150).map { $0 })
        #expect(lines(path).map(recordNumber) == (150..<250).map { $0 })
        #expect(eve.lost == 0)
    }

    @Test func reopenRacingAWriterSplitsNoLine() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/eve.json"
        let file = try EVEFile(path: path)
        let fd = file.fd
        let total = 20_000
        let done = Flag()
        let finished = DispatchSemaphore(value: 0)
        // The writer owns its EVEOutput; only the descriptor number is shared.
        let writer = Thread {
            let eve = EVEOutput(fd: fd, flushEveryRecord: true)
            for n in 0..<total { writeRecord(n, to: eve) }
            done.value.store(true, ordering: .releasing)
            finished.signal()
        }
        writer.start()
        var rotations = 0
        while !done.value.load(ordering: .acquiring) && rotations < 20 {
            usleep(2_000)
            rotations += 1
            #expect(rename(path, "\(path).\(rotations)") == 0)
            try file.reopen()
        }
        finished.wait()

        var seen: [Int] = []
        for name in (1...rotations).map({ "\(path).\($0)" }) + [path] {
            for line in lines(name) {
                guard let n = recordNumber(line) else {
                    Issue.record("a broken line in \(name): \(line.prefix(80))")
                    continue
                }
                seen.append(n)
            }
        }
        #expect(seen == Array(0..<total), "every record once, in order, across \(rotations) rotations")
    }

    @Test func oneMessagePerErrorEpisode() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = try EVEFile(path: directory + "/eve.json")
        let path = file.path
        #expect(file.check(records: 5, lost: 0, lastError: nil) == nil)
        #expect(file.check(records: 6, lost: 1, lastError: WriteError(errno: ENOSPC)) == .failing(path: path, errno: ENOSPC))
        #expect(file.isFailing)
        #expect(file.check(records: 7, lost: 2, lastError: WriteError(errno: ENOSPC)) == nil)
        #expect(file.check(records: 9, lost: 4, lastError: WriteError(errno: ENOSPC)) == nil)
        #expect(file.check(records: 9, lost: 4, lastError: WriteError(errno: ENOSPC)) == nil)
        #expect(file.check(records: 10, lost: 4, lastError: WriteError(errno: ENOSPC)) == .recovered(path: path, lost: 4))
        #expect(!file.isFailing)
        #expect(file.check(records: 11, lost: 4, lastError: WriteError(errno: ENOSPC)) == nil)
        #expect(file.check(records: 12, lost: 5, lastError: WriteError(errno: EIO)) == .failing(path: path, errno: EIO))
        #expect(file.check(records: 13, lost: 5, lastError: WriteError(errno: EIO)) == .recovered(path: path, lost: 1))

        #expect(EVEFile.Transition.failing(path: "/x/eve.json", errno: ENOSPC).description
            == "/x/eve.json: write failed: No space left on device; EVE records are being lost until it recovers")
        #expect(EVEFile.Transition.recovered(path: "/x/eve.json", lost: 1).description
            == "/x/eve.json: writing again; 1 EVE record was lost")
        #expect(EVEFile.Transition.recovered(path: "/x/eve.json", lost: 3).description
            == "/x/eve.json: writing again; 3 EVE records were lost")
    }

    @Test func aBadDescriptorIsReopened() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/eve.json"
        let file = try EVEFile(path: path)
        let eve = EVEOutput(fd: file.fd, flushEveryRecord: true)
        writeRecord(0, to: eve)
        close(file.fd)  // something closed it behind the sensor's back
        writeRecord(1, to: eve)
        #expect(eve.lost == 1 && eve.lastError?.errno == EBADF)
        #expect(file.check(records: eve.records, lost: eve.lost, lastError: eve.lastError) == .failing(path: path, errno: EBADF))
        #expect(file.reopenedAfterError == 1)
        writeRecord(2, to: eve)  // the retry goes to the reopened file
        #expect(file.check(records: eve.records, lost: eve.lost, lastError: eve.lastError) == .recovered(path: path, lost: 1))
        #expect(lines(path).map(recordNumber) == [0, 2])
    }

    /// A real full filesystem: a 1 MiB tmpfs filled to the last page. Needs root to mount.
    @Test(Prerequisite.trait(Prerequisite.tmpfs))
    func aFullFilesystemLosesRecordsOnceAndResumes() throws {
        try Prerequisite.require(Prerequisite.tmpfs)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try #require(run("/bin/mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", directory), "mount failed")
        defer { _ = run("/bin/umount", directory) }

        let path = directory + "/eve.json"
        let file = try EVEFile(path: path)
        let eve = EVEOutput(fd: file.fd, flushEveryRecord: true)
        // Fill every page while eve.json is still empty, so its next write needs a new one.
        let filler = open(directory + "/filler", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(filler >= 0)
        let block = [UInt8](repeating: 0x41, count: 4096)
        var fillError: Int32 = 0
        while fillError == 0 {
            if block.withUnsafeBytes({ write(filler, $0.baseAddress, $0.count) }) < 0 { fillError = errno }
        }
        close(filler)
        #expect(fillError == ENOSPC)

        var messages: [EVEFile.Transition] = []
        for n in 0..<10 {
            writeRecord(n, to: eve)
            if let transition = file.check(records: eve.records, lost: eve.lost, lastError: eve.lastError) {
                messages.append(transition)
            }
        }
        #expect(eve.lost == 10)
        #expect(messages == [.failing(path: path, errno: ENOSPC)])

        unlink(directory + "/filler")  // space again
        for n in 10..<15 {
            writeRecord(n, to: eve)
            if let transition = file.check(records: eve.records, lost: eve.lost, lastError: eve.lastError) {
                messages.append(transition)
            }
        }
        #expect(messages == [.failing(path: path, errno: ENOSPC), .recovered(path: path, lost: 10)])
        #expect(eve.lost == 10)
        #expect(lines(path).map(recordNumber) == [10, 11, 12, 13, 14])
        file.close()
    }

    private func run(_ arguments: String...) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

/// The size bound: the file rotates as logrotate rotates it, older files move up, the ones past
/// the bound go, and no record is split or lost on the way.
@Suite struct EVEFileSizeBoundTests {
    @Test func rotatesAtTheBoundKeepingNFiles() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/eve.json"
        // What logrotate left: yesterday's file and an older compressed one.
        try "old-1\n".write(toFile: path + ".1", atomically: false, encoding: .utf8)
        try "old-2\n".write(toFile: path + ".2.gz", atomically: false, encoding: .utf8)
        let file = try EVEFile(path: path)
        file.sizeLimit = (maxBytes: 4_096, keep: 2)
        let eve = EVEOutput(fd: file.fd)
        var written = 0
        var rotations: [String] = []
        while rotations.count < 3 {
            writeRecord(written, to: eve)
            written += 1
            eve.flush()
            if let message = file.rotateIfFull() { rotations.append(message) }
        }
        #expect(rotations.allSatisfy { $0.contains("rotated at") }, "\(rotations)")
        #expect(file.rotations == 3)
        // Kept: eve.json, .1 and .2; logrotate's two files were moved up and then removed.
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names == ["eve.json", "eve.json.1", "eve.json.2"])
        #expect(file.removedFiles == 3 && file.removedBytes > 4_096)
        // The records of the last two rotations and the current file, in order, none split.
        let kept = lines(path + ".2") + lines(path + ".1") + lines(path)
        let numbers = kept.compactMap(recordNumber)
        #expect(numbers.count == kept.count, "a line that is not a whole record")
        #expect(numbers == Array(numbers.first!..<written))
        #expect(try FileManager.default.attributesOfItem(atPath: path + ".1")[.size] as? Int ?? 0 >= 4_096)
    }

    @Test func noBoundNoRotation() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = try EVEFile(path: dir + "/eve.json")
        let eve = EVEOutput(fd: file.fd)
        for n in 0..<100 { writeRecord(n, to: eve) }
        eve.flush()
        #expect(file.rotateIfFull() == nil && file.rotations == 0)
    }
}

import Foundation
import Platform
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `FileTrust`: what the live sensor refuses to load because someone other than root or its own
/// account could change it (the file, a rules directory, or a directory above them).
@Suite struct FileTrustTests {
    /// A fresh 0755 directory under the temporary directory (itself sticky, like /tmp).
    final class Scratch {
        let path: String
        init() throws {
            path = NSTemporaryDirectory() + "ghostport-trust-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            chmod(path, 0o755)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }

        func file(_ name: String, mode: mode_t = 0o644) throws -> String {
            let file = path + "/" + name
            try "alert tcp any any -> any 571 (sid:1;)\n".write(toFile: file, atomically: false, encoding: .utf8)
            chmod(file, mode)
            return file
        }
    }

    let trust = FileTrust.sensor(user: nil)

    @Test func aFileOnlyItsOwnerWritesLoads() throws {
        let scratch = try Scratch()
        #expect(trust.problem(try scratch.file("a.rules")) == nil)
        #expect(trust.problem(scratch.path) == nil)
        #expect(trust.problem(scratch.path + "/missing.rules") == nil, "a missing path is for the loader to report")
    }

    @Test func writableByOthersIsRefused() throws {
        let scratch = try Scratch()
        let file = try scratch.file("a.rules", mode: 0o666)
        #expect(trust.problem(file)?.description == "\(file): writable by others (mode 0666); refusing to load")
        #expect(FileTrust.writableByOthers(file)?.reason == "writable by others (mode 0666)")
        #expect(FileTrust.writableByOthers(try scratch.file("b.rules")) == nil)
    }

    /// Anyone could add a .rules file to it, sticky bit or not.
    @Test func aRulesDirectoryWritableByOthersIsRefused() throws {
        let scratch = try Scratch()
        chmod(scratch.path, 0o1777)
        #expect(trust.problem(scratch.path)?.reason == "writable by others (mode 1777)")
    }

    /// Above the loaded path, a directory others can write lets them replace it, unless it is
    /// sticky (/tmp), where they cannot touch what is not theirs.
    @Test func aDirectoryAboveWritableByOthers() throws {
        let scratch = try Scratch()
        let file = try scratch.file("a.rules")
        chmod(scratch.path, 0o777)
        #expect(trust.problem(file)?.description
                == "\(file): directory \(scratch.path) is writable by others (mode 0777); refusing to load")
        chmod(scratch.path, 0o1777)
        #expect(trust.problem(file) == nil)
    }

    /// A link is judged by what it points to.
    @Test func symbolicLinksAreResolved() throws {
        let scratch = try Scratch()
        let target = try scratch.file("target.rules", mode: 0o666)
        let link = scratch.path + "/link.rules"
        #expect(symlink(target, link) == 0)
        #expect(trust.problem(link)?.description == "\(link): writable by others (mode 0666); refusing to load")
    }

    @Test(Prerequisite.trait(Prerequisite.root.map { "\($0) to give files away" }),
          .enabled(if: getpwnam("nobody") != nil, "no account 'nobody' here"))
    func ownedByAnotherUser() throws {
        try Prerequisite.require(Prerequisite.root)
        let scratch = try Scratch()
        let file = try scratch.file("a.rules")
        let nobody = getpwnam("nobody")!.pointee
        #expect(chown(file, nobody.pw_uid, 0) == 0)
        #expect(trust.problem(file)?.reason == "owned by nobody (uid \(nobody.pw_uid)), not root or the sensor's user")
        #expect(FileTrust.sensor(user: "nobody").problem(file) == nil, "the sensor's own account may own it")
    }

    @Test(Prerequisite.trait(Prerequisite.root.map { "\($0) to give files away" }),
          .enabled(if: getgrnam("nogroup") != nil, "no group 'nogroup' here"))
    func writableByAnotherGroup() throws {
        try Prerequisite.require(Prerequisite.root)
        let scratch = try Scratch()
        let file = try scratch.file("a.rules", mode: 0o664)
        let nogroup = getgrnam("nogroup")!.pointee.gr_gid
        #expect(chown(file, 0, nogroup) == 0)
        #expect(trust.problem(file)?.reason == "writable by group nogroup (gid \(nogroup)) (mode 0664)")
        #expect(FileTrust(users: [], groups: [UInt32(nogroup)]).problem(file) == nil)
        chmod(file, 0o644)
        #expect(trust.problem(file) == nil, "a group that can only read is fine")
        #expect(chown(file, 0, 0) == 0)
        chmod(file, 0o664)
        #expect(trust.problem(file) == nil, "root's group may write")
    }
}

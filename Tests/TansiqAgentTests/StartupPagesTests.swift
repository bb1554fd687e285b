import Foundation
import TansiqTestSupport
import Testing

@testable import TansiqAgent

@Suite("Startup pages: the file pages of a process, handed back once it runs")
struct StartupPagesTests {
    @Test("the binary's own file mappings and every library's code are advised: not anonymous memory, not the vdso")
    func mappings() {
        let maps = """
            55d0c0000000-55d0c2e24000 r-xp 00000000 fe:00 1311 /usr/local/bin/tansiq-agent
            55d0c2e25000-55d0c2f63000 r--p 02e24000 fe:00 1311 /usr/local/bin/tansiq-agent
            55d0c2f63000-55d0c566b000 rw-p 02f62000 fe:00 1311 /usr/local/bin/tansiq-agent
            55d0c566b000-55d0c5700000 rw-p 00000000 00:00 0
            7f1c2a000000-7f1c2a021000 rw-p 00000000 00:00 0 [heap]
            7f1c2b200000-7f1c2b3a0000 r-xp 00028000 fe:00 2207 /usr/lib/x86_64-linux-gnu/libc.so.6
            7f1c2b3a0000-7f1c2b3f8000 r--p 001c8000 fe:00 2207 /usr/lib/x86_64-linux-gnu/libc.so.6
            7f1c2b400000-7f1c2b401000 r-xp 00000000 fe:00 2301 /tmp/old build (deleted)
            7ffd5a9f7000-7ffd5a9f9000 r-xp 00000000 00:00 0 [vdso]
            garbage line
            """
        let agent = "/usr/local/bin/tansiq-agent"
        let found = StartupPages.releasable(in: maps, binary: agent)
        #expect(
            found == [
                .init(start: 0x55d0_c000_0000, end: 0x55d0_c2e2_4000, permissions: "r-xp", path: agent),
                .init(start: 0x55d0_c2e2_5000, end: 0x55d0_c2f6_3000, permissions: "r--p", path: agent),
                .init(start: 0x55d0_c2f6_3000, end: 0x55d0_c566_b000, permissions: "rw-p", path: agent),
                .init(
                    start: 0x7f1c_2b20_0000, end: 0x7f1c_2b3a_0000, permissions: "r-xp",
                    path: "/usr/lib/x86_64-linux-gnu/libc.so.6"),
            ])
        #expect(found.map(\.isExecutable) == [true, false, false, true])
        #expect(StartupPages.releasable(in: "", binary: agent).isEmpty)
    }

    @Test("a release is due at the first status, then only once the instances have been quiet after a change")
    func due() {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(StartupPages.isDue(releasedAt: nil, changedAt: nil, now: t0))
        #expect(StartupPages.isDue(releasedAt: nil, changedAt: t0, now: t0), "the first release waits for nothing")
        // Released at t0; nothing changed since (or only before it): not again.
        #expect(!StartupPages.isDue(releasedAt: t0, changedAt: nil, now: t0 + 3600))
        #expect(!StartupPages.isDue(releasedAt: t0, changedAt: t0 - 5, now: t0 + 3600))
        // Changed at t0 + 10: due once quiet for 30 s, not before.
        #expect(!StartupPages.isDue(releasedAt: t0, changedAt: t0 + 10, now: t0 + 39.9, quiet: 30))
        #expect(StartupPages.isDue(releasedAt: t0, changedAt: t0 + 10, now: t0 + 40, quiet: 30))
        #expect(StartupPages.quiet == 30)
    }

    @Test("released in a running process, its code is still there: it runs on, and reads back in")
    func releaseKeepsRunning() {
        let before = Self.residentExecutable()
        #expect(StartupPages.release() > 0, "this test's own mappings are advised")
        // Code released runs again (its pages fault back in from the file): the parser reads
        // this process's maps and still finds this test's own code among them...
        let maps = procText("/proc/self/maps")
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        #expect(StartupPages.releasable(in: maps, binary: binary).contains { $0.path == binary && $0.isExecutable })
        // ...and fewer of the mappings' pages are resident than before.
        #expect(Self.residentExecutable() < before)
    }

    /// The resident bytes of this process's executable file mappings (from smaps).
    static func residentExecutable() -> Int {
        residentMappings("self").filter(\.isFileCode).reduce(0) { $0 + $1.residentBytes }
    }
}

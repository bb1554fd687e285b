import Foundation
import TansiqTestSupport
import Testing

@testable import TansiqAgent

@Suite("Startup pages: the executable mappings of a process, handed back once it runs")
struct StartupPagesTests {
    @Test("only executable, file-backed mappings are advised: not data, not anonymous, not the vdso")
    func mappings() {
        let maps = """
            55d0c0000000-55d0c2e24000 r-xp 00000000 fe:00 1311 /usr/local/bin/tansiq-agent
            55d0c2e25000-55d0c2f63000 r--p 02e24000 fe:00 1311 /usr/local/bin/tansiq-agent
            55d0c2f63000-55d0c566b000 rw-p 02f62000 fe:00 1311 /usr/local/bin/tansiq-agent
            55d0c566b000-55d0c5700000 rw-p 00000000 00:00 0
            7f1c2a000000-7f1c2a021000 rw-p 00000000 00:00 0 [heap]
            7f1c2b200000-7f1c2b3a0000 r-xp 00028000 fe:00 2207 /usr/lib/x86_64-linux-gnu/libc.so.6
            7f1c2b400000-7f1c2b401000 r-xp 00000000 fe:00 2301 /tmp/old build (deleted)
            7ffd5a9f7000-7ffd5a9f9000 r-xp 00000000 00:00 0 [vdso]
            garbage line
            """
        let found = StartupPages.executableMappings(in: maps)
        #expect(
            found == [
                .init(
                    start: 0x55d0_c000_0000, end: 0x55d0_c2e2_4000, permissions: "r-xp",
                    path: "/usr/local/bin/tansiq-agent"),
                .init(
                    start: 0x7f1c_2b20_0000, end: 0x7f1c_2b3a_0000, permissions: "r-xp",
                    path: "/usr/lib/x86_64-linux-gnu/libc.so.6"),
            ])
        #expect(StartupPages.executableMappings(in: "").isEmpty)
    }

    @Test("released in a running process, its code is still there: it runs on, and reads back in")
    func releaseKeepsRunning() {
        let before = Self.residentExecutable()
        #expect(StartupPages.release() > 0, "this test's own executable mappings are advised")
        // Code released runs again (its pages fault back in from the file): the parser reads
        // this process's maps and still finds this test's own code among them...
        let maps = procText("/proc/self/maps")
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        #expect(StartupPages.executableMappings(in: maps).contains { $0.path == binary })
        // ...and fewer of the mappings' pages are resident than before.
        #expect(Self.residentExecutable() < before)
    }

    /// The resident bytes of this process's executable file mappings (from smaps).
    static func residentExecutable() -> Int {
        residentMappings("self").filter(\.isFileCode).reduce(0) { $0 + $1.residentBytes }
    }
}

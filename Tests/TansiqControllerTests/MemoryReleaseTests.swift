import Foundation
import TansiqTestSupport
import Testing

@testable import TansiqController

#if canImport(Glibc)
    import Glibc

    @Suite("Memory release: the allocator's free pages go back to the kernel")
    struct MemoryReleaseTests {
        @Test("64 MiB freed in the middle of the heap stay resident until the trim, and leave with it")
        func freedPagesLeave() throws {
            // The process's RSS is shared with the tests that run beside this one: a measure they
            // disturbed between two reads is taken again, up to three times.
            var measured = (kept: 0, released: 0)
            for _ in 0..<3 {
                measured = Self.freeThenTrim()
                if measured.kept < 16 << 20, measured.released >= 48 << 20 { break }
            }
            #expect(measured.kept < 16 << 20, "free alone keeps the pages: \(measured.kept) bytes left")
            #expect(measured.released >= 48 << 20, "the trim gave back \(measured.released) bytes of 64 MiB")
        }

        /// Writes 64 MiB, frees it and trims: how much of it free alone left resident (bytes that
        /// did not leave), and how much the trim released.
        static func freeThenTrim() -> (kept: Int, released: Int) {
            // 2,048 blocks of 32 KiB (under malloc's mmap threshold: they come from an arena),
            // written so that their pages are resident, then one more block that stays, so that the
            // freed ones coalesce in the middle of the arena rather than at its top (which free
            // gives back by itself).
            let blocks = (0..<2048).map { _ in malloc(32 << 10)! }
            for block in blocks { memset(block, 1, 32 << 10) }
            let keeper = malloc(32 << 10)!
            memset(keeper, 1, 32 << 10)
            defer { free(keeper) }
            let written = resident()
            for block in blocks { free(block) }
            let freed = resident()
            let trimmed = MemoryRelease.trim()
            let after = resident()
            return (written - freed, trimmed ? freed - after : 0)
        }

        /// This process's resident bytes (VmRSS).
        static func resident() -> Int {
            let line = procText("/proc/self/status").split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
            return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) << 10
        }
    }
#endif

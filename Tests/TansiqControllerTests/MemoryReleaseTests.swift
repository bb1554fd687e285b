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
            let keptAtMost = 16 << 20
            let releasedAtLeast = 48 << 20
            var measured = Self.freeThenTrim()
            var attempts = 1
            while attempts < 3, measured.kept >= keptAtMost || measured.released < releasedAtLeast {
                measured = Self.freeThenTrim()
                attempts += 1
            }
            #expect(measured.kept < keptAtMost, "free alone keeps the pages: \(measured.kept) bytes left")
            #expect(measured.trimmed, "malloc_trim reported that it released nothing")
            #expect(
                measured.released >= releasedAtLeast, "the trim gave back \(measured.released) bytes of 64 MiB")
        }

        /// Writes 64 MiB, frees it and trims: how much of it free alone left resident, whether the
        /// trim said it released any, and how much the process's RSS fell with it.
        static func freeThenTrim() -> (kept: Int, trimmed: Bool, released: Int) {
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
            return (written - freed, trimmed, freed - resident())
        }

        /// This process's resident bytes (VmRSS).
        static func resident() -> Int { processMemory("self")["VmRSS"] ?? 0 }
    }
#endif

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
            // 2,048 blocks of 32 KiB (under malloc's mmap threshold: they come from an arena),
            // written so that their pages are resident, then one more block that stays, so that the
            // freed ones coalesce in the middle of the arena rather than at its top (which free
            // gives back by itself).
            let blocks = (0..<2048).map { _ in malloc(32 << 10)! }
            for block in blocks { memset(block, 1, 32 << 10) }
            let keeper = malloc(32 << 10)!
            memset(keeper, 1, 32 << 10)
            defer { free(keeper) }
            let written = Self.resident()
            for block in blocks { free(block) }
            let freed = Self.resident()
            #expect(written - freed < 16 << 20, "free alone keeps the pages: \(written - freed) bytes left")
            #expect(MemoryRelease.trim())
            let trimmed = Self.resident()
            #expect(freed - trimmed >= 48 << 20, "the trim gave back \(freed - trimmed) bytes of 64 MiB")
        }

        /// This process's resident bytes (VmRSS).
        static func resident() -> Int {
            let line = procText("/proc/self/status").split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
            return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) << 10
        }
    }
#endif

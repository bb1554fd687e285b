// What the controller needs of glibc's allocator that Swift's Glibc module does not give:
// malloc_trim, to hand the free pages of every arena back to the kernel.
#if __has_include(<malloc.h>)
#include <malloc.h>
#endif

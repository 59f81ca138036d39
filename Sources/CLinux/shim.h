// Linux headers that Glibc's Swift module leaves out.
#include <sys/xattr.h>
#include <sys/sysmacros.h>
#include <malloc.h>

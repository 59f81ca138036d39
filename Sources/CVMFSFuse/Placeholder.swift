// CVMFSFuse

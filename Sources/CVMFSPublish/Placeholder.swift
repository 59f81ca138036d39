// CVMFSPublish

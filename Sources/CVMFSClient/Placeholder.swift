// CVMFSClient

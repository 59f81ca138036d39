import Foundation

/// The signed files of the upstream fixture `Tests/Fixtures/small.cvmfs.local` (made by
/// cvmfs_swissknife 2.12), embedded so that the harnesses need no file at run time.
enum Fixture {
    static let fqrn = "small.cvmfs.local"
    /// A time at which the fixture's whitelist (expiry 2036) is valid.
    static let now: Int64 = 1_800_000_000

    /// `repo/.cvmfspublished`.
    static let manifest = decode("""
        Q2U3ZWE5ZjZlZGVjY2UzMmQxZmFiNGJhNjFhNjdmYTM0NWE4NmFiOGEKQjM1NjM1MgpSZDQxZDhjZDk4ZjAwYjIwNGU5ODAwOTk4
        ZWNmODQyN2UKRDI0MApTMQpHbm8KQW5vCk5zbWFsbC5jdm1mcy5sb2NhbApYZWMwM2U3YTBlYWFiOTRhM2QxMDg5OWFiZDAzNzAw
        Mzc4OGE2ZmExZApINmJlNTVmYjJlMzE2M2E5ZjljMzAwZmQxZDlmMDA4Zjc3MTIyZmY1YwpUMTc5NTcwMzY1NQpNYTliMTE3OWY4
        ZTY1OGM1NjI5NDBlOWZmM2NmYzQ5ZmRjMDY1NWE1OQpZZDRlNDBkZjc4NzFiNjgxYTgyODliN2JjMzQzZjVmODA5MGNkM2ZjMgot
        LQplZTQxMGI4ODY0Yjc2ZGFmYzMwMzQzYzE1YWVkODEzMzU3NjdlY2I3CoYvlwELgMl2A3obbWxEWj6dJOzcBDKuf/QQGJiWFr8d
        5BDfAyJsFhkj8NMqxEIWxnspfqfJznNnM9T44dE3Rk3+dpDhh/5uubQcheZ1nhPGl3OAk7O8jaLfudJbhqstZluEKzML/VbZLNVe
        7XbyRfHgfB+0pIh0bizPkHnurcOitAZ2cPl7r9I6Ys3WirDrH/EwzyIXpdCWq9PCI277IAhMrkiHLjvfX0z+2PjnJbBNZiZoJE66
        6zb431UJJCIDWxnvPMbj4dW1BBU86H8onFmJDzpDBiuZwW7bszEhogK0D6bb1umajPkCmi2nUWu+hUKhthpOzDjg1rmpqQ2qmNk=
        """)
    /// `repo/.cvmfswhitelist`.
    static let whitelist = decode("""
        MjAyNjExMjYxNDM0MTQKRTIwMzYxMTIzMTQzNDE0Ck5zbWFsbC5jdm1mcy5sb2NhbAo1NzpCRjoxMToxMTowNTpDRjo4QTo1ODow
        NDpGRjo5QTpGRjo4OTo0Qjo5RDo1Nzo0NTpBMDpGMDpFNgotLQo5MGUwYzgyOWM2NTdkODY4M2RlZDg1N2ZjYjBkYjkwM2QzZTg1
        OWRkCn4LjBEvRba/OHLMt9GkoZQEG+wD/CgNiXs/0Bf5uBsw1tu4MXTmvKJV6bqkBXFtxVlHFzapQd4ojyvczpWzP5XbASxyvXv6
        Hp2qYe6tlskpmrjzx/e5+YHB8MpGmPLE/jWzJvWJa1W+FDO1g+p+gXCoft18gZ0a2SjnSX1nf1gDLSXOlwb35jV06oTxyOZnmujV
        Ef69MdM8KgjaHK1BOWnitdP0D/4Jt4rNDWVtr/pabcqDYFYdR1NmhFVZzL8EQfY/jXut2Xxvyvl3t5AXPk+Cw80b7F1A3dd1v5nt
        q1PWVFKW3GEllxrpam7aHAutENAudygPmChC213bV2zZA2k=
        """)
    /// The certificate object `X` of the manifest, inflated (PEM).
    static let certificate = decode("""
        LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM5VENDQWQwQ0ZIQTdyekV2ZXU4a3Nha1FLYlhoYTl1Q0pQekFNQTBHQ1Nx
        R1NJYjNEUUVCQ3dVQU1EY3gKTlRBekJnTlZCQU1NTEhOdFlXeHNMbU4yYldaekxteHZZMkZzSUVObGNtNVdUUzFHVXlCU1pXeGxZ
        WE5sSUUxaApibUZuWlhKek1CNFhEVEkyTVRFeU5qRTBNelF4TkZvWERUTTJNVEV5TXpFME16UXhORm93TnpFMU1ETUdBMVVFCkF3
        d3NjMjFoYkd3dVkzWnRabk11Ykc5allXd2dRMlZ5YmxaTkxVWlRJRkpsYkdWaGMyVWdUV0Z1WVdkbGNuTXcKZ2dFaU1BMEdDU3FH
        U0liM0RRRUJBUVVBQTRJQkR3QXdnZ0VLQW9JQkFRQ09CQVdlY0VBODl6OHpZcGt6cmh1agpoRExVRS9QS0tWWk9OWVV3UFBzRC9v
        WlAxMmpuN21oS3dmMU8vRG9VRW1jLzVacGFsZ2FwQnpPNk5IazhoTmlWCm9XeEluMmUwcVdjWTZaY3IvYzkzUGYwblhTYWUzSVJx
        Uk5oQ3VSODFjTldkTTBwVEYrWnoyUHBzdGpuK0JibEEKNnRVN05YSitXTEg0cDFUbkFNc2cxekZaamZ3Yjd5bGZBMkM1cFplb1BE
        SllmMmVQMDlGMzR6dTBQQmZMT2g5Rgoya0VKYXY3R2p4OVVGSEZDbmx1Z0pOMDdZQ1hITGZFc0U3TEpqYXoreXQ3RVBDRkxleFhn
        clUrM21LaVRBN3BrCmF3OWxRQ1FYV0lkOE40R0tFT0Jhd0ZYVCt3eWMzbFRmM0VRMDFyNGVUYXRzeFNka0g2MU90Sit4b3hkUTM0
        ZkQKQWdNQkFBRXdEUVlKS29aSWh2Y05BUUVMQlFBRGdnRUJBR3pGN1l0NWROZWRQdlYvdEloKzMwT21oeDNINlcrKwptcTZuSWdw
        N2ErbjEzOFZCZU5ydWl2Ti9tbVFTOFg5RExtbjl5TU10NW53aUxDaWs3Q2VMNm1FeUEzNkZGNjQ2Ck0vNTF6ZFVvcFROYW9yNWY1
        TWJUbi9oeGFLZDRSUmt0Z1c2SGd4VmtRdnBlQ2NEVktUUkxZWXBWSkpFWnlZZGUKbGx6eDIzVGhkcDR2VnVoRDRpVk5mS0dCYk5F
        TFQyclNPN0JMS1h5MWdkNEdmc0FyekRJUlV3SHhYMUN5cUFtQwpScUVpa1V3Z09WaTlsRHY2cFlFSUhERWtlbVRnTnFwTXhZWVdU
        dEpMc1F5QWJiMFNvcDlqMkFPWGMvOWhkTXhBCjZ0M3MzSVJCTm8rWTRTdEgyeTl3L0huVnMvSHFPcVF2Z21pNkpJUDhXWlJzdlcw
        RnlFN0RtZ2c9Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K
        """)
    /// `small.cvmfs.local.pub`: the master public key.
    static let masterKey = decode("""
        LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUlJQklqQU5CZ2txaGtpRzl3MEJBUUVGQUFPQ0FROEFNSUlCQ2dLQ0FRRUF3QW5n
        Q0FPRFlWMjZlUWZyamxjVgpKNitmMk5OODdqem1NL3FIcy9vMnRxQU5uSUJZV1hIcTVJMm43QTRlSnNQc2l2RnRna21MTmJEUXh3
        ZVg0MTlQCmIwN1V3TWR0VS85blg2VlFQYXNlNXMyT2pCL25GWEhXSDduM2w2a0RSNUNNWXB2Q0hpemJRRHZ2Z1JmTnIrVksKNk03
        K2JKZ3I0dHp6UlMvOTZ0bGQ4amIrYTZTeEFkZlEwcWJCR1dqMEw0aFo3VnM5MEpGakFhV2xjWGk5TG5JLwpIb1RuSnZoamF2ZWwz
        VHRZZzFaeFQ3NFdSUkt1bWtlVnoycDR5RmwrR2VVLzgzbmlxZzB5Kzg3MUNWK1c0NmZRCjJONGVRSkR3cVBDR21STW1CMjFZd3FV
        NzU0NTdtaGxZZVFnN1pBUktsQitNTlU1bkdQaXpRcHJIQWRtMlZ3WVAKbFFJREFRQUIKLS0tLS1FTkQgUFVCTElDIEtFWS0tLS0t
        Cg==
        """)

    private static func decode(_ text: String) -> [UInt8] {
        Array(Data(base64Encoded: text.filter { !$0.isWhitespace })!)
    }
}

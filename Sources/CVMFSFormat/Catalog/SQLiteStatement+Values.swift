/// A value bound by position with ``SQLiteStatement/bind(_:)``: the two types
/// the cache database stores. The catalog's hot paths bind typed values one
/// by one instead, so they allocate nothing.
public enum SQLiteValue: Sendable, Equatable {
    case int(Int64)
    case text(String)
}

extension SQLiteStatement {
    /// Resets the statement, then binds `values` to parameters 1, 2, …
    public func bind(_ values: [SQLiteValue]) {
        reset()
        for (offset, value) in values.enumerated() {
            switch value {
            case .int(let number): bind(number, at: Int32(offset + 1))
            case .text(let text): bind(text: text, at: Int32(offset + 1))
            }
        }
    }

    /// Runs a statement that returns no rows, then resets it so that it holds
    /// no read transaction (in WAL mode: no old snapshot) on the connection.
    public func run(_ values: [SQLiteValue] = []) throws(SQLiteError) {
        bind(values)
        defer { reset() }
        _ = try step()
    }

    /// The first column of the first row, 0 when there is none.
    public func scalar(_ values: [SQLiteValue] = []) throws(SQLiteError) -> Int64 {
        bind(values)
        defer { reset() }
        return try step() ? int64(at: 0) : 0
    }
}

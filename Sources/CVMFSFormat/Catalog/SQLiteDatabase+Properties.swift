/// The key/value `properties` table every upstream SQLite file carries
/// (catalogs, the history database, the reflog), with the same SQL.
extension SQLiteDatabase {
    public static let createPropertiesSQL =
        "CREATE TABLE properties (key TEXT, value TEXT, CONSTRAINT pk_properties PRIMARY KEY (key));"

    /// All rows of `properties`; none when the table is missing.
    public func readProperties() throws(SQLiteError) -> [String: String] {
        var properties: [String: String] = [:]
        if try tableExists("properties") {
            let stmt = try prepare("SELECT key, value FROM properties")
            while try stmt.step() {
                if let key = stmt.string(at: 0) { properties[key] = stmt.string(at: 1) ?? "" }
            }
        }
        return properties
    }

    public func setProperty(_ key: String, _ value: String) throws(SQLiteError) {
        try prepare("INSERT OR REPLACE INTO properties (key, value) VALUES (?,?)").run([.text(key), .text(value)])
    }
}

/// One error in a manifest, printed as `FILE:LINE:COLUMN: error: MESSAGE`.
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file as the user named it (or `document N` for a request body).
    public var file: String
    /// 1-based line from the start of the file, whatever document it is in.
    public var line: Int
    /// 1-based column, counted in Unicode scalars.
    public var column: Int
    /// The field path and what is wrong and allowed: `spec.priority: "urgent" is not one of ...`.
    public var message: String

    /// Creates a diagnostic.
    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// The one-line form.
    public var description: String { "\(file):\(line):\(column): error: \(message)" }
}

/// Where an object was declared: file, 0-based document index within it, and the document's
/// first line and column.
public struct SourceLocation: Sendable, Hashable {
    /// The file as the user named it.
    public var file: String
    /// 0-based index of the document within the file.
    public var document: Int
    /// 1-based line of the document's root.
    public var line: Int
    /// 1-based column of the document's root.
    public var column: Int

    /// Creates a location.
    public init(file: String, document: Int, line: Int, column: Int) {
        self.file = file
        self.document = document
        self.line = line
        self.column = column
    }

    /// A diagnostic at this location.
    public func diagnostic(_ message: String) -> Diagnostic {
        Diagnostic(file: file, line: line, column: column, message: message)
    }
}

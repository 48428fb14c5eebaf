// Errors of the data path: one line naming the file (and block and byte offset where there is
// one), and a hint saying what to do.

public struct DataError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let problem: String
    public let hint: String

    public init(_ file: String, _ problem: String, hint: String) {
        self.file = file
        self.problem = problem
        self.hint = hint
    }

    public var description: String { "\(file): \(problem). HINT: \(hint)" }
}

// Errors a user can meet when handing srgan-dist a model file: one line naming the file and the
// problem, and a hint saying what to do.

public struct ModelFileError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let problem: String
    public let hint: String

    public init(file: String, problem: String, hint: String) {
        self.file = file
        self.problem = problem
        self.hint = hint
    }

    public var description: String { "\(file): \(problem). HINT: \(hint)" }
}
